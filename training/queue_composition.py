"""What an annotation queue drawn by `suggest` is made of, next to the gold set and the corpus.

    python -m training.queue_composition training/data/annotation/queue_7.jsonl

Counts per framework, year, kind, theme and polarity for the queue, gold and all corpus findings,
and for the queue how many authorities and reports it spans and the most it takes from one report.
Themes and polarity of the queue are given twice: the model's pre-annotation, and the weak labels
(`training/data/weak/`, rules, never gold) that cover every corpus finding, so the queue and the
corpus are compared by the same yardstick. Gold is counted by its gold labels. Writes
`training/reports/<queue name>-composition.json` and prints the tables as markdown.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import typer

from nlp.taxonomy import KINDS, POLARITIES, THEME_IDS
from training.simulate_suggest import WEAK_THEMES, load_records

GOLD = Path("training/data/gold/gold.jsonl")
WEAK = Path("training/data/weak/weak_labels.jsonl.gz")
REPORTS = Path("training/reports")


def load_weak(path: Path) -> dict[str, dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return {record["id"]: record for record in map(json.loads, handle)}


def shares(values: list, keys) -> dict:
    counts = Counter(values)
    return {str(key): round(counts[key] / max(len(values), 1), 3) for key in keys}


def describe(records: list[dict], themes: list[list[str]], polarities: list[str]) -> dict:
    """Shares of findings per framework, year, kind, polarity and theme (a finding may have several themes)."""
    return {
        "findings": len(records),
        "framework": shares([r["framework"] for r in records], sorted({r["framework"] for r in records})),
        "year": shares([r["year"] for r in records], sorted({r["year"] for r in records})),
        "kind": shares([r["kind"] for r in records], KINDS),
        "polarity": shares(polarities, POLARITIES),
        "theme": {t: round(sum(t in labels for labels in themes) / max(len(records), 1), 3) for t in THEME_IDS},
        "no_theme": round(sum(not labels for labels in themes) / max(len(records), 1), 3),
        "weak_theme_findings": sum(any(t in WEAK_THEMES for t in labels) for labels in themes),
    }


def composition(queue: list[dict], gold: list[dict], weak: dict[str, dict]) -> dict:
    in_queue_weak = [weak[r["id"]] for r in queue]
    per_report = Counter(r["report_id"] for r in queue)
    return {
        "queue": {
            "pre_annotation": describe(
                queue, [r["pre_annotation"]["themes"] for r in queue], [r["pre_annotation"]["polarity"] for r in queue]
            ),
            "weak_labels": describe(queue, [w["weak_themes"] for w in in_queue_weak], [w["weak_polarity"] for w in in_queue_weak]),
            "drawn": dict(Counter(r["drawn"] for r in queue)),
            "authorities": len({r["local_authority"] for r in queue}),
            "reports": len(per_report),
            "max_per_report": max(per_report.values()),
            "reports_per_count": {str(k): v for k, v in sorted(Counter(per_report.values()).items())},
        },
        "gold": describe(gold, [r["themes"] for r in gold], [r["polarity"] for r in gold]),
        "corpus_weak_labels": describe(
            list(weak.values()), [w["weak_themes"] for w in weak.values()], [w["weak_polarity"] for w in weak.values()]
        ),
    }


def markdown(result: dict) -> str:
    queue, weak_view, gold, corpus = (
        result["queue"]["pre_annotation"],
        result["queue"]["weak_labels"],
        result["gold"],
        result["corpus_weak_labels"],
    )
    columns = "| | queue (pre-annotation) | queue (weak labels) | gold | corpus (weak labels) |\n| --- | --- | --- | --- | --- |"
    lines = [columns]
    for section in ("framework", "kind", "polarity", "year", "theme"):
        for key in corpus[section] | gold[section] | queue[section]:
            values = [view[section].get(key, 0.0) for view in (queue, weak_view, gold, corpus)]
            lines.append(f"| {section} {key} | " + " | ".join(f"{v:.1%}" for v in values) + " |")
    return "\n".join(lines)


def main(
    queue_path: Path = typer.Argument(..., exists=True),
    gold_path: Path = typer.Option(GOLD),
    weak_path: Path = typer.Option(WEAK),
) -> None:
    queue = load_records(queue_path)
    result = composition(queue, load_records(gold_path), load_weak(weak_path))
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{queue_path.stem}-composition.json").write_text(json.dumps(result, indent=1) + "\n")
    summary = {k: v for k, v in result["queue"].items() if k not in ("pre_annotation", "weak_labels")}
    typer.echo(json.dumps(summary))
    typer.echo(markdown(result))


if __name__ == "__main__":
    typer.run(main)
