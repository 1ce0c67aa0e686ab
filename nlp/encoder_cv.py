"""The encoder's part of training the accurate kind: one fine-tune per grouped fold, and one on all.

Needs the `train` extra (torch, transformers, onnx) when it fine-tunes; labelling never imports it.

`run_folds` fine-tunes on the training groups of each fold, exports the encoder to ONNX (float32
and int8), and runs the labelling-time code (`nlp.models.encoder`) on the test fold with each
export. Everything goes to a run folder: `fold-<k>-<precision>.npz` (the head outputs of the test
findings, each from the fold model that never saw its group, and the `OnnxEncoder.ENCODING` that
computed them), the fold models (ONNX and heads) and `folds.json` (time, peak memory and loss
curve of each fold); a finished fold is not redone, so a run that stops part-way resumes, but
outputs of another encoding than labelling's are computed again. `encoder_oof` merges the folds' outputs into the
out-of-fold outputs of every finding, on which the stacker is evaluated and fitted (`nlp.train`);
`final_encoder` fine-tunes on every finding for the model itself. Records that carry `sentences`
(sentence gold, attached by `training.train.gold_of`) also teach the polarity head their sentences'
polarity (`sentence_targets`, `nlp.finetune.finetune`'s `sentence_polarity`); a fold learns only
from its training records' sentences.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

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


def run_folds(
    records: list[dict],
    taxonomy: Taxonomy,
    folds: Folds,
    settings: FinetuneSettings,
    load_encoder: Callable[[], LoadedEncoder],
    folder: Path,
    log: Callable[[str], None] = lambda line: None,
) -> dict:
    """Fine-tune the fold models that are not done yet in `folder`, and label each test fold at every
    precision not done yet (int8 is quantised from the saved float32 export); return the folds' log.

    load_encoder (Callable): a fresh copy of the pretrained encoder (fine-tuning changes it in place).
    """
    texts, themes, polarity, pairs = encoder_targets(records, taxonomy)
    sentences = sentence_targets(records, taxonomy)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "folds.json"
    fold_log = json.loads(log_path.read_text()) if log_path.exists() else {"settings": settings.__dict__, "folds": {}}
    tokenizer = load_encoder().tokenizer
    for k, (train, test) in enumerate(folds):
        float32_path, heads_path = folder / f"fold-{k}-float32.onnx", folder / f"fold-{k}-heads.safetensors"
        if str(k) not in fold_log["folds"]:
            started = time.perf_counter()
            tuned = finetune(
                load_encoder(),
                [texts[i] for i in train],
                themes[train],
                polarity[train],
                pairs[train],
                len(taxonomy.polarities),
                settings,
                log=lambda line: log(f"fold {k}: {line}"),
                sentence_polarity=[sentences[i] for i in train],
            )
            heads_path.write_bytes(heads_to_bytes(EncoderHeads(tuned.heads)))
            float32_path.write_bytes(export_onnx(tuned.encoder, quantize=False))
            fold_log["folds"][str(k)] = {
                "train": len(train),
                "test": len(test),
                "fine_tune_seconds": round(time.perf_counter() - started, 1),
                "label_test_seconds": {},
                "peak_rss_mb": _peak_rss_mb(),
                "history": tuned.history,
            }
        heads = heads_from_bytes(heads_path.read_bytes())
        for precision in PRECISIONS:
            outputs_path = folder / f"fold-{k}-{precision}.npz"
            if _encoded_as_labelling_does(outputs_path):
                continue
            onnx = float32_path.read_bytes() if precision == "float32" else quantize_onnx(float32_path.read_bytes())
            (folder / f"fold-{k}-{precision}.onnx").write_bytes(onnx)
            begin = time.perf_counter()
            arrays = encoder_outputs(onnx, tokenizer, [texts[i] for i in test], settings, heads)
            fold_log["folds"][str(k)]["label_test_seconds"][precision] = round(time.perf_counter() - begin, 1)
            np.savez_compressed(outputs_path, test=test, encoding=np.array(OnnxEncoder.ENCODING), **arrays)
        log_path.write_text(json.dumps(fold_log, indent=2) + "\n")
        log(f"fold {k} done")
    return fold_log


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


def final_encoder(
    records: list[dict],
    taxonomy: Taxonomy,
    settings: FinetuneSettings,
    load_encoder: Callable[[], LoadedEncoder],
    precision: str,
    folder: Path,
    log: Callable[[str], None] = lambda line: None,
) -> dict:
    """The encoder fine-tuned on every record and exported at `precision` (kept in `folder`).

    RETURNS (dict): "onnx", "heads", "tokenizer", "provenance" and "fine_tune_seconds" (of the run
        that fine-tuned it, which may be an earlier one: the export is kept and reused).
    """
    onnx_path, heads_path = folder / f"final-{precision}.onnx", folder / "final-heads.safetensors"
    loaded = load_encoder()
    if not onnx_path.exists() or not heads_path.exists():
        started = time.perf_counter()
        texts, themes, polarity, pairs = encoder_targets(records, taxonomy)
        tuned = finetune(
            loaded, texts, themes, polarity, pairs, len(taxonomy.polarities), settings,
            log=lambda line: log(f"final: {line}"), sentence_polarity=sentence_targets(records, taxonomy),
        )
        folder.mkdir(parents=True, exist_ok=True)
        heads_path.write_bytes(heads_to_bytes(EncoderHeads(tuned.heads)))
        float32 = export_onnx(tuned.encoder, quantize=False)
        onnx_path.write_bytes(float32 if precision == "float32" else quantize_onnx(float32))
        record = {"history": tuned.history, "fine_tune_seconds": round(time.perf_counter() - started, 1)}
        (folder / "final.json").write_text(json.dumps(record, indent=2) + "\n")
    return {
        "onnx": onnx_path.read_bytes(),
        "heads": heads_from_bytes(heads_path.read_bytes()),
        "tokenizer": loaded.tokenizer,
        "provenance": loaded.provenance,
        "fine_tune_seconds": json.loads((folder / "final.json").read_text()).get("fine_tune_seconds"),
    }
