"""Train a finding model and write a new versioned model artifact.

    python -m training.train training/configs/default.cfg     # accurate: encoder + n-gram, stacked
    python -m training.train training/configs/fast.cfg        # fast: the n-gram model alone
    (any config value can be overridden: --training.folds 3 --paths.output /tmp/models)

One run, one seed, one set of folds (grouped by local authority):

1. the n-gram model (`[model]`) is evaluated by grouped cross-validation, next to the keyword
   baseline and the human agreement figures;
2. for the accurate kind, the encoder's out-of-fold outputs come from `training.encoder_cv` (run
   first if missing: one fine-tune per fold), the n-gram theme probabilities from step 1, and the
   stacker is evaluated by the same folds on them (`stacked_cross_validation`);
3. the model is fitted on all gold findings (for the accurate kind: the n-gram model, one more
   fine-tune of the encoder, exported to ONNX, and the stacker on the out-of-fold scores);
4. `models/<name>-<version>/` is written: a spaCy pipeline with meta (version, taxonomy, base
   weights' hash, metrics, checksums) and a generated model card.
"""

from __future__ import annotations

import hashlib
import json
import random
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import typer
from spacy.cli._util import parse_config_overrides
from thinc.api import Config

from nlp.about import __version__
from nlp.artifact import dumps_estimator, loads_estimator, taxonomy_record
from nlp.classify import save_pipeline
from nlp.models import FindingLabels
from nlp.models.kinds import EncoderFindingModel, NgramFindingModel, ngram_polarity_probabilities
from nlp.models.stacking import FindingStacker, StackInputs
from nlp.models.training import fit_finding_classifier, make_fast_classifier
from nlp.pipeline import make_segmenter
from nlp.scoring import theme_matrix
from nlp.taxonomy import POLARITIES, THEME_IDS
from training.evaluate import evaluate, folds_summary, grouped_cross_validation, grouped_folds, keyword_baseline
from training.model_card import model_card

app = typer.Typer(add_completion=False)


def load_gold(path: Path) -> list[dict]:
    """Gold records through Hugging Face `datasets`, the format's contract for other teams."""
    dataset = datasets.load_dataset("json", data_files=str(path), split="train")
    records = [dict(record) for record in dataset]
    for record in records:  # datasets may widen the mapping to a struct with every theme
        record["theme_polarity"] = {t: p for t, p in record["theme_polarity"].items() if p is not None}
    return records


def stacked_cross_validation(
    records: list[dict], inputs: StackInputs, make_stacker, folds: int
) -> tuple[list[FindingLabels], np.ndarray, list[FindingStacker]]:
    """Out-of-fold labels of the stacker, its theme probabilities, and the stacker of each fold.

    `inputs` hold out-of-fold scores already; the stacker of fold k learns from the other folds'.
    """
    Y = theme_matrix([r["themes"] for r in records])
    labels: list[FindingLabels | None] = [None] * len(records)
    probabilities = np.zeros(Y.shape)
    stackers = []
    for train, test in grouped_folds(records, folds):
        stacker = make_stacker().fit(inputs.take(train), Y[train], [records[i]["polarity"] for i in train])
        for i, label in zip(test, stacked_labels(stacker, inputs.take(test))):
            labels[i] = label
        probabilities[test] = stacker.predict_theme_proba(inputs.take(test))
        stackers.append(stacker)
    return labels, probabilities, stackers  # type: ignore[return-value]


def write_fold_models(folder: Path, records: list[dict], folds: int, models: list) -> None:
    """The fold models as pipelines, and which fold each gold authority was tested in.

    Labelling a corpus with them, each report by the model of its authority's fold, gives labels no
    model made after seeing that authority's gold (`training.grade_validity --fold-models`).
    """
    fold_of = {}
    for k, (_, test) in enumerate(grouped_folds(records, folds)):
        fold_of.update({records[i]["local_authority"]: k for i in test})
    folder.mkdir(parents=True, exist_ok=True)
    for k, model in enumerate(models):
        nlp = make_segmenter()
        nlp.add_pipe("ofsted_theme_classifier_v2", name="themes").set_model(model, info={"fold": k})
        nlp.meta.update({"name": f"fold-{k}", "version": __version__})
        save_pipeline(nlp, folder / f"fold-{k}")
    (folder / "folds.json").write_text(json.dumps({"fold_of_authority": fold_of}, indent=2) + "\n")


def stacked_labels(stacker: FindingStacker, inputs: StackInputs) -> list[FindingLabels]:
    probabilities = stacker.predict_theme_proba(inputs)
    chosen = probabilities >= stacker.thresholds_
    polarity = stacker.polarities_[stacker.predict_polarity_proba(inputs).argmax(axis=1)]
    pairs = stacker.pair_polarities(inputs, polarity)
    themes = stacker.classes_
    return [
        FindingLabels(
            themes=[str(themes[j]) for j in np.flatnonzero(chosen[i])],
            polarity=str(polarity[i]),
            theme_polarity={str(themes[j]): str(pairs[i, j]) for j in np.flatnonzero(chosen[i])},
            scores={str(t): round(float(p), 4) for t, p in zip(themes, probabilities[i])},
        )
        for i in range(len(probabilities))
    ]


# The `[model.*]` blocks that configure the n-gram model (its cached CV is keyed on them alone).
NGRAM_SETTINGS = ("themes", "polarity", "theme_polarity", "finding")


@dataclass
class FastOutOfFold:
    """The n-gram model's grouped CV: its labels, theme and polarity probabilities, and fold models."""

    predictions: list[FindingLabels]
    theme_probabilities: np.ndarray
    polarity_probabilities: np.ndarray
    fold_models: list


def fast_out_of_fold(config: Config, records: list[dict]) -> FastOutOfFold:
    """Grouped CV of the n-gram model, kept in the runs folder so a later failure does not redo it."""
    key = json.dumps({"gold": [(r["id"], r["text"], r["themes"], r["polarity"], r["theme_polarity"]) for r in records],
                      "model": {part: config["model"].get(part) for part in NGRAM_SETTINGS},
                      "folds": config["training"]["folds"]}, sort_keys=True, default=str)
    folder = Path(config["paths"]["runs"]) / "fast-cv" / hashlib.sha256(key.encode()).hexdigest()[:12]
    folds = config["training"]["folds"]
    if (folder / "predictions.json").exists():
        arrays = np.load(folder / "probabilities.npz")
        return FastOutOfFold(
            predictions=[FindingLabels(**p) for p in json.loads((folder / "predictions.json").read_text())],
            theme_probabilities=arrays["themes"],
            polarity_probabilities=arrays["polarity"],
            fold_models=[loads_estimator((folder / f"fold-{k}.skops").read_bytes(), f"fold-{k}.skops") for k in range(folds)],
        )
    themes, polarity, fold_models = np.zeros((len(records), len(THEME_IDS))), np.zeros((len(records), len(POLARITIES))), []

    def keep(model, test) -> None:
        texts = [records[i]["text"] for i in test]
        themes[test] = model.themes_.predict_proba(texts)
        polarity[test] = ngram_polarity_probabilities(model, texts)
        fold_models.append(model)

    predictions = grouped_cross_validation(records, lambda: make_fast_classifier(config["model"]), folds, on_fold=keep)
    folder.mkdir(parents=True, exist_ok=True)
    for k, model in enumerate(fold_models):
        (folder / f"fold-{k}.skops").write_bytes(dumps_estimator(model))
    np.savez_compressed(folder / "probabilities.npz", themes=themes, polarity=polarity)
    (folder / "predictions.json").write_text(json.dumps([p.to_dict() for p in predictions]))
    return FastOutOfFold(predictions, themes, polarity, fold_models)


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def train(config: Config) -> Path:
    """Evaluate and fit the configured model, write the artifact and return its folder."""
    seed = config["training"]["seed"]
    random.seed(seed)
    np.random.seed(seed)
    paths, folds = config["paths"], config["training"]["folds"]
    gold_path = Path(paths["gold"])
    gold_sha256 = hashlib.sha256(gold_path.read_bytes()).hexdigest()  # of the file as read, before a long run
    records = load_gold(gold_path)
    kind = config["model"]["kind"]

    started = time.perf_counter()
    fast = fast_out_of_fold(config, records)
    fast_predictions, ngram_probabilities, fast_fold_models = fast.predictions, fast.theme_probabilities, fast.fold_models
    metrics = {
        "fast": evaluate(records, fast_predictions),
        "keyword_baseline": evaluate(records, keyword_baseline([r["text"] for r in records]), with_calibration=False),
        "human_agreement": json.loads((gold_path.parent.parent / "agreement.json").read_text()),
        "cross_validation": folds_summary(records, folds),
    }
    timings = {"fast_cv_seconds": round(time.perf_counter() - started, 1)}

    if kind == "accurate":
        from training.encoder_cv import encoder_oof, final_encoder, fold_encoders

        precision = config["encoder"]["precision"]
        outputs, fold_log = {}, None
        for variant in ("float32", "int8"):
            outputs[variant], fold_log = encoder_oof(config, records, variant)
        make_stacker = lambda: FindingStacker(**config["stacker"])  # noqa: E731
        fold_stackers = {}
        for variant, oof in outputs.items():
            inputs = StackInputs.from_outputs(oof, ngram_probabilities, fast.polarity_probabilities)
            predictions, probabilities, fold_stackers[variant] = stacked_cross_validation(records, inputs, make_stacker, folds)
            metrics[f"accurate_{variant}"] = evaluate(records, predictions, probabilities=probabilities)
        metrics["accurate"] = metrics[f"accurate_{precision}"]
        timings["encoder_cv"] = fold_log
        begin = time.perf_counter()
        encoder = final_encoder(config, records)
        timings["final_fine_tune_seconds"] = round(time.perf_counter() - begin, 1)
        ngram = fit_finding_classifier(make_fast_classifier(config["model"]), records)
        stacker = make_stacker().fit(
            StackInputs.from_outputs(outputs[precision], ngram_probabilities, fast.polarity_probabilities),
            theme_matrix([r["themes"] for r in records]),
            [r["polarity"] for r in records],
        )
        model = EncoderFindingModel(
            onnx=encoder["onnx"],
            tokenizer=encoder["tokenizer"],
            heads=encoder["heads"],
            stacker=stacker,
            ngram=ngram if stacker.ngram or stacker.ngram_polarity else None,
            settings={"max_length": config["encoder"]["finetune"]["max_length"], "batch_tokens": config["encoder"]["batch_tokens"]},
        )
        extra = {"precision": precision, "base_encoder": encoder["provenance"]}
        fold_models = [
            EncoderFindingModel(
                onnx=fold["onnx"],
                tokenizer=encoder["tokenizer"],
                heads=fold["heads"],
                stacker=fold_stacker,
                ngram=fast_model if fold_stacker.ngram or fold_stacker.ngram_polarity else None,
                settings=model.settings,
            )
            for fold, fold_stacker, fast_model in zip(fold_encoders(config, records, precision), fold_stackers[precision], fast_fold_models)
        ]
    else:
        model = NgramFindingModel(fit_finding_classifier(make_fast_classifier(config["model"]), records))
        extra = {}
        fold_models = [NgramFindingModel(fast_model) for fast_model in fast_fold_models]
    name, version = config["model"]["name"], config["model"]["version"]
    write_fold_models(Path(paths["runs"]) / "fold-models" / f"{name}-{version}", records, folds, fold_models)
    timings["total_seconds"] = round(time.perf_counter() - started, 1)
    timings["peak_rss_mb"] = _peak_rss_mb()
    metrics["training"] = timings
    metrics["model"] = metrics[kind]
    return write_model(config, records, gold_path, gold_sha256, model, metrics, extra)


def write_model(
    config: Config, records: list[dict], gold_path: Path, gold_sha256: str, model, metrics: dict, extra: dict
) -> Path:
    name, version = config["model"]["name"], config["model"]["version"]
    output = Path(config["paths"]["output"]) / f"{name}-{version}"
    nlp = make_segmenter()
    training_data = {
        "gold_path": str(gold_path),
        "gold_sha256": gold_sha256,
        "gold_findings": len(records),
        "gold_reports": len({r["report_id"] for r in records}),
        "gold_local_authorities": len({r["local_authority"] for r in records}),
    }
    nlp.add_pipe("ofsted_theme_classifier_v2", name="themes").set_model(
        model, info={"version": version, "training_data": training_data, **extra}
    )
    nlp.meta.update(
        {
            "name": name,
            "version": version,
            "description": config["model"]["description"],
            "license": "MIT (model); training text: Ofsted reports under the Open Government Licence v3.0",
            "requirements": [f"inspection-themes>={__version__},<{_next_minor(__version__)}"],
            "performance": _performance_summary(metrics),
            "sources": [{"name": "Ofsted inspection reports (391, 2013-2026)", "license": "OGL v3.0"}]
            + ([{"name": extra["base_encoder"]["name"], "license": extra["base_encoder"]["licence"]}] if extra else []),
            "inspection_themes": {
                "kind": model.kind,
                "taxonomy": taxonomy_record(),
                "training_data": training_data,
                "base_encoder": extra.get("base_encoder"),
                "precision": extra.get("precision"),
                "config": config.interpolate().copy(),
                "metrics": metrics,
            },
        }
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    save_pipeline(nlp, output)
    (output / "README.md").write_text(model_card(nlp.meta), encoding="utf-8")
    reports = Path(config["paths"]["reports"])
    reports.mkdir(parents=True, exist_ok=True)
    (reports / f"metrics-{name}-{version}.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return output


def _next_minor(version: str) -> str:
    major, minor = version.split(".")[:2]
    return f"{major}.{int(minor) + 1}"


def _performance_summary(metrics: dict) -> dict:
    model, baseline = metrics["model"], metrics["keyword_baseline"]
    return {
        "theme_micro_f1": model["themes"]["micro_f1"],
        "theme_macro_f1": model["themes"]["macro_f1"],
        "polarity_macro_f1": model["polarity"]["macro_f1"],
        "mixed_recall": model["polarity"]["per_class"]["mixed"]["recall"],
        "theme_polarity_pair_f1": model["theme_polarity_pairs"]["f1"],
        "theme_calibration_error_pooled": model["calibration_error"]["pooled"],
        "keyword_baseline_theme_micro_f1": baseline["themes"]["micro_f1"],
        "keyword_baseline_polarity_macro_f1": baseline["polarity"]["macro_f1"],
    }


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
