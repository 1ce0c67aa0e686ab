"""Classifying findings given as text: the `classify` contract other teams script against.

Input, one JSON object per line: `{"id": ..., "text": ...}` (one finding each). Output, one line per
input line, in order: `{"id", "themes", "polarity", "theme_polarity", "scores"}` (+ `evidence` if
asked).

    >>> from nlp.classify import classify_texts, load_pipeline
    >>> classify_texts(["Return home interviews are timely."], load_pipeline())[0].themes  # doctest: +SKIP
    ['missing_children']
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import spacy
from spacy.language import Language

from . import components  # noqa: F401  (registers the factories and the tokenizer)
from .errors import ClassifyInputError, ModelCompatibilityError
from .jsonl import read_jsonl, write_jsonl
from .models import FindingLabels

MODEL_ENV = "INSPECTION_THEMES_MODEL"
MODEL_NAME = "ofsted_themes"
CLASSIFIER_PIPE = "themes"
BATCH_SIZE = 256
REPO_MODELS = Path(__file__).resolve().parents[1] / "models"


def default_model_path() -> Path:
    """`$INSPECTION_THEMES_MODEL`, else the newest `models/ofsted_themes-<version>` of this checkout."""
    configured = os.environ.get(MODEL_ENV)
    if configured:
        return Path(configured)
    candidates = sorted(REPO_MODELS.glob(f"{MODEL_NAME}-*"), key=lambda p: _version_key(p.name))
    if not candidates:
        raise ModelCompatibilityError(
            f"no model given and none found under {REPO_MODELS}; pass --model PATH (a folder like "
            f"models/{MODEL_NAME}-<version>) or set {MODEL_ENV}."
        )
    return candidates[-1]


def _version_key(name: str) -> tuple[int, ...]:
    version = name.rsplit("-", 1)[-1]
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


@lru_cache(maxsize=4)
def load_pipeline(model: str | os.PathLike | None = None) -> Language:
    """Load a trained pipeline (a folder under `models/`, or an installed model package name)."""
    location = model if model is not None else default_model_path()
    try:
        nlp = spacy.load(location)
    except OSError as error:  # spaCy's E050 (no such package or folder), E053 (no meta.json) ...
        raise ModelCompatibilityError(
            f"cannot load a model from {location}: {error}. Pass a folder written by training, "
            f"like models/{MODEL_NAME}-<version>."
        ) from error
    if CLASSIFIER_PIPE not in nlp.pipe_names:
        raise ModelCompatibilityError(f"{location} has no '{CLASSIFIER_PIPE}' component: it is not a trained theme model.")
    return nlp


def _model_folder(model: str | os.PathLike | None) -> Path:
    """The folder of a model given as a folder, an installed model package's name, or nothing."""
    location = Path(model if model is not None else default_model_path())
    if not location.is_dir() and spacy.util.is_package(str(model)):
        package = spacy.util.get_package_path(str(model))
        return next((meta.parent for meta in package.glob("*/meta.json")), package)
    return location


def model_fingerprint(model: str | os.PathLike | None = None) -> str:
    """Identity of a model folder: name, version and the checksum of its classifier file.

    Batch parts record it, so a rerun with another model relabels instead of keeping old labels.
    """
    location = _model_folder(model)
    cfg_path = location / CLASSIFIER_PIPE / "cfg.json"
    meta_path = location / "meta.json"
    if not cfg_path.exists() or not meta_path.exists():
        raise ModelCompatibilityError(
            f"{location} is not a trained model folder ({meta_path.name} or {CLASSIFIER_PIPE}/cfg.json is missing); "
            f"pass a folder written by training, like models/{MODEL_NAME}-<version>."
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    checksum = json.loads(cfg_path.read_text(encoding="utf-8")).get("model_sha256")
    return f"{meta.get('name')}-{meta.get('version')}:{checksum}"


def classify_texts(texts: Sequence[str], nlp: Language, with_evidence: bool = False) -> list[FindingLabels]:
    """Labels for findings given as plain texts, in order."""
    return nlp.get_pipe(CLASSIFIER_PIPE).classify_texts(list(texts), with_evidence=with_evidence)


def read_classify_input(path: str | os.PathLike) -> Iterator[tuple[object, str]]:
    """(id, text) per line; a line breaking the contract raises `ClassifyInputError` naming it."""
    try:
        for number, record in read_jsonl(path):
            if not isinstance(record, dict) or "id" not in record or not isinstance(record.get("text"), str):
                raise ClassifyInputError(
                    f'{path}:{number}: each line must be a JSON object with "id" and a string "text"; '
                    f"got {str(record)[:80]!r}."
                )
            yield record["id"], record["text"]
    except ValueError as error:
        if isinstance(error, ClassifyInputError):
            raise
        raise ClassifyInputError(str(error)) from error


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def classify_records(pairs: Iterable[tuple[object, str]], nlp: Language, with_evidence: bool = False) -> Iterator[dict]:
    for batch in _batches(pairs, BATCH_SIZE):
        labels = classify_texts([text for _, text in batch], nlp, with_evidence)
        for (finding_id, _), label in zip(batch, labels):
            yield {"id": finding_id, **label.to_dict(with_evidence=with_evidence)}


def classify_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    model: str | os.PathLike | None = None,
    with_evidence: bool = False,
) -> int:
    """Classify a JSON-lines file of findings into another; the output appears only when complete."""
    nlp = load_pipeline(model)
    records = list(read_classify_input(input_path))  # validate every line before writing anything
    return write_jsonl(classify_records(records, nlp, with_evidence), Path(output_path))
