"""Train the committed Ofsted models from a config and write a new versioned model artifact.

    python -m training.train training/configs/default.cfg     # accurate: encoder + fast model, stacked
    python -m training.train training/configs/default.cfg --model.kind fast --model.name ofsted_themes_fast
    (any config value can be overridden: --training.folds 3 --paths.output /tmp/models)

The work is `nlp.train.train_model` and `nlp.train.write_model`, the same code as `inspection-themes
train` for any taxonomy, with the default taxonomy and the gold set. This script adds what only
the Ofsted gold set has, and keeps long steps between runs:

- the n-gram model's cross-validation is kept in `runs/fast-cv/<key>/` and the encoder's fold
  models in `runs/encoder-cv/<key>/` (`training.encoder_cv`), so a later failure does not redo them;
  either kind reports the n-gram model's figures beside its own, from the same folds;
- the fast kind learns from the teacher's labels of `[fast.distill] teacher` (`training.distill`:
  the accurate model's theme decisions and polarity probabilities), each fold from its own teacher;
- the keyword baseline and the agreement of two human readings of gold join the figures;
- the fold models are written as pipelines under `runs/fold-models/<name>-<version>/`, for
  leak-free labelling of the corpus (`training.grade_validity --fold-models`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import typer
from spacy.cli._util import parse_config_overrides
from thinc.api import Config

from nlp.about import __version__
from nlp.artifact import dumps_estimator, loads_estimator
from nlp.classify import save_pipeline
from nlp.jsonl import read_jsonl
from nlp.models import FindingLabels
from nlp.pipeline import make_segmenter
from nlp.scoring import evaluate
from nlp.sentences import sentence_spans
from nlp.taxonomy import DEFAULT_TAXONOMY, THEME_IDS
from nlp.train import (
    DEFAULT_GROUP_FIELD,
    OutOfFold,
    Teacher,
    TrainedModel,
    TrainingSettings,
    ngram_out_of_fold,
    grouped_folds,
    read_training_data,
    train_model,
    write_model,
)
from training.distill import corpus_findings_not_gold, teacher
from training.encoder_cv import run_folder
from training.evaluate import keyword_baseline

app = typer.Typer(add_completion=False)

# The `[model.*]` blocks that configure the n-gram model (its cached CV is keyed on them alone).
NGRAM_SETTINGS = ("themes", "polarity", "theme_polarity", "finding")


def load_gold(path: Path, folds: int = 5) -> list[dict]:
    """Gold findings, checked against the default taxonomy like any training data."""
    return read_training_data(path, DEFAULT_TAXONOMY, DEFAULT_GROUP_FIELD, folds)


def gold_of(config: Config) -> list[dict]:
    """The config's gold findings; with `paths.sentence_gold`, those read sentence by sentence carry
    their `sentences` (training.sentence_annotation), which the encoder's fine-tune then learns from.

    RAISES (SystemExit): when the sentence gold names a finding that is not gold, or its sentences are
        not the ones `nlp.sentences.sentence_spans` cuts from the finding's text (gold changed since).
    """
    records = load_gold(Path(config["paths"]["gold"]), config["training"]["folds"])
    path = config["paths"].get("sentence_gold")
    if path:
        by_id = {r["id"]: r for r in records}
        for number, finding in read_jsonl(path):
            record = by_id.get(finding["id"])
            spans = [(s["start"], s["end"]) for s in finding["sentences"]]
            if record is None or spans != sentence_spans(record["text"]):
                raise SystemExit(
                    f"{path}:{number}: {finding['id']} is not a gold finding, or its sentences are not those of its gold text: "
                    "build the sentence gold again (python -m training.sentence_annotation build) after a change of gold."
                )
            record["sentences"] = finding["sentences"]
    return records


def settings_from(config: Config) -> TrainingSettings:
    return TrainingSettings(
        kind=config["model"]["kind"],
        folds=config["training"]["folds"],
        group_by=DEFAULT_GROUP_FIELD,
        seed=config["training"]["seed"],
        ngram={part: config["model"][part] for part in NGRAM_SETTINGS if part in config["model"]},
        fast={part: dict(block) for part, block in config.get("fast", {}).items() if part != "distill"},
        stacker=dict(config["stacker"]),
        encoder=dict(config["encoder"]),
    )


def teacher_from(config: Config) -> Teacher | None:
    """The fast kind's teacher of `[fast.distill]` (None without one): labels per fold and for the final model."""
    distill = config.get("fast", {}).get("distill", {})
    return teacher(Path(distill["teacher"]), float(distill["weight"]), bool(distill.get("themes", True))) if distill.get("teacher") else None


def unlabelled_of(config: Config, records: list[dict]) -> list[dict] | None:
    """The findings the accurate kind's self-training teaches from (`[encoder.self_training]`): the
    corpus findings that are neither gold nor held out; None when the config does not self-train."""
    if not config["encoder"].get("self_training", {}).get("findings"):
        return None
    return corpus_findings_not_gold(records)


def cached_ngram_out_of_fold(config: Config, records: list[dict], settings: TrainingSettings) -> OutOfFold:
    """`nlp.train.ngram_out_of_fold`, kept in the runs folder so a later failure does not redo it."""
    key = json.dumps({"gold": [(r["id"], r["text"], r["themes"], r["polarity"], r["theme_polarity"]) for r in records],
                      "model": {part: config["model"].get(part) for part in NGRAM_SETTINGS},
                      "folds": config["training"]["folds"]}, sort_keys=True, default=str)
    folder = Path(config["paths"]["runs"]) / "fast-cv" / hashlib.sha256(key.encode()).hexdigest()[:12]
    if (folder / "predictions.json").exists():
        arrays = np.load(folder / "probabilities.npz")
        return OutOfFold(
            predictions=[FindingLabels(**p) for p in json.loads((folder / "predictions.json").read_text())],
            theme_probabilities=arrays["themes"],
            polarity_probabilities=arrays["polarity"],
            fold_models=[loads_estimator((folder / f"fold-{k}.skops").read_bytes(), f"fold-{k}.skops") for k in range(settings.folds)],
        )
    ngram = ngram_out_of_fold(records, DEFAULT_TAXONOMY, settings)
    folder.mkdir(parents=True, exist_ok=True)
    for k, model in enumerate(ngram.fold_models):
        (folder / f"fold-{k}.skops").write_bytes(dumps_estimator(model))
    np.savez_compressed(folder / "probabilities.npz", themes=ngram.theme_probabilities, polarity=ngram.polarity_probabilities)
    (folder / "predictions.json").write_text(json.dumps([p.to_dict() for p in ngram.predictions]))
    return ngram


def write_fold_models(trained: TrainedModel, folder: Path) -> None:
    """The fold models as pipelines, and which fold each gold authority was tested in.

    Labelling a corpus with them, each report by the model of its authority's fold, gives labels no
    model made after seeing that authority's gold (`training.grade_validity --fold-models`).
    """
    records, settings = trained.records, trained.settings
    fold_of = {}
    for k, (_, test) in enumerate(grouped_folds(records, settings.folds, settings.group_by, settings.seed)):
        fold_of.update({records[i]["local_authority"]: k for i in test})
    folder.mkdir(parents=True, exist_ok=True)
    for k, model in enumerate(trained.fold_models):
        nlp = make_segmenter()
        nlp.add_pipe("ofsted_theme_classifier_v2", name="themes").set_model(model, trained.taxonomy, info={"fold": k})
        nlp.meta.update({"name": f"fold-{k}", "version": __version__})
        save_pipeline(nlp, folder / f"fold-{k}")
    (folder / "folds.json").write_text(json.dumps({"fold_of_authority": fold_of}, indent=2) + "\n")


def fold_models_folder(runs: str | Path, model_name: str) -> Path:
    """Where `write_fold_models` puts the fold models of the model `model_name` (`<name>-<version>`)."""
    return Path(runs) / "fold-models" / model_name


def read_fold_models(folder: Path) -> dict[str, int]:
    """Which fold each gold authority was tested in, for the fold models `write_fold_models` wrote in `folder`."""
    if not (folder / "folds.json").exists():
        raise SystemExit(f"{folder} has no fold models: run `python -m training.train` for {folder.name} first.")
    return json.loads((folder / "folds.json").read_text())["fold_of_authority"]


def sentence_gold_record(path: str | None, records: list[dict]) -> dict:
    """What sentence gold the model learnt from, for its meta and card (nothing when none)."""
    if not path:
        return {}
    taught = [r for r in records if r.get("sentences")]
    return {
        "sentence_gold_path": str(path),
        "sentence_gold_sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        "sentence_gold_findings": len(taught),
        "sentence_gold_sentences": sum(len(r["sentences"]) for r in taught),
    }


def train(config: Config) -> Path:
    """Evaluate and fit the configured model, write the artifact and return its folder."""
    paths = config["paths"]
    settings = settings_from(config)
    gold_path = Path(paths["gold"])
    gold_sha256 = hashlib.sha256(gold_path.read_bytes()).hexdigest()  # of the file as read, before a long run
    records = gold_of(config)
    trained = train_model(
        records,
        DEFAULT_TAXONOMY,
        settings,
        ngram=cached_ngram_out_of_fold(config, records, settings),
        teacher=teacher_from(config) if settings.kind == "fast" else None,
        encoder_folder=run_folder(config, records),
        unlabelled=unlabelled_of(config, records) if settings.kind == "accurate" else None,
        log=typer.echo,
    )
    trained.metrics["keyword_baseline"] = evaluate(records, keyword_baseline([r["text"] for r in records]), THEME_IDS, with_calibration=False)
    trained.metrics["human_agreement"] = json.loads((gold_path.parent.parent / "agreement.json").read_text())
    name, version = config["model"]["name"], config["model"]["version"]
    write_fold_models(trained, fold_models_folder(paths["runs"], f"{name}-{version}"))
    base_encoder = trained.extra.get("base_encoder")
    output = write_model(
        trained,
        Path(paths["output"]) / f"{name}-{version}",
        name=name,
        version=version,
        description=config["model"]["description"],
        training_data={
            "gold_path": str(gold_path),
            "gold_sha256": gold_sha256,
            "gold_findings": len(records),
            "gold_reports": len({r["report_id"] for r in records}),
            "gold_local_authorities": len({r["local_authority"] for r in records}),
            "gold_batches": sorted({r["batch"] for r in records}),
            **sentence_gold_record(paths.get("sentence_gold"), records),
        },
        meta={
            "license": "MIT (model); training text: Ofsted reports under the Open Government Licence v3.0",
            "sources": [{"name": "Ofsted inspection reports (391, 2013-2026)", "license": "OGL v3.0"}]
            + ([{"name": base_encoder["name"], "license": base_encoder["licence"]}] if base_encoder else []),
            "inspection_themes": {"config": config.interpolate().copy()},
        },
    )
    reports = Path(paths["reports"])
    reports.mkdir(parents=True, exist_ok=True)
    (reports / f"metrics-{name}-{version}.json").write_text(json.dumps(trained.metrics, indent=2) + "\n")
    return output


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(ctx: typer.Context, config_path: Path = typer.Argument(Path("training/configs/default.cfg"), exists=True)) -> None:
    """Train from a config file; `--section.key value` overrides any config value."""
    config = Config().from_disk(config_path, overrides=parse_config_overrides(ctx.args))
    output = train(config)
    performance = json.loads((output / "meta.json").read_text())["performance"]
    typer.echo(f"model -> {output}")
    typer.echo(json.dumps(performance, indent=2))


if __name__ == "__main__":
    app()
