"""Safe persistence of the trained model: skops with a pinned trusted-type list, checksums, and
compatibility checks on load.

Loading never executes code from the file: skops rebuilds only the types listed in
`TRUSTED_TYPES` (plus the numpy/scipy/scikit-learn types it trusts by default) and refuses anything
else. The component's `cfg.json` records the artifact format, the package version and the taxonomy
the model was trained on, and the SHA-256 of the model file, so a model for another taxonomy, a
version this code cannot read, or a file changed after training is refused with a clear error.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import skops.io as sio

from .about import __version__
from .errors import ModelCompatibilityError
from .taxonomy import POLARITIES, SCHEMA_VERSION, THEME_IDS

ARTIFACT_FORMAT = 1
MODEL_FILE = "model.skops"
CFG_FILE = "cfg.json"

# Our own estimators, the only types beyond skops' defaults that a model file may contain.
TRUSTED_TYPES: tuple[str, ...] = (
    "nlp.models.finding_classifier.FindingClassifier",
    "nlp.models.polarity.PolarityClassifier",
    "nlp.models.text_features.CompactTfidfVectorizer",
    "nlp.models.themes.ThemeClassifier",
)


def taxonomy_record() -> dict:
    return {"schema_version": SCHEMA_VERSION, "themes": list(THEME_IDS), "polarities": list(POLARITIES)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_model(model, folder: Path, extra: dict | None = None) -> dict:
    """Write `model` with skops and its `cfg.json` into `folder`; return the cfg."""
    folder.mkdir(parents=True, exist_ok=True)
    untrusted = set(sio.get_untrusted_types(data=sio.dumps(model))) - set(TRUSTED_TYPES)
    if untrusted:
        raise ModelCompatibilityError(
            f"the model contains types outside the trusted list, which loading would refuse: {sorted(untrusted)}. "
            "Add them to nlp.artifact.TRUSTED_TYPES only if they are this package's own, reviewed classes."
        )
    sio.dump(model, folder / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    cfg = {
        "artifact_format": ARTIFACT_FORMAT,
        "package_version": __version__,
        "taxonomy": taxonomy_record(),
        "model_sha256": _sha256(folder / MODEL_FILE),
        **(extra or {}),
    }
    (folder / CFG_FILE).write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    return cfg


def load_model(folder: Path):
    """Load a model written by `save_model`, after checking format, version, taxonomy and checksum.

    RAISES (ModelCompatibilityError): the artifact cannot be used by this code, or was changed.
    """
    cfg_path, model_path = folder / CFG_FILE, folder / MODEL_FILE
    if not cfg_path.exists() or not model_path.exists():
        raise ModelCompatibilityError(f"{folder} is not a theme classifier artifact: {CFG_FILE} or {MODEL_FILE} is missing.")
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    check_compatible(cfg, folder)
    if _sha256(model_path) != cfg.get("model_sha256"):
        raise ModelCompatibilityError(
            f"{model_path} does not match the checksum recorded at training time: the file was changed or "
            "corrupted after it was written. Re-download or retrain the model; do not load it."
        )
    try:
        model = sio.load(model_path, trusted=list(TRUSTED_TYPES))
    except sio.exceptions.UntrustedTypesFoundException as error:
        raise ModelCompatibilityError(f"{model_path} contains types this package does not trust: {error}") from error
    return model, cfg


def check_compatible(cfg: dict, folder: Path) -> None:
    if cfg.get("artifact_format") != ARTIFACT_FORMAT:
        raise ModelCompatibilityError(
            f"{folder}: artifact format {cfg.get('artifact_format')!r}, but inspection-themes {__version__} reads "
            f"format {ARTIFACT_FORMAT}. Install the inspection-themes version that made it "
            f"({cfg.get('package_version')}) or retrain."
        )
    if cfg.get("taxonomy") != taxonomy_record():
        raise ModelCompatibilityError(
            f"{folder}: the model was trained on another taxonomy (schema version "
            f"{cfg.get('taxonomy', {}).get('schema_version')!r}, {len(cfg.get('taxonomy', {}).get('themes', []))} themes) "
            f"than this package's (schema version {SCHEMA_VERSION}, {len(THEME_IDS)} themes); its labels would not mean "
            "what the schema says. Retrain it on data labelled with the current schema."
        )
    if _major_minor(cfg.get("package_version", "")) != _major_minor(__version__):
        raise ModelCompatibilityError(
            f"{folder}: the model was made by inspection-themes {cfg.get('package_version')}, this is {__version__}; "
            f"install inspection-themes=={cfg.get('package_version')} to use it, or retrain with this version."
        )


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])
