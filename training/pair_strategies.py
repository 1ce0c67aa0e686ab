"""Grouped CV of each `FindingStacker` pair strategy on one run's out-of-fold outputs.

Reads the encoder's fold outputs and the n-gram model's cross-validation that `training.train`
kept in the runs folder (run it first with the same config), stacks them once per pair strategy on
the same folds, and writes pair precision, recall and F1, overall and per fold, for each encoder
precision. Themes and finding polarity do not depend on the pair strategy, so they are not repeated.

    python -m training.pair_strategies training/configs/default.cfg
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from thinc.api import Config

from nlp import encoder_cv
from nlp.models.stacking import PAIR_STRATEGIES, FindingStacker, StackInputs
from nlp.scoring import evaluate
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import grouped_folds, stacked_cross_validation
from training.encoder_cv import run_folder
from training.train import cached_ngram_out_of_fold, load_gold, settings_from

app = typer.Typer(add_completion=False)


@app.command()
def main(
    config_path: Path = typer.Argument(Path("training/configs/default.cfg"), exists=True),
    output: Path = typer.Option(Path("training/reports/pair-strategies.json"), help="Where the figures go."),
) -> None:
    """Score every pair strategy on the cached out-of-fold outputs of `config_path`'s run."""
    config = Config().from_disk(config_path)
    settings = settings_from(config)
    records = load_gold(Path(config["paths"]["gold"]), settings.folds)
    folder = run_folder(config, records)
    if not (folder / f"fold-{settings.folds - 1}-int8.npz").exists():
        raise SystemExit(f"{folder} holds no finished encoder folds: run `python -m training.train {config_path}` first.")
    ngram = cached_ngram_out_of_fold(config, records, settings)
    folds = grouped_folds(records, settings.folds, settings.group_by, settings.seed)
    labels = DEFAULT_TAXONOMY.theme_ids
    figures: dict = {"config": str(config_path), "findings": len(records), "folds": len(folds)}
    for precision in encoder_cv.PRECISIONS:
        oof = encoder_cv.encoder_oof(len(records), len(folds), precision, folder)
        inputs = StackInputs.from_outputs(oof, ngram.theme_probabilities, ngram.polarity_probabilities)
        for strategy in PAIR_STRATEGIES:
            stacker_settings = dict(settings.stacker, pair_strategy=strategy)
            predictions, _, _ = stacked_cross_validation(
                records, inputs, lambda: FindingStacker(**stacker_settings, labels=labels, polarities=DEFAULT_TAXONOMY.polarities), folds, labels
            )
            pairs = evaluate(records, predictions, labels, with_calibration=False)["theme_polarity_pairs"]
            per_fold = [
                evaluate([records[i] for i in test], [predictions[i] for i in test], labels, with_calibration=False)["theme_polarity_pairs"]["f1"]
                for _, test in folds
            ]
            figures[f"{precision}/{strategy}"] = {**pairs, "f1_per_fold": per_fold}
            typer.echo(f"{precision} {strategy}: pair F1 {pairs['f1']} (folds {per_fold})")
    output.write_text(json.dumps(figures, indent=2) + "\n")
    typer.echo(f"-> {output}")


if __name__ == "__main__":
    app()
