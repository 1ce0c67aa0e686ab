"""The encoder's part of training the accurate kind: one fine-tune per grouped fold, and one on all.

Needs the `train` extra (torch, transformers, onnx) when it fine-tunes; labelling never imports it.

`run_folds` fine-tunes on the training groups of each fold, exports the encoder to ONNX (float32
and int8), and runs the labelling-time code (`nlp.models.encoder`) on the test fold with each
export. Everything goes to a run folder: `fold-<k>-<precision>.npz` (the head outputs of the test
findings, each from the fold model that never saw its group, and the `OnnxEncoder.ENCODING` that
computed them), the fold models (ONNX and heads) and `folds.json` (time, peak memory and loss
curve of each fold); a finished fold is not redone, so a run that stops part-way resumes, but
outputs of another encoding than labelling's are computed again. Folds of one run folder may run in
parallel processes (`only`), each taking its share of the cores (`FinetuneSettings.threads`, which
each fold records): a fold is run under a lock of its own, and added to `folds.json` under another. `encoder_oof` merges the folds' outputs into the
out-of-fold outputs of every finding, on which the stacker is evaluated and fitted (`nlp.train`);
`final_encoder` fine-tunes on every finding for the model itself. Records that carry `sentences`
(sentence gold, attached by `training.train.gold_of`) also teach the polarity head their sentences'
polarity (`sentence_targets`, `nlp.finetune.finetune`'s `sentence_polarity`); a fold learns only
from its training records' sentences.

**Self-training** (`SelfTraining`, off unless `findings` > 0): each fine-tune, as a teacher, labels
`findings` unlabelled findings drawn at random from groups its test fold does not hold (the final
model's teacher draws from all), and a student is fine-tuned from the pretrained weights on the
same gold plus those labels (`Taught`: theme probabilities kept soft, the polarity, and the
polarity of each theme the teacher gives). `run_students` and `final_encoder(taught=)` keep the
students in a folder of the teachers' run folder, in the same layout, so that everything that reads
a run folder reads the students alike; a student's test outputs are computed only at the precision
the model is exported at (the loss of int8 against float32 is measured on the teachers). The
teacher's labels are kept beside each student, with a digest of the teacher and the findings that
a kept student must match; they are training signal, never gold.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import TrainingDataError
from .finetune import FinetuneSettings, LoadedEncoder, export_onnx, finetune, quantize_onnx
from .models.encoder import EncoderHeads, EncoderOutputs, OnnxEncoder, heads_from_bytes, heads_to_bytes
from .scoring import theme_matrix
from .sentences import text_sentences
from .taxonomy import Taxonomy

PRECISIONS = ("float32", "int8")
Folds = list[tuple[np.ndarray, np.ndarray]]


def encoder_targets(records: list[dict], taxonomy: Taxonomy) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Texts, theme matrix, polarity indices and per-theme polarity indices (-1: theme absent)."""
    polarity_index = {p: k for k, p in enumerate(taxonomy.polarities)}
    theme_index = {t: j for j, t in enumerate(taxonomy.theme_ids)}
    pairs = np.full((len(records), len(theme_index)), -1, dtype=np.int64)
    for i, record in enumerate(records):
        for theme, polarity in record["theme_polarity"].items():
            if polarity is not None:
                pairs[i, theme_index[theme]] = polarity_index[polarity]
    return (
        [r["text"] for r in records],
        theme_matrix([r["themes"] for r in records], taxonomy.theme_ids),
        np.array([polarity_index[r["polarity"]] for r in records]),
        pairs,
    )


def sentence_targets(records: list[dict], taxonomy: Taxonomy) -> list[list[tuple[int, int, int]] | None]:
    """Per record, its sentences with gold of their own as (start, end, polarity index), or None:
    the `sentences` a record carries when sentence gold was attached to it."""
    polarity_index = {p: k for k, p in enumerate(taxonomy.polarities)}
    return [
        [(s["start"], s["end"], polarity_index[s["polarity"]]) for s in r["sentences"]] if r.get("sentences") else None
        for r in records
    ]


def encoder_outputs(onnx: bytes, tokenizer: str, texts: list[str], settings: FinetuneSettings, heads: EncoderHeads) -> dict:
    """The labelling-time head outputs for `texts`, as arrays to save."""
    runtime = OnnxEncoder(onnx, tokenizer, max_length=settings.max_length, threads=settings.threads)
    outputs = heads.apply(runtime.encode(texts), text_sentences(texts))
    return {name: getattr(outputs, name) for name in outputs.__dataclass_fields__}


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass(frozen=True)
class Taught:
    """Findings a teacher labelled, as targets beside the gold: their texts, theme probabilities (kept
    soft: the theme loss is a binary cross-entropy), polarity indices, and the polarity index of each
    theme the teacher gives (probability >= 0.5), -1 for the others; `digest` names the teacher and
    the findings, so that a student of another teacher or draw is never taken for this one's."""

    texts: list[str]
    themes: np.ndarray
    polarity: np.ndarray
    pairs: np.ndarray
    digest: str = ""

    @classmethod
    def from_outputs(cls, texts: list[str], outputs: dict, digest: str = "") -> Taught:
        probabilities = 1 / (1 + np.exp(-outputs["theme_logits"]))
        pairs = np.where(probabilities >= 0.5, outputs["pair_logits"].argmax(-1), -1)
        return cls(texts, probabilities.astype(np.float32), outputs["polarity_logits"].argmax(1), pairs.astype(np.int64), digest)


@dataclass(frozen=True)
class SelfTraining:
    """The `[encoder.self_training]` settings: how many unlabelled findings each teacher labels (0: no
    self-training) and the seed of their draw (teacher k draws with `seed + k`)."""

    findings: int = 0
    seed: int = 0

    def folder(self, teachers: Path) -> Path:
        """Where the students of the teachers in run folder `teachers` live."""
        return teachers / f"self-training-{self.findings}-{self.seed}"

    def draw(self, unlabelled: list[dict], group_by: str | None, tested: set, index: int) -> list[dict]:
        """The findings teacher `index` (a fold, or the number of folds for the final model) labels:
        `findings` of `unlabelled` at random, none of a group in `tested`.

        RAISES (TrainingDataError): an unlabelled finding without `group_by`, or fewer eligible
            findings than `findings`.
        """
        if group_by is not None and (missing := next((f for f in unlabelled if f.get(group_by) is None), None)):
            raise TrainingDataError(
                f"unlabelled finding {missing.get('id')!r} has no {group_by!r}: self-training could teach a student findings "
                "of the groups its fold is tested on. Give every unlabelled finding its group."
            )
        eligible = [f for f in unlabelled if group_by is None or f[group_by] not in tested]
        if len(eligible) < self.findings:
            raise TrainingDataError(
                f"self-training asks for {self.findings} unlabelled findings per model, but only {len(eligible)} "
                f"are outside the {len(tested)} groups tested on: give more unlabelled findings or lower "
                "[encoder.self_training] findings."
            )
        return random.Random(self.seed + index).sample(eligible, self.findings)


def teach(teacher_onnx: bytes, heads: bytes, tokenizer: str, findings: list[dict], settings: FinetuneSettings, path: Path) -> Taught:
    """The labels that the teacher (its ONNX export and heads file) gives `findings` (each with "id"
    and "text"), kept at `path` and read from it when it holds this teacher's labels of them.

    RAISES (TrainingDataError): `path` holds another teacher's labels or labels of other findings
        (the gold, the settings or the unlabelled findings changed since): remove its folder.
    """
    texts = [f["text"] for f in findings]
    content = hashlib.sha256(teacher_onnx)
    content.update(heads)
    content.update(json.dumps([(f["id"], f["text"]) for f in findings]).encode())
    digest = content.hexdigest()
    if not path.exists():
        outputs = encoder_outputs(teacher_onnx, tokenizer, texts, settings, heads_from_bytes(heads))
        np.savez_compressed(path, ids=np.array([f["id"] for f in findings]), digest=np.array(digest), **outputs)
    with np.load(path) as data:
        if "digest" not in data.files or str(data["digest"]) != digest:
            raise TrainingDataError(f"{path} holds another teacher's labels or labels of other findings (the gold, the settings or the unlabelled findings changed): remove {path.parent}.")
        return Taught.from_outputs(texts, {name: data[name] for name in data.files}, digest)


def _fine_tune(load_encoder, targets: tuple, rows, taught: Taught | None, n_polarities: int, settings: FinetuneSettings, log):
    """Fine-tune a fresh encoder on the records at `rows` of `targets` (`encoder_targets` and
    `sentence_targets`), and on `taught` when given."""
    texts, themes, polarity, pairs, sentences = targets
    texts, themes, polarity, pairs, sentences = [texts[i] for i in rows], themes[rows], polarity[rows], pairs[rows], [sentences[i] for i in rows]
    if taught is not None:
        texts = texts + taught.texts
        themes = np.vstack([themes, taught.themes])
        polarity = np.concatenate([polarity, taught.polarity])
        pairs = np.vstack([pairs, taught.pairs])
        sentences = sentences + [None] * len(taught.texts)
    return finetune(load_encoder(), texts, themes, polarity, pairs, n_polarities, settings, log=log, sentence_polarity=sentences)


def run_folds(
    records: list[dict],
    taxonomy: Taxonomy,
    folds: Folds,
    settings: FinetuneSettings,
    load_encoder: Callable[[], LoadedEncoder],
    folder: Path,
    log: Callable[[str], None] = lambda line: None,
    taught: Callable[[int], Taught] | None = None,
    precisions: tuple[str, ...] = PRECISIONS,
    only: Collection[int] | None = None,
) -> dict:
    """Fine-tune the fold models that are not done yet in `folder` (a fold fine-tuned again loses the
    exports and outputs of its earlier fine-tune), and label each test fold at every one of
    `precisions` not done yet, with the fold's export at that precision (int8: quantised from the
    float32 export when there is none); return the folds' log.

    load_encoder (Callable): a fresh copy of the pretrained encoder (fine-tuning changes it in place).
    taught (Callable | None): fold k -> the findings a teacher labelled that fold k's model also
        learns from (`run_students`); a fold done with other taught findings is refused.
    only (Collection | None): the numbers of the folds to run (None: all), so that processes can
        share out the folds of one run.

    RAISES (TrainingDataError): a done fold of `folder` was taught by another teacher or draw.
    """
    folder.mkdir(parents=True, exist_ok=True)
    run = _FoldRun(
        targets=(*encoder_targets(records, taxonomy), sentence_targets(records, taxonomy)),
        n_polarities=len(taxonomy.polarities),
        settings=settings,
        load_encoder=load_encoder,
        tokenizer=load_encoder().tokenizer,
        folder=folder,
        log=log,
        taught=taught,
        precisions=precisions,
    )
    for k, split in enumerate(folds):
        if only is not None and k not in only:
            continue
        # A second process asked for the same fold waits, then finds it done.
        with _file_lock(folder / f"fold-{k}.lock"):
            run.fold(k, split)
        log(f"fold {k} done")
    return _fold_log(folder, settings)


def _file_lock(path: Path):
    """A lock that processes sharing a run folder take in turn."""
    from filelock import FileLock  # the train extra's, as fine-tuning is

    return FileLock(path)


@dataclass(frozen=True)
class _FoldRun:
    """What every fold of one `run_folds` call shares (its arguments, prepared once)."""

    targets: tuple
    n_polarities: int
    settings: FinetuneSettings
    load_encoder: Callable[[], LoadedEncoder]
    tokenizer: str  # as `tokenizers` JSON
    folder: Path
    log: Callable[[str], None]
    taught: Callable[[int], Taught] | None
    precisions: tuple[str, ...]

    def fold(self, k: int, split: tuple[np.ndarray, np.ndarray]) -> None:
        """Fine-tune fold `k` (train and test rows `split`) unless done, label its test rows at every
        precision not done yet, and record it in the folds' log."""
        train, test = split
        folder, settings, log = self.folder, self.settings, self.log
        texts = self.targets[0]
        float32_path, heads_path = folder / f"fold-{k}-float32.onnx", folder / f"fold-{k}-heads.safetensors"
        extra = self.taught(k) if self.taught is not None else None
        entry = _fold_log(folder, settings)["folds"].get(str(k))
        if entry is not None and extra is not None and entry.get("taught_sha256") != extra.digest:
            raise TrainingDataError(
                f"fold {k} in {folder} was taught by another teacher or other findings than this run's "
                "(the teachers, the settings or the unlabelled findings changed): remove the folder."
            )
        if entry is None:
            for precision in PRECISIONS:
                for stale in (folder / f"fold-{k}-{precision}.onnx", folder / f"fold-{k}-{precision}.npz"):
                    stale.unlink(missing_ok=True)
            started = time.perf_counter()
            tuned = _fine_tune(self.load_encoder, self.targets, train, extra, self.n_polarities, settings, lambda line: log(f"fold {k}: {line}"))
            heads_path.write_bytes(heads_to_bytes(EncoderHeads(tuned.heads)))
            float32_path.write_bytes(export_onnx(tuned.encoder, quantize=False))
            entry = {
                "train": len(train),
                "test": len(test),
                **({"taught": len(extra.texts), "taught_sha256": extra.digest} if extra is not None else {}),
                "fine_tune_seconds": round(time.perf_counter() - started, 1),
                "fine_tune_threads": settings.threads,
                "label_test_seconds": {},
                "peak_rss_mb": _peak_rss_mb(),
                "history": tuned.history,
            }
        heads = heads_from_bytes(heads_path.read_bytes())
        for precision in self.precisions:
            outputs_path = folder / f"fold-{k}-{precision}.npz"
            if _encoded_as_labelling_does(outputs_path):
                continue
            onnx_path = folder / f"fold-{k}-{precision}.onnx"
            if not onnx_path.exists():
                onnx_path.write_bytes(quantize_onnx(float32_path.read_bytes()))
            onnx = onnx_path.read_bytes()
            begin = time.perf_counter()
            arrays = encoder_outputs(onnx, self.tokenizer, [texts[i] for i in test], settings, heads)
            entry["label_test_seconds"][precision] = round(time.perf_counter() - begin, 1)
            entry.setdefault("label_test_threads", {})[precision] = settings.threads
            np.savez_compressed(outputs_path, test=test, encoding=np.array(OnnxEncoder.ENCODING), **arrays)
        _record_fold(folder, settings, k, entry)


def _fold_log(folder: Path, settings: FinetuneSettings) -> dict:
    """`folds.json` of `folder` as it is now, or a new log of `settings`."""
    path = folder / "folds.json"
    return json.loads(path.read_text()) if path.exists() else {"settings": settings.__dict__, "folds": {}}


def _record_fold(folder: Path, settings: FinetuneSettings, k: int, entry: dict) -> None:
    """Add fold `k` to `folds.json` as it is when written, so that folds that processes run at the
    same time all stay in it; replaced whole, so that no process reads it half written."""
    with _file_lock(folder / "folds.json.lock"):
        fold_log = _fold_log(folder, settings)
        fold_log["folds"][str(k)] = entry
        written = folder / ".folds.json.tmp"
        written.write_text(json.dumps(fold_log, indent=2) + "\n")
        os.replace(written, folder / "folds.json")


def _encoded_as_labelling_does(outputs_path: Path) -> bool:
    """Whether saved fold outputs exist and were computed the way `OnnxEncoder` encodes now."""
    if not outputs_path.exists():
        return False
    with np.load(outputs_path) as data:
        return "encoding" in data.files and str(data["encoding"]) == OnnxEncoder.ENCODING


def encoder_oof(n_records: int, n_folds: int, precision: str, folder: Path) -> EncoderOutputs:
    """The out-of-fold head outputs of every record, from the fold outputs `run_folds` saved in `folder`."""
    parts = []
    for k in range(n_folds):
        with np.load(folder / f"fold-{k}-{precision}.npz") as data:
            parts.append({name: data[name] for name in data.files})
    first = parts[0]
    merged = {name: np.zeros((n_records, *first[name].shape[1:]), dtype=np.float32) for name in ("theme_logits", "polarity_logits", "pair_logits")}
    sentence_theme, sentence_polarity, owner = [], [], []
    for part in parts:
        for name in merged:
            merged[name][part["test"]] = part[name]
        owner.append(part["test"][part["sentence_owner"]])
        sentence_theme.append(part["sentence_theme_logits"])
        sentence_polarity.append(part["sentence_polarity_logits"])
    owner = np.concatenate(owner)
    order = np.argsort(owner, kind="stable")
    return EncoderOutputs(
        sentence_theme_logits=np.concatenate(sentence_theme)[order],
        sentence_polarity_logits=np.concatenate(sentence_polarity)[order],
        sentence_owner=owner[order],
        **merged,
    )


def fold_encoders(n_folds: int, precision: str, folder: Path) -> list[dict]:
    """The ONNX file and heads of each fold model saved in `folder`, in fold order."""
    return [
        {
            "onnx": (folder / f"fold-{k}-{precision}.onnx").read_bytes(),
            "heads": heads_from_bytes((folder / f"fold-{k}-heads.safetensors").read_bytes()),
        }
        for k in range(n_folds)
    ]


def run_students(
    records: list[dict],
    taxonomy: Taxonomy,
    folds: Folds,
    settings: FinetuneSettings,
    load_encoder: Callable[[], LoadedEncoder],
    teachers: Path,
    unlabelled: list[dict],
    self_training: SelfTraining,
    group_by: str | None,
    precision: str,
    log: Callable[[str], None] = lambda line: None,
    only: Collection[int] | None = None,
) -> tuple[Path, dict]:
    """Self-training of the fold models `run_folds` left in `teachers`: fold k's teacher labels its
    draw of `unlabelled` (findings with "id", "text" and the `group_by` field; none of a group fold
    k tests on) and fold k's student learns from its training records and those labels. The students
    are kept as `run_folds` keeps fold models, in `self_training.folder(teachers)`, with test outputs
    at `precision` only; `only` as in `run_folds`.

    RETURNS (tuple): the students' folder and their folds' log.
    RAISES (TrainingDataError): see `SelfTraining.draw`, `teach` and `run_folds`.
    """
    folder = self_training.folder(teachers)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = load_encoder().tokenizer

    def taught(k: int) -> Taught:
        tested = {records[i][group_by] for i in folds[k][1]} if group_by else set()
        return teach(
            (teachers / f"fold-{k}-float32.onnx").read_bytes(),
            (teachers / f"fold-{k}-heads.safetensors").read_bytes(),
            tokenizer,
            self_training.draw(unlabelled, group_by, tested, k),
            settings,
            folder / f"fold-{k}-teacher-labels.npz",
        )

    return folder, run_folds(records, taxonomy, folds, settings, load_encoder, folder, lambda line: log(f"student {line}"), taught, (precision,), only)


def final_encoder(
    records: list[dict],
    taxonomy: Taxonomy,
    settings: FinetuneSettings,
    load_encoder: Callable[[], LoadedEncoder],
    precision: str,
    folder: Path,
    log: Callable[[str], None] = lambda line: None,
    taught: Taught | None = None,
    keep_float32: bool = False,
) -> dict:
    """The encoder fine-tuned on every record (and on `taught`, when given) and exported at
    `precision` (kept in `folder`, with its float32 export too when `keep_float32`: a teacher's).

    RETURNS (dict): "onnx", "heads", "tokenizer", "provenance" and "fine_tune_seconds" (of the run
        that fine-tuned it, which may be an earlier one: the export is kept and reused).
    RAISES (TrainingDataError): the kept final model was taught other findings than `taught`.
    """
    onnx_path, float32_path, heads_path = folder / f"final-{precision}.onnx", folder / "final-float32.onnx", folder / "final-heads.safetensors"
    record_path = folder / "final.json"
    loaded = load_encoder()
    kept = [onnx_path, heads_path, record_path] + ([float32_path] if keep_float32 else [])
    folder.mkdir(parents=True, exist_ok=True)
    # A process started while another fine-tunes this final model (`training.encoder_cv final`)
    # waits, then finds it done.
    with _file_lock(folder / "final.lock"):
        if all(path.exists() for path in kept) and taught is not None and json.loads(record_path.read_text()).get("taught_sha256") != taught.digest:
            raise TrainingDataError(f"{folder}'s final model was taught by another teacher or other findings than this run's: remove the folder.")
        if not all(path.exists() for path in kept):
            started = time.perf_counter()
            targets = (*encoder_targets(records, taxonomy), sentence_targets(records, taxonomy))
            tuned = _fine_tune(lambda: loaded, targets, np.arange(len(records)), taught, len(taxonomy.polarities), settings, lambda line: log(f"final: {line}"))
            heads_path.write_bytes(heads_to_bytes(EncoderHeads(tuned.heads)))
            float32 = export_onnx(tuned.encoder, quantize=False)
            onnx_path.write_bytes(float32 if precision == "float32" else quantize_onnx(float32))
            if keep_float32:
                float32_path.write_bytes(float32)
            record = {"history": tuned.history, "fine_tune_seconds": round(time.perf_counter() - started, 1)}
            if taught is not None:
                record.update(taught=len(taught.texts), taught_sha256=taught.digest)
            record_path.write_text(json.dumps(record, indent=2) + "\n")
    return {
        "onnx": onnx_path.read_bytes(),
        "heads": heads_from_bytes(heads_path.read_bytes()),
        "tokenizer": loaded.tokenizer,
        "provenance": loaded.provenance,
        "fine_tune_seconds": json.loads(record_path.read_text()).get("fine_tune_seconds"),
    }


def final_student(
    records: list[dict],
    taxonomy: Taxonomy,
    settings: FinetuneSettings,
    load_encoder: Callable[[], LoadedEncoder],
    precision: str,
    teachers: Path,
    unlabelled: list[dict],
    self_training: SelfTraining,
    n_folds: int,
    log: Callable[[str], None] = lambda line: None,
) -> dict:
    """The final model's student: `final_encoder` in `teachers` (its teacher) labels its draw of all
    of `unlabelled`, and the student learns from every record and those labels; as `final_encoder`,
    with "teacher_fine_tune_seconds" besides."""
    teacher = final_encoder(records, taxonomy, settings, load_encoder, precision, teachers, log, keep_float32=True)
    folder = self_training.folder(teachers)
    folder.mkdir(parents=True, exist_ok=True)
    taught = teach(
        (teachers / "final-float32.onnx").read_bytes(),
        (teachers / "final-heads.safetensors").read_bytes(),
        load_encoder().tokenizer,
        self_training.draw(unlabelled, None, set(), n_folds),
        settings,
        folder / "final-teacher-labels.npz",
    )
    student = final_encoder(records, taxonomy, settings, load_encoder, precision, folder, lambda line: log(f"student {line}"), taught)
    return {**student, "teacher_fine_tune_seconds": teacher["fine_tune_seconds"]}
