"""Grouped cross-validation of the fast model's variants, beside the n-gram model, in one run.

    python -m training.fast_cv                                  # gold only
    python -m training.fast_cv --teacher training/runs/distill  # also with the teacher's labels

Each variant is cross-validated by `nlp.train.fast_out_of_fold` (the n-gram model by
`ngram_out_of_fold`), the code and folds (by local authority) behind a model card's figures; its
headline figures are `nlp.train.performance_summary`'s (rows written before this script used
them call the pair F1 `pair_f1`). With `--teacher`, the fold-k student also learns from
corpus findings labelled by the teacher of fold k (`training.distill`), none of them from an
authority of fold k's test set, nor a gold finding. Results go to `training/reports/fast-cv.json`
as they come.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from nlp.scoring import evaluate
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import TrainingSettings, fast_out_of_fold, ngram_out_of_fold, performance_summary
from training.distill import teacher
from training.train import load_gold

app = typer.Typer(add_completion=False)


def cross_validate(records: list[dict], settings: dict, teacher_folder: Path | None, weight: float, themes: bool = True) -> tuple[dict, float]:
    """Out-of-fold figures of the variant `settings` (`[fast]` blocks, or `{"ngram": true}` for the
    n-gram model), as `nlp.train` computes them for a model card, and the seconds it took."""
    started = time.perf_counter()
    if settings.get("ngram"):
        cv = ngram_out_of_fold(records, DEFAULT_TAXONOMY, TrainingSettings())
    else:
        fold_teacher = teacher(teacher_folder, weight, themes) if teacher_folder is not None else None
        cv = fast_out_of_fold(records, DEFAULT_TAXONOMY, TrainingSettings(kind="fast", fast=settings), fold_teacher)
    return evaluate(records, cv.predictions, DEFAULT_TAXONOMY.theme_ids), round(time.perf_counter() - started, 1)


def teacher_sizes(folder: Path) -> list[int]:
    """How many teacher-labelled findings each fold's student learns from."""
    return [len(teacher(folder, 1.0)(k).texts) for k in range(TrainingSettings().folds)]


@app.command()
def main(
    variants: Path = typer.Option(Path("training/configs/fast-variants.json"), help="JSON: variant name -> `[fast]` blocks."),
    teacher_folder: Path = typer.Option(None, "--teacher", help="Folder of the teacher's fold labels (training.distill)."),
    weights: str = typer.Option("0.3", help="Comma-separated weights of a distilled polarity row, tried in turn."),
    themes: bool = typer.Option(True, help="Also learn the teacher's theme decisions (older runs learnt its polarity only)."),
    only: str = typer.Option("", help="Comma-separated variant names to run (default: all)."),
    output: Path = typer.Option(Path("training/reports/fast-cv.json")),
) -> None:
    records = load_gold(Path("training/data/gold/gold.jsonl"))
    settings = json.loads(variants.read_text())
    names = [n for n in settings if not only or n in only.split(",")]
    results = json.loads(output.read_text()) if output.exists() else {}
    for name in names:
        for weight in ([float(w) for w in weights.split(",")] if teacher_folder else [None]):
            key = name if weight is None else f"{name}+distilled{'+themes' if themes else ''}@{weight}"
            metrics, seconds = cross_validate(records, settings[name], teacher_folder, weight or 0.0, themes)
            headline = performance_summary({"model": metrics})
            taught = {} if weight is None else {"teacher": {"folder": str(teacher_folder), "themes": themes, "findings_per_fold": teacher_sizes(teacher_folder)}}
            results[key] = {"settings": settings[name], **taught, "seconds": seconds, **headline, "metrics": metrics}
            output.write_text(json.dumps(results, indent=2) + "\n")
            typer.echo(f"{key}: " + " ".join(f"{figure} {value:.3f}" for figure, value in headline.items()) + f" ({seconds} s)")


if __name__ == "__main__":
    app()
