"""Safe persistence of a trained finding model: named files, checksums, and checks on load.

A model is a set of named files (`FindingModel.to_files`): an ONNX graph, a tokenizer (JSON),
heads (safetensors) and scikit-learn estimators (skops). None of these formats runs code when read:
skops rebuilds only the types of `TRUSTED_TYPES` plus the numpy/scipy/scikit-learn types it trusts
by default, and refuses anything else. `cfg.json` records the artifact format, the package
version, the model's taxonomy (`nlp.taxonomy.Taxonomy`, as JSON), the model kind and the SHA-256 of
every file, so a format this code cannot read or a file changed after training is refused with a
`ModelCompatibilityError` before anything is loaded, and a model whose stored taxonomy does not
match its heads is refused once they are read (`check_labels`). Any taxonomy is fine: labels are
read from the model. The same checks run on `to_bytes` data.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import skops.io as sio
import srsly

from .about import __version__
from .errors import ModelCompatibilityError, TaxonomyError
from .taxonomy import DEFAULT_TAXONOMY, POLARITY_VALUES, Taxonomy

ARTIFACT_FORMAT = 2
CFG_FILE = "cfg.json"

# Our own estimators, the only types beyond skops' defaults that a model file may contain.
TRUSTED_TYPES: tuple[str, ...] = (
    "nlp.models.finding_classifier.FindingClassifier",
    "nlp.models.polarity.PolarityClassifier",
    "nlp.models.stacking.FindingStacker",
    "nlp.models.text_features.CompactTfidfVectorizer",
    "nlp.models.fast.CompactCountVectorizer",
    "nlp.models.fast.FastFindingClassifier",
    "nlp.models.fast.FindingFeaturizer",
    "nlp.models.fast.PolarityHead",
    "nlp.models.fast.ThemeHead",
    "nlp.models.themes.ThemeClassifier",
    # The fast featuriser's word -> character n-gram map: skops stores it with scipy's save_npz
    # and reads it with load_npz, which refuses pickled data.
    "scipy.sparse._csr.csr_matrix",
)


# Before taxonomies were data, artifacts stored the default taxonomy's ids under this schema version.
_LEGACY_SCHEMA_VERSION = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dumps_estimator(estimator) -> bytes:
    """A scikit-learn estimator as skops bytes; refuses one that loading would refuse."""
    data = sio.dumps(estimator, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    untrusted = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
    if untrusted:
        raise ModelCompatibilityError(
            f"the model contains types outside the trusted list, which loading would refuse: {sorted(untrusted)}. "
            "Add them to nlp.artifact.TRUSTED_TYPES only if they are this package's own, reviewed classes."
        )
    return data


def loads_estimator(data: bytes, name: str):
    try:
        return sio.loads(data, trusted=list(TRUSTED_TYPES))
    except sio.exceptions.UntrustedTypesFoundException as error:
        raise ModelCompatibilityError(f"{name} contains types this package does not trust: {error}") from error


def make_cfg(files: dict[str, bytes], kind: str, taxonomy: Taxonomy, extra: dict | None = None) -> dict:
    """The `cfg.json` of a model made of `files`, labelling with `taxonomy`."""
    return {
        "artifact_format": ARTIFACT_FORMAT,
        "package_version": __version__,
        "kind": kind,
        "taxonomy": taxonomy.to_record(),
        "files": {name: sha256(data) for name, data in sorted(files.items())},
        **(extra or {}),
    }


def write_artifact(folder: Path, files: dict[str, bytes], cfg: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / CFG_FILE).write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")


def read_artifact(folder: Path) -> tuple[dict[str, bytes], dict]:
    """The files and cfg of a model folder, after every check (see the module docstring).

    RAISES (ModelCompatibilityError): the artifact cannot be used by this code, or was changed.
    """
    cfg_path = folder / CFG_FILE
    if not cfg_path.exists():
        raise ModelCompatibilityError(f"{folder} is not a theme classifier artifact: {CFG_FILE} is missing.")
    cfg = _parse_cfg(cfg_path.read_bytes(), str(cfg_path))
    check_compatible(cfg, str(folder))
    files = {}
    for name in cfg["files"]:
        path = folder / name
        if not path.exists():
            raise ModelCompatibilityError(f"{path} is missing: the model folder is incomplete. Copy the whole folder again.")
        files[name] = path.read_bytes()
    verify_files(files, cfg, str(folder))
    return files, cfg


def artifact_to_bytes(files: dict[str, bytes], cfg: dict) -> bytes:
    return srsly.msgpack_dumps({"cfg": json.dumps(cfg), "files": files})


def artifact_from_bytes(data: bytes, where: str) -> tuple[dict[str, bytes], dict]:
    try:
        message = srsly.msgpack_loads(data)
        cfg = _parse_cfg(message["cfg"].encode("utf-8"), where)
        files = dict(message["files"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ModelCompatibilityError(f"{where}: not the bytes of a theme classifier ({error}).") from error
    check_compatible(cfg, where)
    verify_files(files, cfg, where)
    return files, cfg


def verify_files(files: dict[str, bytes], cfg: dict, where: str) -> None:
    expected = cfg.get("files") or {}
    if set(files) != set(expected):
        raise ModelCompatibilityError(f"{where}: the model's files {sorted(files)} are not the ones its cfg lists {sorted(expected)}.")
    for name, data in files.items():
        if sha256(data) != expected[name]:
            raise ModelCompatibilityError(
                f"{where}/{name} does not match the checksum recorded at training time: the file was changed or "
                "corrupted after it was written. Re-download or retrain the model; do not load it."
            )


def _parse_cfg(data: bytes, where: str) -> dict:
    try:
        cfg = json.loads(data)
    except ValueError as error:
        raise ModelCompatibilityError(f"{where} is not valid JSON ({error}); the model folder is damaged.") from error
    if not isinstance(cfg, dict):
        raise ModelCompatibilityError(f"{where} is not a model configuration.")
    return cfg


def check_compatible(cfg: dict, where: str) -> None:
    if cfg.get("artifact_format") != ARTIFACT_FORMAT:
        raise ModelCompatibilityError(
            f"{where}: artifact format {cfg.get('artifact_format')!r}, but inspection-themes {__version__} reads "
            f"format {ARTIFACT_FORMAT}. Install the inspection-themes version that made it "
            f"({cfg.get('package_version')}) or retrain."
        )
    if _major_minor(cfg.get("package_version", "")) != _major_minor(__version__):
        raise ModelCompatibilityError(
            f"{where}: the model was made by inspection-themes {cfg.get('package_version')}, this is {__version__}; "
            f"install inspection-themes=={cfg.get('package_version')} to use it, or retrain with this version."
        )


def stored_taxonomy(cfg: dict, where: str) -> Taxonomy:
    """The taxonomy a model's cfg records.

    Models written before taxonomies were data (0.2.0) stored the default taxonomy's ids with a
    schema version; they read as the default taxonomy.
    RAISES (ModelCompatibilityError): the stored taxonomy is not a valid one.
    """
    record = cfg.get("taxonomy")
    if isinstance(record, dict) and "name" not in record and record.get("schema_version") == _LEGACY_SCHEMA_VERSION:
        if record.get("themes") == list(DEFAULT_TAXONOMY.theme_ids) and record.get("polarities") == list(POLARITY_VALUES):
            return DEFAULT_TAXONOMY
    try:
        return Taxonomy.from_record(record, f"{where}: the stored taxonomy")
    except TaxonomyError as error:
        raise ModelCompatibilityError(f"{error} The model folder is damaged or was not written by training; retrain it.") from error


def check_labels(taxonomy: Taxonomy, labels: tuple[str, ...], where: str) -> None:
    """Refuse a model whose heads assign other labels than its stored taxonomy names."""
    if tuple(labels) != taxonomy.theme_ids:
        raise ModelCompatibilityError(
            f"{where}: the stored taxonomy {taxonomy} does not match its heads: it lists themes {list(taxonomy.theme_ids)}, "
            f"the heads assign {list(labels)}; its labels would not mean what the taxonomy says. Retrain the model with "
            "`inspection-themes train ... --taxonomy` on that taxonomy; do not edit a model's cfg.json."
        )


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])
