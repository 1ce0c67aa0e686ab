"""Inter-annotator agreement on the double-annotated subset: the human ceiling for the model.

Per-theme F1 between the two readings (F1 is symmetric, so neither is "the truth"), micro and macro
theme F1, Cohen's kappa for finding polarity, and (theme, polarity) pair F1.

    python -m training.agreement
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
from sklearn.metrics import cohen_kappa_score, f1_score

from nlp.taxonomy import POLARITIES, THEME_IDS

ANNOTATION_DIR = Path("training/data/annotation")
PRIMARY_GLOB = "labels_[0-9]*.jsonl"
SECOND_FILE = "labels_double.jsonl"


def load_labels(path: Path) -> dict[str, dict]:
    with open(path, encoding="utf-8") as handle:
        return {record["id"]: record for record in map(json.loads, handle) if record}


def theme_matrix(records: list[dict]) -> np.ndarray:
    return np.array([[theme in r["themes"] for theme in THEME_IDS] for r in records], dtype=int)


def pair_set(record: dict) -> set[tuple[str, str]]:
    return set(record["theme_polarity"].items())


def pair_f1(first: list[dict], second: list[dict]) -> float:
    true_positive = sum(len(pair_set(a) & pair_set(b)) for a, b in zip(first, second))
    total = sum(len(pair_set(a)) + len(pair_set(b)) for a, b in zip(first, second))
    return 2 * true_positive / total if total else 1.0


def agreement(first: list[dict], second: list[dict]) -> dict:
    """Agreement figures between two label lists over the same findings, in the same order."""
    a, b = theme_matrix(first), theme_matrix(second)
    per_theme = {
        theme: {
            "f1": round(float(f1_score(a[:, i], b[:, i], zero_division=1.0)), 3),
            "support_first": int(a[:, i].sum()),
            "support_second": int(b[:, i].sum()),
        }
        for i, theme in enumerate(THEME_IDS)
    }
    present = [i for i in range(len(THEME_IDS)) if a[:, i].any() or b[:, i].any()]
    polarity_a = [r["polarity"] for r in first]
    polarity_b = [r["polarity"] for r in second]
    return {
        "findings": len(first),
        "theme_micro_f1": round(float(f1_score(a, b, average="micro", zero_division=1.0)), 3),
        "theme_macro_f1": round(float(f1_score(a[:, present], b[:, present], average="macro", zero_division=1.0)), 3),
        "polarity_kappa": round(float(cohen_kappa_score(polarity_a, polarity_b, labels=list(POLARITIES))), 3),
        "polarity_accuracy": round(float(np.mean([x == y for x, y in zip(polarity_a, polarity_b)])), 3),
        "polarity_macro_f1": round(float(f1_score(polarity_a, polarity_b, labels=list(POLARITIES), average="macro")), 3),
        "pair_f1": round(pair_f1(first, second), 3),
        "per_theme": per_theme,
    }


def double_annotated_pairs(annotation_dir: Path) -> tuple[list[dict], list[dict]]:
    """(first reading, second reading) of every finding that was read twice."""
    primary: dict[str, dict] = {}
    for path in sorted(annotation_dir.glob(PRIMARY_GLOB)):
        primary.update(load_labels(path))
    second = load_labels(annotation_dir / SECOND_FILE)
    shared = [finding_id for finding_id in second if finding_id in primary]
    return [primary[i] for i in shared], [second[i] for i in shared]


def main(
    annotation_dir: Path = typer.Option(ANNOTATION_DIR),
    out: Path = typer.Option(Path("training/data/agreement.json")),
) -> None:
    first, second = double_annotated_pairs(annotation_dir)
    figures = agreement(first, second)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    typer.echo(
        f"{figures['findings']} findings read twice: theme micro-F1 {figures['theme_micro_f1']}, "
        f"macro-F1 {figures['theme_macro_f1']}, polarity kappa {figures['polarity_kappa']}, pair F1 {figures['pair_f1']}"
    )


if __name__ == "__main__":
    typer.run(main)
