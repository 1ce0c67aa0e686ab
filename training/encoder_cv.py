"""Fine-tune the encoder once per grouped fold of the gold set, or draw a validation curve.

    python -m training.encoder_cv folds training/configs/default.cfg     # the 5 fold models
    python -m training.encoder_cv final training/configs/default.cfg     # the encoder of all gold
    python -m training.encoder_cv curve training/configs/default.cfg     # a validation curve

`folds` runs `nlp.encoder_cv.run_folds` (what `training.train` runs first for the accurate kind)
into `training/runs/encoder-cv/<run>/`, one folder per (gold set, encoder settings, folds): the
out-of-fold head outputs of every gold finding, the fold models (ONNX and heads, for leak-free
labelling of the corpus by `training.grade_validity`) and the time, peak memory and loss curve of
each fold in `folds.json`. A finished fold is not redone. `--fold` shares the folds out among
processes, e.g. on 2 cores `folds --fold 2 --encoder.finetune.threads 1` and `folds --fold 3
--encoder.finetune.threads 1` at the same time (the number of threads does not change the run folder).
`final` fine-tunes the encoder on all the gold into the same run folder, where `training.train`
finds it and does not fine-tune it again, so that it too can run beside the folds.

`curve` holds out a fifth of the training authorities of fold 0 and reports their scores after
every epoch, to choose the number of epochs without looking at any test fold.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import typer
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, GroupShuffleSplit
from spacy.cli._util import parse_config_overrides
from thinc.api import Config

from nlp.encoder_cv import SelfTraining, encoder_targets, final_encoder, run_folds, run_students
from nlp.finetune import FinetuneSettings, LoadedEncoder, finetune, load_base_encoder
from nlp.models.stacking import FindingStacker, StackInputs
from nlp.scoring import evaluate, theme_matrix
from nlp.taxonomy import DEFAULT_TAXONOMY, POLARITIES
from nlp.models.training import DEFAULT_GROUP_FIELD
from nlp.train import grouped_folds

app = typer.Typer(add_completion=False)


def encoder_only_scores(themes, polarity, pairs, theme_logits, polarity_logits, pair_logits) -> dict:
    """The encoder heads' own figures on findings with gold `themes`, `polarity` and `pairs` (as
    `encoder_targets` gives them), before any stacking: theme micro-F1 at 0.5 and at the best single
    threshold (an optimistic figure, read only to compare runs), theme macro-F1 at 0.5, polarity
    macro-F1, `mixed` recall and the accuracy of the gold themes' polarities."""
    probabilities = 1 / (1 + np.exp(-theme_logits))
    best = max(np.arange(0.1, 0.9, 0.05), key=lambda t: f1_score(themes, probabilities >= t, average="micro"))
    mask = pairs >= 0
    return {
        "theme_micro_f1_at_0.5": round(float(f1_score(themes, probabilities >= 0.5, average="micro")), 3),
        "theme_micro_f1_best_threshold": round(float(f1_score(themes, probabilities >= best, average="micro")), 3),
        "best_threshold": round(float(best), 2),
        "theme_macro_f1_at_0.5": round(float(f1_score(themes, probabilities >= 0.5, average="macro", zero_division=0)), 3),
        "polarity_macro_f1": round(float(f1_score(polarity, polarity_logits.argmax(1), average="macro")), 3),
        "mixed_recall": _recall(polarity_logits.argmax(1), polarity, POLARITIES.index("mixed")),
        "pair_polarity_accuracy": round(float((pair_logits.argmax(-1)[mask] == pairs[mask]).mean()), 3),
    }


def settings_from(config: Config) -> FinetuneSettings:
    return FinetuneSettings(**config["encoder"]["finetune"])


def run_folder(config: Config, records: list[dict]) -> Path:
    """Where a run's fold outputs live: one folder per (gold set, settings), so a change retrains; the
    number of threads changes how a fine-tune runs (and its float rounding), not its settings, so
    processes of a run may differ in it."""
    finetune = {name: value for name, value in config["encoder"]["finetune"].items() if name != "threads"}
    content = {"gold": [(r["id"], r["text"], r["themes"], r["polarity"], r["theme_polarity"]) for r in records],
               "base": config["encoder"]["base"], "finetune": finetune,
               "folds": config["training"]["folds"]}
    if any(r.get("sentences") for r in records):  # a run without sentence gold keeps its folder
        content["sentences"] = [r.get("sentences") for r in records]
    key = json.dumps(content, sort_keys=True)
    return Path(config["paths"]["runs"]) / "encoder-cv" / hashlib.sha256(key.encode()).hexdigest()[:12]


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def folds(
    ctx: typer.Context,
    config_path: Path = typer.Argument(Path("training/configs/default.cfg")),
    first: int = typer.Option(0, help="Only the first N folds (0: all), e.g. to try a setting on one fold."),
    fold: list[int] = typer.Option(None, help="Only this fold (repeatable), to share a run's folds out among processes."),
) -> None:
    """Fine-tune one model per grouped fold and save the out-of-fold head outputs; prints the run folder.

    Config values can be overridden as in training.train, e.g. `--paths.sentence_gold
    training/data/gold/sentences.jsonl` (sentence gold), `--encoder.finetune.epochs 4`, or
    `--encoder.self_training.findings 3000`: each fold model then also teaches a student (kept in a
    folder of the run folder; `compare RUN RUN/self-training-3000-0` weighs them)."""
    from training.train import unlabelled_of

    run = _Run.asked(ctx, config_path)
    config, records = run.config, run.records
    splits = grouped_folds(records, config["training"]["folds"])
    if fold and first:
        raise typer.BadParameter("give --first or --fold, not both.")
    if unknown := sorted(set(fold or ()) - set(range(len(splits)))):
        raise typer.BadParameter(f"no fold {unknown}: the folds are 0 to {len(splits) - 1}.", param_hint="--fold")
    splits = splits[:first] if first else splits
    typer.echo(f"run folder: {run.folder}")
    settings = settings_from(config)
    run_folds(records, DEFAULT_TAXONOMY, splits, settings, run.load_encoder, run.folder, log=typer.echo, only=fold or None)
    if run.self_training.findings:
        students, _ = run_students(
            records, DEFAULT_TAXONOMY, splits, settings, run.load_encoder, run.folder, unlabelled_of(config, records),
            run.self_training, DEFAULT_GROUP_FIELD, config["encoder"]["precision"], log=typer.echo, only=fold or None,
        )
        typer.echo(f"students: {students}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def final(ctx: typer.Context, config_path: Path = typer.Argument(Path("training/configs/default.cfg"))) -> None:
    """Fine-tune the encoder on every gold finding into the run folder, where `training.train` reuses
    it; config values can be overridden as for `folds`."""
    run = _Run.asked(ctx, config_path)
    if run.self_training.findings:
        raise typer.BadParameter("with [encoder.self_training] the final encoder is the student of the fold models: training.train fine-tunes it.")
    typer.echo(f"run folder: {run.folder}")
    made = final_encoder(
        run.records, DEFAULT_TAXONOMY, settings_from(run.config), run.load_encoder, run.config["encoder"]["precision"], run.folder, typer.echo
    )
    typer.echo(f"final encoder: fine-tuned in {made['fine_tune_seconds']} s, in {run.folder}")


@dataclass(frozen=True)
class _Run:
    """The run a command line asks for: its config (with the line's overrides), gold and run folder."""

    config: Config
    records: list[dict]
    folder: Path

    @classmethod
    def asked(cls, ctx: typer.Context, config_path: Path) -> "_Run":
        from training.train import gold_of

        config = Config().from_disk(config_path, overrides=parse_config_overrides(ctx.args))
        records = gold_of(config)
        return cls(config, records, run_folder(config, records))

    @property
    def self_training(self) -> SelfTraining:
        return SelfTraining(**self.config["encoder"].get("self_training", {}))

    def load_encoder(self) -> LoadedEncoder:
        return load_base_encoder(self.config["encoder"]["base"])


def sentence_polarity_accuracy(records: list[dict], test: np.ndarray, outputs) -> dict:
    """How often the polarity head, read on each sentence, gives the sentence gold of the test findings
    read sentence by sentence (their sentences are the splitter's, as the outputs' are)."""
    owner = np.asarray(outputs["sentence_owner"])
    read = np.asarray(outputs["sentence_polarity_logits"]).argmax(1)
    right, total = Counter(), Counter()
    for position, i in enumerate(test):
        gold = records[i].get("sentences")
        if not gold:
            continue
        sentences = np.flatnonzero(owner == position)
        if len(sentences) != len(gold):
            raise ValueError(f"{records[i]['id']}: {len(gold)} gold sentences, {len(sentences)} in the outputs: cut by another splitter.")
        for sentence, k in zip(gold, sentences):
            total[sentence["polarity"]] += 1
            right[sentence["polarity"]] += int(POLARITIES[read[k]] == sentence["polarity"])
    return {
        "sentences": sum(total.values()),
        "accuracy": round(sum(right.values()) / max(1, sum(total.values())), 3),
        "recall": {polarity: round(right[polarity] / total[polarity], 3) for polarity in POLARITIES if total[polarity]},
    }


def stacked_within_fold(records: list[dict], test: np.ndarray, outputs, stacker: dict, inner_folds: int = 5) -> dict:
    """The stacker of the config's `[stacker]` settings, without its second opinion, fitted and scored
    on a fold's own test outputs by a cross-validation *within* the test fold, grouped by authority:
    a one-fold proxy of the stacked figures (themes, polarity, `mixed` recall, pair F1) that needs
    no other fold, with no finding scored by a stacker or an encoder that saw it."""
    test_records = [records[i] for i in test]
    inputs = StackInputs.from_outputs(SimpleNamespace(**outputs))
    Y = theme_matrix([r["themes"] for r in test_records], DEFAULT_TAXONOMY.theme_ids)
    polarity = [r["polarity"] for r in test_records]
    predictions: list = [None] * len(test)
    for fit, held in GroupKFold(inner_folds).split(Y, groups=[r["local_authority"] for r in test_records]):
        model = FindingStacker(
            ngram=False,
            ngram_polarity=False,
            pair_strategy=stacker["pair_strategy"],
            theme_C=stacker["theme_C"],
            polarity_C=stacker["polarity_C"],
            polarity_class_weight=dict(stacker.get("polarity_class_weight") or {}) or None,
            threshold_shrinkage=stacker["threshold_shrinkage"],
            labels=DEFAULT_TAXONOMY.theme_ids,
        ).fit(inputs.take(fit), Y[fit], [polarity[i] for i in fit], [test_records[i]["theme_polarity"] for i in fit])
        for i, label in zip(held, model.finding_labels(inputs.take(held))[0]):
            predictions[i] = label
    result = evaluate(test_records, predictions, DEFAULT_TAXONOMY.theme_ids, with_calibration=False)
    return {
        "theme_micro_f1": result["themes"]["micro_f1"],
        "theme_macro_f1": result["themes"]["macro_f1"],
        "polarity_macro_f1": result["polarity"]["macro_f1"],
        "mixed_recall": result["polarity"]["per_class"]["mixed"]["recall"],
        "pair_f1": result["theme_polarity_pairs"]["f1"],
    }


def _recall(read: np.ndarray, gold: np.ndarray, value) -> float | None:
    """Share of the `value`s of `gold` read as `value`; None when gold has none."""
    wanted = gold == value
    return round(float((read[wanted] == value).mean()), 3) if wanted.any() else None


def fold_figures(records: list[dict], test: np.ndarray, outputs, stacker: dict) -> dict:
    """Everything a one-fold comparison reports of a run's outputs on a test fold: the heads' own
    figures, how they read the gold sentences (when the records carry sentence gold), and the
    stacker fitted within the fold."""
    _, themes, polarity, pairs = encoder_targets([records[i] for i in test], DEFAULT_TAXONOMY)
    read = sentence_polarity_accuracy(records, test, outputs)
    return {
        **encoder_only_scores(themes, polarity, pairs, outputs["theme_logits"], outputs["polarity_logits"], outputs["pair_logits"]),
        **({"sentence_polarity": read} if read["sentences"] else {}),
        "stacked_within_fold": stacked_within_fold(records, test, outputs, stacker),
    }


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def compare(
    ctx: typer.Context,
    baseline: Path = typer.Argument(..., help="A run folder of `folds` (training/runs/encoder-cv/<run>)."),
    candidate: Path = typer.Argument(..., help="Another run folder, on the same gold and folds."),
    config_path: Path = typer.Option(Path("training/configs/default.cfg"), "--config"),
    output: Path = typer.Option(..., help="JSON report."),
) -> None:
    """The heads' own figures (int8, before stacking) of two runs, fold by fold, on the folds both have
    finished; with `--paths.sentence_gold`, also how well each reads the gold sentences."""
    from training.train import gold_of

    config = Config().from_disk(config_path, overrides=parse_config_overrides(ctx.args))
    records = gold_of(config)
    report = {"baseline": str(baseline), "candidate": str(candidate), "folds": {}}
    for k, (_, test) in enumerate(grouped_folds(records, config["training"]["folds"])):
        paths = {name: folder / f"fold-{k}-int8.npz" for name, folder in (("baseline", baseline), ("candidate", candidate))}
        if not all(path.exists() for path in paths.values()):
            continue
        report["folds"][str(k)] = {}
        for name, path in paths.items():
            with np.load(path) as data:
                outputs = {key: data[key] for key in data.files}
            if not np.array_equal(outputs["test"], test):
                raise SystemExit(f"{path} tested other findings than fold {k} of this gold: compare runs on the same gold.")
            report["folds"][str(k)][name] = fold_figures(records, test, outputs, dict(config["stacker"]))
    if not report["folds"]:
        raise SystemExit(f"no fold has int8 test outputs (fold-<k>-int8.npz) in both {baseline} and {candidate}.")
    output.write_text(json.dumps(report, indent=1) + "\n")
    typer.echo(json.dumps(report, indent=1))


@app.command()
def curve(
    config_path: Path = typer.Argument(Path("training/configs/default.cfg")),
    epochs: int = 10,
    output: Path = Path("training/reports/encoder-curve.json"),
) -> None:
    """Scores on held-out training authorities of fold 0 after every epoch."""
    from training.train import load_gold

    config = Config().from_disk(config_path)
    settings = settings_from(config)
    settings.epochs = epochs
    records = load_gold(Path(config["paths"]["gold"]), config["training"]["folds"])
    texts, themes, polarity, pairs = encoder_targets(records, DEFAULT_TAXONOMY)
    groups = np.array([r["local_authority"] for r in records])
    train, _ = grouped_folds(records, config["training"]["folds"])[0]
    inner, validation = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=0).split(train, groups=groups[train]))
    fit, held = train[inner], train[validation]
    scores = []

    def score(epoch: int, predict) -> None:
        scores.append({"epoch": epoch, **encoder_only_scores(themes[held], polarity[held], pairs[held], *predict([texts[i] for i in held]))})
        typer.echo(json.dumps(scores[-1]))
        output.write_text(json.dumps({"settings": settings.__dict__, "fit": len(fit), "validation": len(held), "scores": scores}, indent=2) + "\n")

    finetune(
        load_base_encoder(config["encoder"]["base"]),
        [texts[i] for i in fit],
        themes[fit],
        polarity[fit],
        pairs[fit],
        len(POLARITIES),
        settings,
        log=typer.echo,
        on_epoch=score,
    )


if __name__ == "__main__":
    app()
