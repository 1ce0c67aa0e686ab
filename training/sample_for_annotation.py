"""Draw the findings that annotators read for the gold set (seeded, reproducible).

A stratified random draw over reports (framework, year, overall grade) and finding kinds, topped up
with findings whose wording suggests a rare theme so that every theme can reach 30 positives. The
cue lexicon only decides *which findings are read*; the labels come from reading them.

    python -m training.sample_for_annotation --out training/data/annotation
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import typer

from nlp.corpus import corpus_dir, corpus_findings
from nlp.lexicon import THEME_PATTERNS

RARE_THEME_TARGET = 45  # read this many cue-matched candidates per theme; about 2/3 turn out positive
MIN_CHARS = 40


SAMPLED_FIELDS = (
    "id", "report_id", "index", "local_authority", "framework", "year", "overall_judgement", "kind", "section", "area", "text",
)


def readable_findings(corpus: Path) -> list[dict]:
    """Every finding of the corpus (the findings component's) long enough to be read for annotation."""
    return [
        {name: finding[name] for name in SAMPLED_FIELDS}
        for finding in corpus_findings(corpus)
        if len(finding["text"]) >= MIN_CHARS
    ]


def draw(findings: list[dict], total: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    chosen: dict[str, dict] = {}
    by_theme = defaultdict(list)
    for finding in findings:
        for theme, pattern in THEME_PATTERNS.items():
            if pattern.search(finding["text"]):
                by_theme[theme].append(finding)
    # Rare themes first, so that their quota is drawn from findings not yet taken.
    for theme in sorted(by_theme, key=lambda t: len(by_theme[t])):
        candidates = [f for f in by_theme[theme] if f["id"] not in chosen]
        rng.shuffle(candidates)
        for finding in candidates[:RARE_THEME_TARGET]:
            chosen[finding["id"]] = finding
    strata = defaultdict(list)
    for finding in findings:
        if finding["id"] not in chosen:
            strata[(finding["framework"], finding["year"] // 3, finding["overall_judgement"], finding["kind"])].append(finding)
    # Round-robin over strata keeps every framework, period, grade and kind represented.
    groups = [rng.sample(g, len(g)) for g in strata.values()]
    while len(chosen) < total and any(groups):
        for group in groups:
            if group and len(chosen) < total:
                finding = group.pop()
                chosen[finding["id"]] = finding
    selected = list(chosen.values())
    rng.shuffle(selected)
    return selected


def main(
    out: Path = typer.Option(Path("training/data/annotation"), help="Folder for the annotation batches."),
    total: int = typer.Option(1600, help="Findings to draw."),
    batches: int = typer.Option(5, help="Batches for first annotation."),
    double: int = typer.Option(300, help="Findings also given to a second, independent annotator."),
    seed: int = typer.Option(13),
) -> None:
    findings = readable_findings(corpus_dir())
    selected = draw(findings, total, seed)
    out.mkdir(parents=True, exist_ok=True)
    for b in range(batches):
        batch = selected[b::batches]
        (out / f"batch_{b + 1}.jsonl").write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in batch))
    second = random.Random(seed + 1).sample(selected, double)
    (out / "batch_double.jsonl").write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in second))
    typer.echo(f"{len(selected)} findings from {len({f['report_id'] for f in selected})} reports; {double} double-annotated")


if __name__ == "__main__":
    typer.run(main)
