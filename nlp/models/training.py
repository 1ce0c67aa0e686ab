"""Building and fitting the n-gram (fast) model from settings, for training and `initialize`."""

from __future__ import annotations

from collections.abc import Sequence

from ..scoring import theme_matrix
from .finding_classifier import FindingClassifier
from .kinds import NgramFindingModel
from .polarity import PolarityClassifier
from .themes import ThemeClassifier

# The `[model]` blocks of training/configs/default.cfg; `initialize` uses them when no config is given.
FAST_MODEL_DEFAULTS: dict[str, dict] = {
    "themes": {"C": 1.0, "min_df": 2, "inner_folds": 5},
    "polarity": {"C": 3.0, "min_df": 2},
    "theme_polarity": {"C": 3.0, "min_df": 2},
    "finding": {"theme_polarity_strategy": "hybrid", "evidence_ngrams": 5},
}

def make_fast_classifier(settings: dict | None = None) -> FindingClassifier:
    """An unfitted n-gram `FindingClassifier` from `[model]`-style settings."""
    settings = {**FAST_MODEL_DEFAULTS, **(settings or {})}
    return FindingClassifier(
        themes=ThemeClassifier(**settings.get("themes", {})),
        polarity=PolarityClassifier(**settings.get("polarity", {})),
        theme_polarity=PolarityClassifier(**settings.get("theme_polarity", {})),
        **settings.get("finding", {}),
    )

def fit_finding_classifier(classifier: FindingClassifier, records: Sequence[dict]) -> FindingClassifier:
    """Fit on records with `text`, `themes`, `polarity`, `theme_polarity` and, optionally, `local_authority`."""
    groups = [r.get("local_authority") for r in records]
    return classifier.fit(
        [r["text"] for r in records],
        theme_matrix([r["themes"] for r in records]),
        [r["polarity"] for r in records],
        [r["theme_polarity"] for r in records],
        None if any(g is None for g in groups) else groups,
    )

def fit_fast_model(records: Sequence[dict], settings: dict | None = None) -> NgramFindingModel:
    return NgramFindingModel(fit_finding_classifier(make_fast_classifier(settings), records))

__all__ = ["FAST_MODEL_DEFAULTS", "fit_fast_model", "fit_finding_classifier", "make_fast_classifier"]
