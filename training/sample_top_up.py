"""Draw a top-up batch for themes still short of 30 gold positives (seeded, reproducible).

    python -m training.sample_top_up --theme youth_justice --count 45 --batch 6
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import typer

from nlp.corpus import corpus_dir
from nlp.lexicon import THEME_PATTERNS
from training.sample_for_annotation import readable_findings


def main(
    theme: list[str] = typer.Option(..., help="Theme(s) whose cue-matched findings to draw."),
    count: int = typer.Option(45, help="Findings per theme."),
    batch: str = typer.Option(..., help="Name of the new batch."),
    annotation_dir: Path = typer.Option(Path("training/data/annotation")),
    seed: int = typer.Option(29),
) -> None:
    # Segmentation may have changed since earlier batches: what was read is known by its text.
    taken = {
        (record["report_id"], record["text"])
        for path in annotation_dir.glob("batch_*.jsonl")
        for record in map(json.loads, open(path, encoding="utf-8"))
    }
    findings = [f for f in readable_findings(corpus_dir()) if (f["report_id"], f["text"]) not in taken]
    rng = random.Random(seed)
    chosen: dict[str, dict] = {}
    for name in theme:
        candidates = [f for f in findings if THEME_PATTERNS[name].search(f["text"]) and f["id"] not in chosen]
        for finding in rng.sample(candidates, min(count, len(candidates))):
            chosen[finding["id"]] = finding
    selected = list(chosen.values())
    rng.shuffle(selected)
    out = annotation_dir / f"batch_{batch}.jsonl"
    out.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in selected), encoding="utf-8")
    typer.echo(f"{len(selected)} findings -> {out}")


if __name__ == "__main__":
    typer.run(main)
