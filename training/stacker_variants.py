"""Grouped CV of `FindingStacker` variants on one run's out-of-fold outputs.

Reads the encoder's fold outputs and the n-gram model's cross-validation that `training.train`
kept in the runs folder (run it first with the same config), cross-validates the fast model of the
config's `[fast]` blocks on the gold alone (no teacher; the accurate model's second opinion, a few
minutes), and stacks them once per variant on the same folds, changing one `[stacker]` setting of
the config at a time:

- every pair strategy (`PAIR_STRATEGIES`), with each encoder precision;
- weights of `mixed` in the finding polarity regression (`polarity_class_weight`), with the
  config's precision;
- both `ngram_polarity` settings (whether the polarity regression reads the second opinion's
  polarity probabilities), with the fast model and with the n-gram model (`FindingClassifier`,
  the second opinion before 0.4.0: three featurisation passes instead of one) as second opinion.

For each variant: themes, finding polarity, `mixed` precision and recall and pair F1, overall and
per fold. The encoder is not retrained, so a variant costs seconds.

    python -m training.stacker_variants training/configs/default.cfg
    python -m training.stacker_variants training/configs/default.cfg --encoder.finetune.theme_attention true \
        --output training/reports/encoder-cv-theme-attention.json    # another run's folds (`--section.key value`)
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from spacy.cli._util import parse_config_overrides
from thinc.api import Config

from nlp import encoder_cv
from nlp.models.stacking import MIXED, PAIR_STRATEGIES, FindingStacker, StackInputs
from nlp.scoring import evaluate
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import fast_out_of_fold, grouped_folds, stacked_cross_validation
from training.encoder_cv import run_folder
from training.train import cached_ngram_out_of_fold, gold_of, settings_from

app = typer.Typer(add_completion=False)


def _figures(records: list[dict], predictions: list, labels: tuple[str, ...]) -> dict:
    scores = evaluate(records, predictions, labels, with_calibration=False)
    mixed = scores["polarity"]["per_class"][MIXED]
    return {
        "theme_micro_f1": scores["themes"]["micro_f1"],
        "theme_macro_f1": scores["themes"]["macro_f1"],
        "polarity_macro_f1": scores["polarity"]["macro_f1"],
        "mixed_precision": mixed["precision"],
        "mixed_recall": mixed["recall"],
        "pair_precision": scores["theme_polarity_pairs"]["precision"],
        "pair_recall": scores["theme_polarity_pairs"]["recall"],
        "pair_f1": scores["theme_polarity_pairs"]["f1"],
    }


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    config_path: Path = typer.Argument(Path("training/configs/default.cfg"), exists=True),
    mixed_weights: list[float] = typer.Option([1.0, 1.25, 1.5, 1.75, 2.0], "--mixed-weight", help="Weights of `mixed` to try."),
    output: Path = typer.Option(Path("training/reports/stacker-variants.json"), help="Where the figures go."),
) -> None:
    """Score stacker variants on the cached out-of-fold outputs of `config_path`'s run (`--section.key value`
    overrides any config value, as for `training.train`)."""
    overrides = parse_config_overrides(ctx.args)
    config = Config().from_disk(config_path, overrides=overrides)
    settings = settings_from(config)
    records = gold_of(config)
    folder = run_folder(config, records)
    if not (folder / f"fold-{settings.folds - 1}-int8.npz").exists():
        raise SystemExit(f"{folder} holds no finished encoder folds: run `python -m training.train {config_path}` first.")
    folds = grouped_folds(records, settings.folds, settings.group_by, settings.seed)
    labels = DEFAULT_TAXONOMY.theme_ids
    second_opinions = {
        "fast": fast_out_of_fold(records, DEFAULT_TAXONOMY, settings),
        "ngram": cached_ngram_out_of_fold(config, records, settings),
    }
    inputs = {
        (precision, name): StackInputs.from_outputs(
            encoder_cv.encoder_oof(len(records), len(folds), precision, folder), cv.theme_probabilities, cv.polarity_probabilities
        )
        for precision in encoder_cv.PRECISIONS
        for name, cv in second_opinions.items()
    }
    configured = config["encoder"]["precision"]
    variants = [(precision, "fast", {"pair_strategy": strategy}) for precision in encoder_cv.PRECISIONS for strategy in PAIR_STRATEGIES]
    variants += [(configured, "fast", {"polarity_class_weight": {MIXED: weight}}) for weight in mixed_weights]
    variants += [(configured, name, {"ngram_polarity": value}) for name in second_opinions for value in (False, True)]
    figures: dict = {"config": str(config_path), "overrides": overrides, "findings": len(records), "folds": len(folds), "stacker": settings.stacker, "variants": []}
    for precision, second_opinion, change in variants:
        stacker_settings = {**settings.stacker, **change}
        predictions, _, _ = stacked_cross_validation(
            records, inputs[precision, second_opinion], lambda: FindingStacker(**stacker_settings, labels=labels, polarities=DEFAULT_TAXONOMY.polarities), folds, labels
        )
        per_fold = [_figures([records[i] for i in test], [predictions[i] for i in test], labels) for _, test in folds]
        result = {
            "precision": precision,
            "second_opinion": second_opinion,
            "change": change,
            **_figures(records, predictions, labels),
            "pair_f1_per_fold": [fold["pair_f1"] for fold in per_fold],
            "mixed_recall_per_fold": [fold["mixed_recall"] for fold in per_fold],
            "polarity_macro_f1_per_fold": [fold["polarity_macro_f1"] for fold in per_fold],
        }
        figures["variants"].append(result)
        typer.echo(json.dumps({key: value for key, value in result.items() if not key.endswith("per_fold")}))
        output.write_text(json.dumps(figures, indent=2) + "\n")
    typer.echo(f"-> {output}")


if __name__ == "__main__":
    app()
