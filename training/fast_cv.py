"""Grouped cross-validation of the fast model's variants, beside the n-gram model, in one run.

    python -m training.fast_cv                                  # gold only
    python -m training.fast_cv --teacher training/runs/distill  # also with the teacher's soft labels

Each variant is scored with the folds of `nlp.train.grouped_folds` (by local authority), so its
figures line up with the model cards. With `--teacher`, the fold-k student also learns from
corpus findings labelled by the teacher of fold k (`training.distill`), none of them from an
authority of fold k's test set, nor a gold finding. Results go to `training/reports/fast-cv.json`
as they come.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import typer

from nlp.models.training import make_ngram_classifier, theme_cues
from nlp.models.fast import DistilledFindings, FastFindingClassifier, FindingFeaturizer, PolarityHead, ThemeHead
from nlp.scoring import evaluate, theme_matrix
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import grouped_folds
from training.distill import teacher_labels
from training.train import load_gold

app = typer.Typer(add_completion=False)

HEADLINE = ("theme_micro_f1", "theme_macro_f1", "polarity_macro_f1", "mixed_recall", "pair_f1")


def headline(metrics: dict) -> dict:
    return {
        "theme_micro_f1": metrics["themes"]["micro_f1"],
        "theme_macro_f1": metrics["themes"]["macro_f1"],
        "polarity_macro_f1": metrics["polarity"]["macro_f1"],
        "mixed_recall": metrics["polarity"]["per_class"]["mixed"]["recall"],
        "pair_f1": metrics["theme_polarity_pairs"]["f1"],
    }


def make_student(settings: dict):
    """The fast model `settings` describe, or today's n-gram model when they say `{"ngram": true}`."""
    if settings.get("ngram"):
        return make_ngram_classifier(None, DEFAULT_TAXONOMY)
    cues = theme_cues(DEFAULT_TAXONOMY) if settings.get("cues") else None
    return FastFindingClassifier(
        featurizer=FindingFeaturizer(**settings.get("featurizer", {}), cues=cues),
        themes=ThemeHead(labels=DEFAULT_TAXONOMY.theme_ids, **settings.get("themes", {})),
        polarity=PolarityHead(**settings.get("polarity", {})),
        **settings.get("finding", {}),
    )


def cross_validate(records: list[dict], settings: dict, teacher: Path | None, weight: float, folds: int = 5) -> tuple[dict, float]:
    """Out-of-fold figures of the fast model with `settings`, and the seconds it took."""
    started = time.perf_counter()
    texts = [r["text"] for r in records]
    Y = theme_matrix([r["themes"] for r in records], DEFAULT_TAXONOMY.theme_ids)
    predictions = [None] * len(records)
    for k, (train, test) in enumerate(grouped_folds(records, folds)):
        distilled = None
        if teacher is not None:
            taught = teacher_labels(teacher, k)
            distilled = DistilledFindings(taught["texts"], taught["polarity"], taught["groups"], weight)
        model = make_student(settings).fit(
            [texts[i] for i in train],
            Y[train],
            [records[i]["polarity"] for i in train],
            [records[i]["theme_polarity"] for i in train],
            [records[i]["local_authority"] for i in train],
            **({"distilled": distilled} if distilled is not None else {}),
        )
        for i, label in zip(test, model.predict([texts[i] for i in test], with_evidence=False)):
            predictions[i] = label
    return evaluate(records, predictions, DEFAULT_TAXONOMY.theme_ids), round(time.perf_counter() - started, 1)


@app.command()
def main(
    variants: Path = typer.Option(Path("training/configs/fast-variants.json"), help="JSON: variant name -> settings."),
    teacher: Path = typer.Option(None, help="Folder of the teacher's fold labels (training.distill)."),
    weights: str = typer.Option("0.3", help="Comma-separated weights of a distilled row, tried in turn."),
    only: str = typer.Option("", help="Comma-separated variant names to run (default: all)."),
    output: Path = typer.Option(Path("training/reports/fast-cv.json")),
) -> None:
    records = load_gold(Path("training/data/gold/gold.jsonl"))
    settings = json.loads(variants.read_text())
    names = [n for n in settings if not only or n in only.split(",")]
    results = json.loads(output.read_text()) if output.exists() else {}
    for name in names:
        for weight in ([float(w) for w in weights.split(",")] if teacher else [None]):
            key = name if weight is None else f"{name}+distilled@{weight}"
            metrics, seconds = cross_validate(records, settings[name], teacher, weight or 0.0)
            results[key] = {"settings": settings[name], "seconds": seconds, **headline(metrics), "metrics": metrics}
            output.write_text(json.dumps(results, indent=2) + "\n")
            typer.echo(f"{key}: " + " ".join(f"{h} {results[key][h]:.3f}" for h in HEADLINE) + f" ({seconds} s)")


if __name__ == "__main__":
    app()
