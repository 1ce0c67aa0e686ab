"""Train, evaluate and write a finding model for any taxonomy.

    inspection-themes train DATA.jsonl --taxonomy TAXONOMY.json -o MODEL_DIR [--model-kind accurate|fast] [--folds K] [--group-by FIELD]

DATA lines are `{"id", "text", "themes", "polarity", "theme_polarity"}` plus an optional grouping
field (default `local_authority`). One run, one seed, one set of folds:

1. the labelled findings are checked against the taxonomy (`read_training_data`);
2. the model is evaluated by cross-validation grouped by that field (no group in both a training
   and a test fold), so each figure says how the model does on a group it never read: the fast
   kind (`FastFindingClassifier`, which may also learn from a teacher's labels, never of a
   test fold's groups); for the accurate kind, the encoder fine-tuned once per fold
   (`nlp.encoder_cv`), the fast model learnt from the gold alone (the stacker's second opinion)
   and the stacker that combines the two, on the same folds;
3. the model is fitted on all findings and written as a spaCy pipeline whose artifact stores the
   taxonomy, with meta, checksums and a model card (`write_model`).

`training/train.py`, which trains the committed Ofsted models from a config, calls `train_model`
and `write_model` too; it adds the keyword baseline and the human agreement of the gold set.

    >>> taxonomy = load_taxonomy("harms.taxonomy.json")                              # doctest: +SKIP
    >>> records = read_training_data("harms.jsonl", taxonomy)                         # doctest: +SKIP
    >>> trained = train_model(records, taxonomy, TrainingSettings(kind="fast"))      # doctest: +SKIP
    >>> write_model(trained, Path("models/harms-0.1.0"), name="harms", version="0.1.0",
    ...             training_data=training_data_record("harms.jsonl", records, "local_authority"))  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import random
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold, KFold

from .about import __version__
from .errors import TrainingDataError
from .jsonl import read_jsonl
from .models import FindingLabels
from .models.fast import DistilledFindings, columns_in_order
from .models.kinds import EncoderFindingModel, NgramFindingModel
from .models.stacking import FindingStacker, StackInputs
from .models.training import (
    DEFAULT_GROUP_FIELD,
    FAST_MODEL_DEFAULTS,
    NGRAM_MODEL_DEFAULTS,
    fit_finding_classifier,
    make_fast_classifier,
    make_ngram_classifier,
)
from .scoring import evaluate, theme_matrix
from .taxonomy import Taxonomy

REQUIRED_FIELDS = ("id", "text", "themes", "polarity", "theme_polarity")
MODEL_KINDS = ("accurate", "fast")
# Examples a theme needs per fold: with fewer than two, some training folds hold none of it (the
# model cannot learn it there) or some test folds none (its figures are noise).
EXAMPLES_PER_FOLD = 2
# The `[stacker]` and `[encoder]` blocks of training/configs/default.cfg: what `inspection-themes
# train` uses (training/train.py reads them from its config). Two exceptions: the Ofsted model's
# pair_strategy is "learned", which needs mixed findings whose themes differ in polarity; a team's
# own data may hold none, so `train` keeps "hybrid", which needs nothing beyond the labels. And the
# Ofsted model weighs `mixed` 1.5 in the polarity regression, a trade of precision for recall
# chosen by grouped CV on the Ofsted gold; `train` weighs every polarity alike.
STACKER_DEFAULTS: dict = {
    "ngram": True,
    "ngram_polarity": True,
    "pair_strategy": "hybrid",
    "theme_C": 1.0,
    "polarity_C": 1.0,
    "threshold_shrinkage": 50.0,
}
ENCODER_DEFAULTS: dict = {
    "base": "all-MiniLM-L6-v2",
    "precision": "int8",
    "finetune": {
        "max_length": 256,
        "epochs": 6,
        "batch_size": 16,
        "learning_rate": 1e-4,
        "head_learning_rate": 3e-3,
        "warmup": 0.06,
        "weight_decay": 0.01,
        "dropout": 0.1,
        "freeze_embeddings": True,
        "theme_loss": 0.3,
        "polarity_loss": 2.0,
        "pair_loss": 1.0,
        "seed": 0,
        "threads": 2,
    },
    "self_training": {"findings": 0, "seed": 0},
}


@dataclass
class TrainingSettings:
    """How to train: the model kind, the folds and the hyperparameters of each part.

    kind (str): "fast" (word n-grams, one featurisation pass) or "accurate" (fine-tuned encoder
        stacked with a fast model learnt from the gold alone).
    folds (int): cross-validation folds. group_by (str | None): field of the groups no fold splits
        (None: findings are split one by one). seed (int): of every random choice.
    fast, ngram, stacker, encoder (dict): the `[fast]`, `[model]`, `[stacker]` and `[encoder]` blocks of a config.
    """

    kind: str = "fast"
    folds: int = 5
    group_by: str | None = DEFAULT_GROUP_FIELD
    seed: int = 0
    fast: dict = field(default_factory=lambda: copy.deepcopy(FAST_MODEL_DEFAULTS))
    ngram: dict = field(default_factory=lambda: copy.deepcopy(NGRAM_MODEL_DEFAULTS))
    stacker: dict = field(default_factory=lambda: dict(STACKER_DEFAULTS))
    encoder: dict = field(default_factory=lambda: copy.deepcopy(ENCODER_DEFAULTS))


# Data ---------------------------------------------------------------------------------------------


def read_training_data(
    path: str | os.PathLike, taxonomy: Taxonomy, group_by: str | None = DEFAULT_GROUP_FIELD, folds: int = 5
) -> list[dict]:
    """Labelled findings from a JSON-lines file, checked against the taxonomy (`check_training_data`).

    RAISES (TrainingDataError): a line is not JSON, lacks a field, or breaks the taxonomy; a theme has
        too few examples.
    """
    try:
        numbered = list(read_jsonl(path))
    except OSError as error:
        raise TrainingDataError(f"{path}: cannot read the training data ({error.strerror or error}).") from error
    except ValueError as error:
        raise TrainingDataError(str(error)) from error
    return check_training_data(numbered, taxonomy, group_by, folds, str(path))


def check_training_data(
    numbered: list[tuple[int, dict]], taxonomy: Taxonomy, group_by: str | None, folds: int, where: str
) -> list[dict]:
    """The records of (line number, record) pairs, after checking every line and every theme's count.

    A `group_by` of `DEFAULT_GROUP_FIELD` that no line has means no groups; any other field must be
    on every line.
    """
    themes, polarities = set(taxonomy.theme_ids), set(taxonomy.polarities)
    records = []
    for number, record in numbered:
        at = f"{where}:{number}"
        if not isinstance(record, dict):
            raise TrainingDataError(f"{at}: each line must be a JSON object with {list(REQUIRED_FIELDS)}.")
        missing = [name for name in REQUIRED_FIELDS if name not in record]
        if missing:
            raise TrainingDataError(f"{at}: missing field(s) {missing}; each line needs {list(REQUIRED_FIELDS)}.")
        if not isinstance(record["text"], str) or not record["text"].strip():
            raise TrainingDataError(f'{at}: "text" must be the finding\'s text, a non-empty string.')
        if not isinstance(record["themes"], list) or not isinstance(record["theme_polarity"], dict):
            raise TrainingDataError(f'{at}: "themes" must be a list of theme ids and "theme_polarity" an object {{theme: polarity}}.')
        theme_polarity = {t: p for t, p in record["theme_polarity"].items() if p is not None}
        unknown = sorted({str(t) for t in record["themes"] + list(theme_polarity)} - themes)
        if unknown:
            raise TrainingDataError(
                f"{at}: theme(s) {unknown} are not in the taxonomy {taxonomy}, whose ids are {list(taxonomy.theme_ids)}; "
                "relabel the line or add the theme to the taxonomy file."
            )
        wrong = sorted({str(p) for p in [record["polarity"], *theme_polarity.values()]} - polarities)
        if wrong:
            raise TrainingDataError(f"{at}: polarity value(s) {wrong} are not among {list(taxonomy.polarities)}.")
        if set(theme_polarity) != set(record["themes"]):
            raise TrainingDataError(
                f'{at}: "theme_polarity" must give a polarity for each theme of "themes" and no other; '
                f"themes {record['themes']}, theme_polarity {sorted(theme_polarity)}."
            )
        records.append({**record, "theme_polarity": theme_polarity})
    if not records:
        raise TrainingDataError(f"{where}: no labelled findings.")
    _check_groups(records, group_by, folds, where)
    _check_theme_counts(records, taxonomy, folds, where)
    return records


def group_field(records: list[dict], group_by: str | None) -> str | None:
    """The grouping field a run uses: `group_by`, unless it is the default and no record has it."""
    if group_by == DEFAULT_GROUP_FIELD and not any(r.get(group_by) is not None for r in records):
        return None
    return group_by


def _check_groups(records: list[dict], group_by: str | None, folds: int, where: str) -> None:
    if folds < 2:
        raise TrainingDataError(f"--folds must be at least 2 (got {folds}): cross-validation needs a test fold and a training fold.")
    group_by = group_field(records, group_by)
    if group_by is None:
        if len(records) < folds:
            raise TrainingDataError(f"{where}: {len(records)} findings cannot be split into {folds} folds.")
        return
    lacking = [i for i, r in enumerate(records) if r.get(group_by) is None]
    if lacking:
        raise TrainingDataError(
            f'{where}: {len(lacking)} line(s) lack the grouping field "{group_by}" (the first is record {lacking[0] + 1}); '
            "give it on every line, or choose another field with --group-by."
        )
    groups = len({json.dumps(r[group_by], sort_keys=True) for r in records})
    if groups < folds:
        raise TrainingDataError(
            f'{where}: only {groups} distinct "{group_by}" values for {folds} folds; no group may be in two folds, so '
            "lower --folds or group by a finer field."
        )


def _check_theme_counts(records: list[dict], taxonomy: Taxonomy, folds: int, where: str) -> None:
    counts = Counter(t for r in records for t in set(r["themes"]))
    needed = EXAMPLES_PER_FOLD * folds
    short = {theme: counts[theme] for theme in taxonomy.theme_ids if counts[theme] < needed}
    if short:
        listed = ", ".join(f"{theme} ({n})" for theme, n in short.items())
        raise TrainingDataError(
            f"{where}: too few examples of theme(s) {listed}; each theme needs at least {needed} findings "
            f"({EXAMPLES_PER_FOLD} per fold with {folds} folds). Label more findings with them, merge them into another "
            "theme of the taxonomy, or lower --folds."
        )


# Folds and cross-validation -------------------------------------------------------------------------


def grouped_folds(records: list[dict], folds: int, group_by: str | None = DEFAULT_GROUP_FIELD, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train and test indices of the folds every step of a run uses: no group in both."""
    group_by = group_field(records, group_by)
    rows = np.zeros((len(records), 1))
    if group_by is None:
        return list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(rows))
    groups = [json.dumps(r[group_by], sort_keys=True) if not isinstance(r[group_by], str) else r[group_by] for r in records]
    return list(GroupKFold(n_splits=folds).split(rows, groups=groups))


def folds_summary(records: list[dict], folds: int, group_by: str | None) -> dict:
    group_by = group_field(records, group_by)
    groups = len({str(r[group_by]) for r in records}) if group_by else len(records)
    return {"folds": folds, "grouped_by": group_by, "groups": groups}


@dataclass
class OutOfFold:
    """A model's cross-validation: its labels, theme and polarity probabilities (columns in the
    taxonomy's order) of every record from the fold that did not train on it, and the fold models."""

    predictions: list[FindingLabels]
    theme_probabilities: np.ndarray
    polarity_probabilities: np.ndarray
    fold_models: list


# A teacher's labels for the fast model of fold k (an int), or of the final model ("final").
Teacher = Callable[[int | str], DistilledFindings]


def ngram_out_of_fold(records: list[dict], taxonomy: Taxonomy, settings: TrainingSettings) -> OutOfFold:
    """Out-of-fold labels and probabilities of the n-gram model, folds as `grouped_folds`."""
    group_by = group_field(records, settings.group_by)
    return _out_of_fold(records, taxonomy, settings, lambda fold, train, test: fit_finding_classifier(
        make_ngram_classifier(settings.ngram, taxonomy), [records[i] for i in train], taxonomy, group_by))


def fast_out_of_fold(records: list[dict], taxonomy: Taxonomy, settings: TrainingSettings, teacher: Teacher | None = None) -> OutOfFold:
    """Out-of-fold labels and probabilities of the fast model; with a teacher, fold k's model also
    learns from `teacher(k)`, labels of groups outside fold k's test set."""
    group_by = group_field(records, settings.group_by)
    return _out_of_fold(records, taxonomy, settings, lambda fold, train, test: fit_finding_classifier(
        make_fast_classifier(settings.fast, taxonomy), [records[i] for i in train], taxonomy, group_by,
        _fold_teacher(teacher, fold, [records[i] for i in test], group_by) if teacher is not None else None))


def _fold_teacher(teacher: Teacher, fold: int, tested: list[dict], group_by: str | None) -> DistilledFindings:
    """`teacher(fold)`, refused if it holds a finding of a group that fold tests on (or cannot say), or
    if the teacher itself learnt from the gold of such a group (when it says which groups it never saw)."""
    taught = teacher(fold)
    if group_by is None:
        return taught
    if taught.groups is None:
        raise TrainingDataError(f"the teacher's labels for fold {fold} have no groups, so they cannot be kept apart from its test groups.")
    tested_groups = {str(r[group_by]) for r in tested}
    leaked = tested_groups & {str(g) for g in taught.groups}
    if leaked:
        raise TrainingDataError(
            f"the teacher's labels for fold {fold} include findings of {sorted(leaked)[:5]}, which fold {fold} tests on: "
            "a fold's model must not learn from its test groups, even through a teacher; label each fold without them."
        )
    seen = tested_groups - {str(g) for g in taught.unseen_groups} if taught.unseen_groups is not None else set()
    if seen:
        raise TrainingDataError(
            f"fold {fold}'s teacher learnt from the gold of {sorted(seen)[:5]}, which fold {fold} tests on: its labels "
            "carry that gold into the fold's model. Label fold k with a teacher trained without fold k's gold "
            "(the folds have changed since the teacher was trained: train it again)."
        )
    return taught


def _out_of_fold(records: list[dict], taxonomy: Taxonomy, settings: TrainingSettings, fit: Callable[[int, np.ndarray, np.ndarray], object]) -> OutOfFold:
    """Cross-validation of the model `fit(fold, train rows, test rows)` returns."""
    texts = [r["text"] for r in records]
    predictions: list[FindingLabels | None] = [None] * len(records)
    themes = np.zeros((len(records), len(taxonomy.theme_ids)))
    polarity, fold_models = np.zeros((len(records), len(taxonomy.polarities))), []
    for fold, (train, test) in enumerate(grouped_folds(records, settings.folds, settings.group_by, settings.seed)):
        model = fit(fold, train, test)
        test_texts = [texts[i] for i in test]
        for i, label in zip(test, model.predict(test_texts, with_evidence=False)):
            predictions[i] = label
        theme_probabilities, polarity_probabilities = model.scores(test_texts)
        themes[test] = columns_in_order(model.themes_, theme_probabilities, taxonomy.theme_ids)
        # A training fold may lack a polarity (a team's data without `mixed`): its column stays 0.
        polarity[test] = columns_in_order(model.polarity_, polarity_probabilities, taxonomy.polarities)
        fold_models.append(model)
    return OutOfFold(predictions, themes, polarity, fold_models)  # type: ignore[arg-type]


def _polarity_targets(records: list[dict]) -> tuple[list[str], list[dict]]:
    """The stacker's polarity targets: each finding's polarity and its theme polarities."""
    return [r["polarity"] for r in records], [r.get("theme_polarity") or {} for r in records]


def stacked_cross_validation(
    records: list[dict], inputs: StackInputs, make_stacker: Callable[[], FindingStacker], folds: list, labels: tuple[str, ...]
) -> tuple[list[FindingLabels], np.ndarray, list[FindingStacker]]:
    """Out-of-fold labels of the stacker, its theme probabilities, and the stacker of each fold.

    `inputs` hold out-of-fold scores already; the stacker of fold k learns from the other folds'.
    """
    Y = theme_matrix([r["themes"] for r in records], labels)
    predictions: list[FindingLabels | None] = [None] * len(records)
    probabilities = np.zeros(Y.shape)
    stackers = []
    for train, test in folds:
        stacker = make_stacker().fit(inputs.take(train), Y[train], *_polarity_targets([records[i] for i in train]))
        for i, label in zip(test, stacker.finding_labels(inputs.take(test))[0]):
            predictions[i] = label
        probabilities[test] = stacker.predict_theme_proba(inputs.take(test))
        stackers.append(stacker)
    return predictions, probabilities, stackers  # type: ignore[return-value]


# Training ---------------------------------------------------------------------------------------------


@dataclass
class TrainedModel:
    """A fitted model with its taxonomy, its cross-validated figures and the model of each fold.

    metrics (dict): `evaluate` results under "fast" for the fast kind, "second_opinion" (the fast
        model of the gold alone), "accurate", "accurate_float32" and "accurate_int8" for the
        accurate kind (with self-training, only "accurate_<precision>" of the export, beside
        "without_self_training": the teachers' outputs stacked alike), "ngram" for either when its cross-validation
        was given, "model" (this kind's), "cross_validation" (folds and groups) and "training"
        (seconds, peak memory, encoder fold log, and the students' with self-training).
    extra (dict): for the accurate kind, the base encoder's provenance, the export precision and
        the self-training settings when it self-trained.
    """

    model: NgramFindingModel | EncoderFindingModel
    taxonomy: Taxonomy
    records: list[dict]
    settings: TrainingSettings
    metrics: dict
    fold_models: list
    extra: dict = field(default_factory=dict)


def train_model(
    records: list[dict],
    taxonomy: Taxonomy,
    settings: TrainingSettings,
    *,
    ngram: OutOfFold | None = None,
    teacher: Teacher | None = None,
    encoder_folder: Path | None = None,
    load_encoder: Callable | None = None,
    unlabelled: list[dict] | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> TrainedModel:
    """Cross-validate and fit the model `settings` describe (see the module docstring).

    records (list[dict]): labelled findings (`read_training_data`).
    ngram (OutOfFold | None): the n-gram model's cross-validation (`ngram_out_of_fold`) on these
        records, folds and settings, reported beside the model's own figures when given
        (training/train.py gives it, kept between runs, for the Ofsted models' comparison).
    teacher (Teacher | None): a teacher's labels the fast kind also learns from (fold k's, and "final"
        for the model itself); without it, the fast kind learns from `records` alone.
    encoder_folder (Path | None): where the encoder's fold models and outputs go; a run that finds
        them there reuses them (default: a temporary folder).
    load_encoder (Callable | None): a fresh copy of the pretrained encoder, each call (default: the
        pinned `settings.encoder["base"]`; tests pass a tiny random one).
    unlabelled (list[dict] | None): findings without labels ("id", "text" and the `group_by` field),
        for the accurate kind's self-training (`settings.encoder["self_training"]`), which needs them.
    """
    if settings.kind not in MODEL_KINDS:
        raise TrainingDataError(f"unknown model kind {settings.kind!r}; choose one of {list(MODEL_KINDS)}.")
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    labels = taxonomy.theme_ids
    started = time.perf_counter()
    metrics: dict = {"cross_validation": folds_summary(records, settings.folds, settings.group_by)}
    timings: dict = {}
    extra: dict = {}
    if teacher is not None:
        teacher = functools.cache(teacher)  # each fold's labels are read once, and counted below without reading them again
    if ngram is not None:
        metrics["ngram"] = evaluate(records, ngram.predictions, labels)
    if settings.kind == "accurate":
        if encoder_folder is None:
            with tempfile.TemporaryDirectory(prefix="encoder-cv-") as scratch:
                model, fold_models, extra = _fit_accurate(records, taxonomy, settings, Path(scratch), load_encoder, unlabelled, metrics, timings, log)
        else:
            model, fold_models, extra = _fit_accurate(records, taxonomy, settings, encoder_folder, load_encoder, unlabelled, metrics, timings, log)
    else:
        fast = fast_out_of_fold(records, taxonomy, settings, teacher)
        metrics["fast"] = evaluate(records, fast.predictions, labels)
        timings["fast_cv_seconds"] = round(time.perf_counter() - started, 1)
        model = NgramFindingModel(fit_finding_classifier(
            make_fast_classifier(settings.fast, taxonomy), records, taxonomy, settings.group_by, teacher("final") if teacher is not None else None))
        fold_models = [NgramFindingModel(fold_model) for fold_model in fast.fold_models]
        if teacher is not None:
            extra["teacher"] = {
                "fold_findings": [len(teacher(k).texts) for k in range(settings.folds)],
                "final_findings": len(teacher("final").texts),
                "weight": teacher("final").weight,
                "themes": teacher("final").themes is not None,
            }
    timings["total_seconds"] = round(time.perf_counter() - started, 1)
    timings["peak_rss_mb"] = _peak_rss_mb()
    metrics["training"] = timings
    metrics["model"] = metrics[settings.kind]
    return TrainedModel(model, taxonomy, records, settings, metrics, fold_models, extra)


def _fit_accurate(records, taxonomy, settings, folder, load_encoder, unlabelled, metrics, timings, log):
    """The accurate kind: encoder folds (and their students, with self-training), the fast model's
    cross-validation (its second opinion), stacked cross-validation, final encoder, fast model and
    stacker; fills `metrics` and `timings`, returns (model, fold models, extra)."""
    from . import encoder_cv
    from .finetune import FinetuneSettings, load_base_encoder

    encoder = settings.encoder
    finetune_settings = FinetuneSettings(**encoder["finetune"])
    self_training = encoder_cv.SelfTraining(**encoder.get("self_training", {}))
    if self_training.findings and not unlabelled:
        raise TrainingDataError("[encoder.self_training] findings > 0 needs unlabelled findings to teach: pass `unlabelled`, or set it to 0.")
    load = load_encoder or (lambda: load_base_encoder(encoder["base"]))
    precision, labels = encoder["precision"], taxonomy.theme_ids
    folds = grouped_folds(records, settings.folds, settings.group_by, settings.seed)
    timings["encoder_cv"] = encoder_cv.run_folds(records, taxonomy, folds, finetune_settings, load, folder, log)
    teachers, variants = folder, encoder_cv.PRECISIONS
    if self_training.findings:
        folder, timings["self_training"] = encoder_cv.run_students(
            records, taxonomy, folds, finetune_settings, load, teachers, unlabelled, self_training, settings.group_by, precision, log
        )
        variants = (precision,)
    started = time.perf_counter()
    second_opinion = fast_out_of_fold(records, taxonomy, settings)
    metrics["second_opinion"] = evaluate(records, second_opinion.predictions, labels)
    timings["second_opinion_cv_seconds"] = round(time.perf_counter() - started, 1)
    make_stacker = lambda: FindingStacker(**settings.stacker, labels=labels, polarities=taxonomy.polarities)  # noqa: E731

    def stacked(outputs):
        inputs = StackInputs.from_outputs(outputs, second_opinion.theme_probabilities, second_opinion.polarity_probabilities)
        predictions, probabilities, fold_stackers = stacked_cross_validation(records, inputs, make_stacker, folds, labels)
        return evaluate(records, predictions, labels, probabilities=probabilities), fold_stackers

    fold_stackers, oof = {}, {}
    for variant in variants:
        oof[variant] = encoder_cv.encoder_oof(len(records), len(folds), variant, folder)
        metrics[f"accurate_{variant}"], fold_stackers[variant] = stacked(oof[variant])
    metrics["accurate"] = metrics[f"accurate_{precision}"]
    if self_training.findings:
        metrics["without_self_training"] = stacked(encoder_cv.encoder_oof(len(records), len(folds), precision, teachers))[0]
        final = encoder_cv.final_student(
            records, taxonomy, finetune_settings, load, precision, teachers, unlabelled, self_training, len(folds), log
        )
        timings["final_teacher_fine_tune_seconds"] = final["teacher_fine_tune_seconds"]
    else:
        final = encoder_cv.final_encoder(records, taxonomy, finetune_settings, load, precision, folder, log)
    timings["final_fine_tune_seconds"] = final["fine_tune_seconds"]
    fast_model = fit_finding_classifier(make_fast_classifier(settings.fast, taxonomy), records, taxonomy, settings.group_by)
    stacker = make_stacker().fit(
        StackInputs.from_outputs(oof[precision], second_opinion.theme_probabilities, second_opinion.polarity_probabilities),
        theme_matrix([r["themes"] for r in records], labels),
        *_polarity_targets(records),
    )
    runtime = {"max_length": finetune_settings.max_length}

    def encoder_model(onnx: bytes, heads, model_stacker, fast) -> EncoderFindingModel:
        # The fast model rides along only when the stacker reads it.
        reads_fast = model_stacker.ngram or model_stacker.ngram_polarity
        return EncoderFindingModel(
            onnx=onnx,
            tokenizer=final["tokenizer"],
            heads=heads,
            stacker=model_stacker,
            fast=fast if reads_fast else None,
            settings=runtime,
        )

    model = encoder_model(final["onnx"], final["heads"], stacker, fast_model)
    fold_models = [
        encoder_model(fold["onnx"], fold["heads"], fold_stacker, fold_fast)
        for fold, fold_stacker, fold_fast in zip(encoder_cv.fold_encoders(len(folds), precision, folder), fold_stackers[precision], second_opinion.fold_models)
    ]
    extra = {"precision": precision, "base_encoder": final["provenance"]}
    if self_training.findings:
        extra["self_training"] = {"findings": self_training.findings, "seed": self_training.seed, "unlabelled": len(unlabelled)}
    return model, fold_models, extra


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


# Writing the model ---------------------------------------------------------------------------------------


def training_data_record(path: str | os.PathLike, records: list[dict], group_by: str | None) -> dict:
    """Where the training findings came from, for the meta and the card."""
    group_by = group_field(records, group_by)
    return {
        "path": str(path),
        "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        "findings": len(records),
        "grouped_by": group_by,
        "groups": len({str(r[group_by]) for r in records}) if group_by else None,
    }


def write_model(
    trained: TrainedModel,
    output: Path,
    *,
    name: str,
    version: str,
    training_data: dict,
    description: str = "",
    meta: dict | None = None,
) -> Path:
    """Write the model as a loadable spaCy pipeline folder with meta, checksums and a model card.

    training_data (dict): `training_data_record` and anything else the card should say.
    meta (dict | None): more meta keys (e.g. `license`, `sources`) and `inspection_themes` keys.
    """
    from .classify import save_pipeline
    from .model_card import model_card
    from .pipeline import make_segmenter

    extra_meta = dict(meta or {})
    custom = extra_meta.pop("inspection_themes", {})
    info = {"version": version, "training_data": training_data, **trained.extra}
    nlp = make_segmenter()
    nlp.add_pipe("ofsted_theme_classifier_v2", name="themes").set_model(trained.model, trained.taxonomy, info=info)
    nlp.meta.update(
        {
            "name": name,
            "version": version,
            "description": description or f"Themes of the taxonomy {trained.taxonomy} and polarity for findings of reports.",
            "requirements": [f"inspection-themes>={__version__},<{_next_minor(__version__)}"],
            "performance": performance_summary(trained.metrics),
            **extra_meta,
            "inspection_themes": {
                "kind": trained.model.kind,
                "taxonomy": trained.taxonomy.to_record(),
                "training_data": training_data,
                "base_encoder": trained.extra.get("base_encoder"),
                "precision": trained.extra.get("precision"),
                "teacher": trained.extra.get("teacher"),
                "self_training": trained.extra.get("self_training"),
                "settings": {"folds": trained.settings.folds, "group_by": trained.settings.group_by, "seed": trained.settings.seed},
                "metrics": trained.metrics,
                **custom,
            },
        }
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    save_pipeline(nlp, output)
    (output / "README.md").write_text(model_card(nlp.meta), encoding="utf-8")
    return output


def _next_minor(version: str) -> str:
    major, minor = version.split(".")[:2]
    return f"{major}.{int(minor) + 1}"


def performance_summary(metrics: dict) -> dict:
    """The headline figures of the meta's `performance`."""
    model = metrics["model"]
    summary = {
        "theme_micro_f1": model["themes"]["micro_f1"],
        "theme_macro_f1": model["themes"]["macro_f1"],
        "polarity_macro_f1": model["polarity"]["macro_f1"],
        "mixed_recall": model["polarity"]["per_class"]["mixed"]["recall"],
        "theme_polarity_pair_f1": model["theme_polarity_pairs"]["f1"],
        "theme_calibration_error_pooled": model["calibration_error"]["pooled"],
    }
    baseline = metrics.get("keyword_baseline")
    if baseline is not None:
        summary["keyword_baseline_theme_micro_f1"] = baseline["themes"]["micro_f1"]
        summary["keyword_baseline_polarity_macro_f1"] = baseline["polarity"]["macro_f1"]
    return summary


def train_from_files(
    data: str | os.PathLike,
    taxonomy_path: str | os.PathLike,
    output: str | os.PathLike,
    *,
    kind: str = "fast",
    folds: int = 5,
    group_by: str | None = DEFAULT_GROUP_FIELD,
    name: str | None = None,
    version: str = "0.1.0",
    log: Callable[[str], None] = lambda line: None,
) -> tuple[Path, TrainedModel]:
    """What `inspection-themes train` does: read and check, cross-validate, fit, write; the model folder.

    RAISES (TaxonomyError): a bad taxonomy file. (TrainingDataError): bad training data or settings.
    """
    from .taxonomy import load_taxonomy

    taxonomy = load_taxonomy(taxonomy_path)
    records = read_training_data(data, taxonomy, group_by, folds)
    settings = TrainingSettings(kind=kind, folds=folds, group_by=group_by)
    trained = train_model(records, taxonomy, settings, log=log)
    output = Path(output)
    folder = write_model(
        trained,
        output,
        name=name or output.name,
        version=version,
        training_data=training_data_record(data, records, group_by),
    )
    return folder, trained


__all__ = [
    "DEFAULT_GROUP_FIELD",
    "OutOfFold",
    "Teacher",
    "TrainedModel",
    "TrainingSettings",
    "check_training_data",
    "fast_out_of_fold",
    "ngram_out_of_fold",
    "grouped_folds",
    "read_training_data",
    "train_from_files",
    "train_model",
    "write_model",
]
