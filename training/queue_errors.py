"""Does `suggest` find a trained model's mistakes? Its error rate on its top suggestions vs on all findings.

    python -m training.queue_errors [--model accurate] [--compare fast] [--top 100]

The model is a committed one, measured leak-free through its fold models (written by
`training.train` under `training/runs/fold-models/<name>-<version>/`): each gold finding is ranked
and labelled by the fold model that never saw its authority's gold, exactly as `suggest` ranks a
corpus (`--compare`: the second model whose disagreement adds to the rank, by its fold models of
the same folds). `training.simulate_suggest` measures the same for the n-gram model it trains; this
measures the models users rank with. The figures go to `training/reports/queue-errors.json` (or
`--output`).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from nlp.classify import resolve_model
from nlp.model_scores import scorer_for_model
from training.grade_validity import RUNS
from training.simulate_suggest import OUTPUT as SIMULATION_OUTPUT
from training.simulate_suggest import load_records, queue_errors
from training.train import fold_models_folder, read_fold_models

OUTPUT = SIMULATION_OUTPUT.with_name("queue-errors.json")


def fold_splits(records: list[dict], fold_of: dict[str, int]) -> list[tuple[list[int], list[int]]]:
    """(training, held-out) record indices of each fold, by the fold each authority was tested in."""
    missing = sorted({r["local_authority"] for r in records} - set(fold_of))
    if missing:
        raise SystemExit(f"the fold models were trained on other gold: no fold holds {missing[:3]}; retrain them.")
    folds = range(max(fold_of.values()) + 1)
    return [
        (
            [i for i, r in enumerate(records) if fold_of[r["local_authority"]] != k],
            [i for i, r in enumerate(records) if fold_of[r["local_authority"]] == k],
        )
        for k in folds
    ]


def main(
    model: str = typer.Option("accurate", help="The model that ranks (short name or folder); its fold models are used."),
    compare: str = typer.Option(None, help="A second model whose disagreement adds to the rank (its fold models too)."),
    gold: Path = typer.Option(Path("training/data/gold/gold.jsonl"), exists=True),
    top: int = typer.Option(100, help="Length of the queues whose error rate is measured."),
    seed: int = typer.Option(0),
    output: Path = typer.Option(OUTPUT),
) -> None:
    records = load_records(gold)
    folders = {name: fold_models_folder(RUNS, resolve_model(name).name) for name in filter(None, (model, compare))}
    fold_of = read_fold_models(folders[model])
    if compare and read_fold_models(folders[compare]) != fold_of:
        raise SystemExit(f"{folders[model]} and {folders[compare]} were cross-validated on different folds.")

    def fold_scorers(fold: int, train_records: list[dict]):
        second = scorer_for_model(folders[compare] / f"fold-{fold}") if compare else None
        return scorer_for_model(folders[model] / f"fold-{fold}"), second

    result = {
        "model": folders[model].name,
        "compare": folders[compare].name if compare else None,
        "gold": str(gold),
        "gold_findings": len(records),
        "top": top,
        "seed": seed,
        "leak_free": "each gold finding ranked and labelled by the fold model that never saw its authority's gold",
        **queue_errors(records, fold_splits(records, fold_of), fold_scorers, top, seed),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    typer.echo(json.dumps(result["merged"], indent=1))
    typer.echo(f"-> {output}")


if __name__ == "__main__":
    typer.run(main)
