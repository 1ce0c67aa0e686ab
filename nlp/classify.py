"""Classifying findings given as text: the `classify` contract other teams script against.

Input, one JSON object per line: `{"id": ..., "text": ...}` (one finding each). Output, one line per
input line, in order: `{"id", "themes", "polarity", "theme_polarity", "scores"}` (+ `evidence` if
asked).

    >>> from nlp.classify import classify_texts, load_pipeline
    >>> classify_texts(["Return home interviews are timely."], load_pipeline())[0].themes  # doctest: +SKIP
    ['missing_children']
"""

from __future__ import annotations

import hashlib
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
# Short names of the models this repository ships: the default reads best, the fast one costs least.
MODEL_NAMES = {"accurate": "ofsted_themes", "fast": "ofsted_themes_fast"}
DEFAULT_MODEL = "accurate"
CLASSIFIER_PIPE = "themes"
CHECKSUMS_KEY = "checksums"
BATCH_SIZE = 256
REPO_MODELS = Path(__file__).resolve().parents[1] / "models"


def default_model_path() -> Path:
    """`$INSPECTION_THEMES_MODEL`, else the newest accurate model of this checkout."""
    return resolve_model(None)


def resolve_model(model: str | os.PathLike | None) -> Path:
    """The folder of a model given as a folder, an installed model package's name, `accurate` or `fast`.

    Nothing (None) means `$INSPECTION_THEMES_MODEL`, else `accurate`.
    RAISES (ModelCompatibilityError): no such model.
    """
    name = str(model if model is not None else os.environ.get(MODEL_ENV) or DEFAULT_MODEL)
    if name in MODEL_NAMES:
        candidates = sorted(REPO_MODELS.glob(f"{MODEL_NAMES[name]}-*"), key=lambda p: _version_key(p.name))
        if candidates:
            return candidates[-1]
        name = MODEL_NAMES[name]  # an installed package of that name, if any
    location = Path(name)
    if location.is_dir():
        return location
    if spacy.util.is_package(name):
        package = spacy.util.get_package_path(name)
        return next((meta.parent for meta in package.glob("*/meta.json")), package)
    raise ModelCompatibilityError(
        f"no model {name!r}: pass a model folder (like models/{MODEL_NAMES[DEFAULT_MODEL]}-<version>), the name of an "
        f"installed model package, or one of {sorted(MODEL_NAMES)}."
    )


def _version_key(name: str) -> tuple[int, ...]:
    version = name.rsplit("-", 1)[-1]
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


@lru_cache(maxsize=4)
def load_pipeline(model: str | os.PathLike | None = None, threads: int = 0, with_evidence: bool | None = None) -> Language:
    """Load a trained pipeline (see `resolve_model`), after checking every file against its checksum.

    threads (int): threads of the encoder's runtime (0: one per core); use 1 in each of several workers.
    with_evidence (bool | None): whether evidence holds n-grams too (None: as the model was saved).
    RAISES (ModelCompatibilityError): not a model, a file changed or damaged, or made for other code.
    """
    location = resolve_model(model)
    verify_model_folder(location)
    try:
        settings = {"threads": threads, **({} if with_evidence is None else {"with_evidence": with_evidence})}
        nlp = spacy.load(location, config={"components": {CLASSIFIER_PIPE: settings}})
    except ModelCompatibilityError:
        raise
    except Exception as error:  # spaCy's E050/E053, or a damaged vocab/tokenizer file (msgpack ExtraData ...)
        raise ModelCompatibilityError(
            f"cannot load a model from {location}: {type(error).__name__}: {error}. Pass a folder written by training, "
            f"like models/{MODEL_NAMES[DEFAULT_MODEL]}-<version>, and copy it whole."
        ) from error
    if CLASSIFIER_PIPE not in nlp.pipe_names:
        raise ModelCompatibilityError(f"{location} has no '{CLASSIFIER_PIPE}' component: it is not a trained theme model.")
    return nlp


def folder_checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of a model folder but its meta.json and model card, by relative path."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in ("meta.json", "README.md") and "__pycache__" not in path.parts
    }


def save_pipeline(nlp: Language, folder: Path) -> Path:
    """Write a trained pipeline, with the checksum of every file in its meta.json (see `verify_model_folder`)."""
    nlp.to_disk(folder)
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.setdefault("inspection_themes", {})[CHECKSUMS_KEY] = folder_checksums(folder)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    nlp.meta.update(meta)
    return folder


def verify_model_folder(folder: Path) -> None:
    """Refuse a model folder whose files differ from the checksums its meta.json records."""
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        raise ModelCompatibilityError(f"{folder} has no meta.json: it is not a model folder written by training.")
    try:
        recorded = json.loads(meta_path.read_text(encoding="utf-8")).get("inspection_themes", {}).get(CHECKSUMS_KEY)
    except ValueError as error:
        raise ModelCompatibilityError(f"{meta_path} is not valid JSON ({error}); copy the model folder again.") from error
    if recorded is None:
        raise ModelCompatibilityError(f"{meta_path} records no checksums: the folder was not written by this package's training.")
    found = folder_checksums(folder)
    changed = sorted(name for name in recorded if found.get(name) != recorded[name])
    if changed:
        raise ModelCompatibilityError(
            f"{folder}: {', '.join(changed)} differ from the checksums recorded at training time (changed, damaged or "
            "missing). Copy or download the model folder again; do not use it as it is."
        )


def model_fingerprint(model: str | os.PathLike | None = None) -> str:
    """Identity of a model: name, version and the checksum of its classifier's cfg (which lists its files' hashes).

    Batch parts record it, so a rerun with another model relabels instead of keeping old labels.
    """
    location = resolve_model(model)
    cfg_path = location / CLASSIFIER_PIPE / "cfg.json"
    meta_path = location / "meta.json"
    if not cfg_path.exists() or not meta_path.exists():
        raise ModelCompatibilityError(
            f"{location} is not a trained model folder ({meta_path.name} or {CLASSIFIER_PIPE}/cfg.json is missing); "
            f"pass a folder written by training, like models/{MODEL_NAMES[DEFAULT_MODEL]}-<version>."
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return f"{meta.get('name')}-{meta.get('version')}:{hashlib.sha256(cfg_path.read_bytes()).hexdigest()}"


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
