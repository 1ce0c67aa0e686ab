"""Building and fitting the n-gram (fast) model from settings, for training and `initialize`."""

from __future__ import annotations

from collections.abc import Sequence

from ..scoring import theme_matrix
from ..taxonomy import DEFAULT_TAXONOMY, Taxonomy
from .finding_classifier import FindingClassifier
from .kinds import NgramFindingModel
from .polarity import PolarityClassifier
from .themes import ThemeClassifier, lexicon_cues

DEFAULT_GROUP_FIELD = "local_authority"

# The `[model]` blocks of training/configs/default.cfg; `initialize` uses them when no config is given.
FAST_MODEL_DEFAULTS: dict[str, dict] = {
    "themes": {"C": 1.0, "min_df": 2, "inner_folds": 5},
    "polarity": {"C": 3.0, "min_df": 2},
    "theme_polarity": {"C": 3.0, "min_df": 2},
    "finding": {"theme_polarity_strategy": "hybrid", "evidence_ngrams": 5},
}


def theme_cues(taxonomy: Taxonomy) -> dict[str, tuple[str, str]]:
    """The cue patterns (specific, broad) of each theme that has cues.

    The schema lexicon (`nlp.lexicon`) is written for the default taxonomy's themes and is used for
    it alone: another taxonomy that reuses an id may mean something else by it. Another taxonomy's
    cues are the words its file lists, as specific cues.
    """
    if taxonomy == DEFAULT_TAXONOMY:
        return lexicon_cues()
    return {theme: (pattern, "") for theme, pattern in taxonomy.cue_patterns().items()}


def make_fast_classifier(settings: dict | None, taxonomy: Taxonomy) -> FindingClassifier:
    """An unfitted n-gram `FindingClassifier` for `taxonomy` from `[model]`-style settings."""
    settings = {**FAST_MODEL_DEFAULTS, **(settings or {})}
    return FindingClassifier(
        themes=ThemeClassifier(labels=taxonomy.theme_ids, cues=theme_cues(taxonomy), **settings.get("themes", {})),
        polarity=PolarityClassifier(**settings.get("polarity", {})),
        theme_polarity=PolarityClassifier(**settings.get("theme_polarity", {})),
        **settings.get("finding", {}),
    )

def fit_finding_classifier(
    classifier: FindingClassifier, records: Sequence[dict], taxonomy: Taxonomy, group_by: str | None = DEFAULT_GROUP_FIELD
) -> FindingClassifier:
    """Fit on records with `text`, `themes`, `polarity`, `theme_polarity` and, optionally, the `group_by`
    field (the inner folds of calibration keep groups apart when every record has one)."""
    groups = [r.get(group_by) if group_by else None for r in records]
    return classifier.fit(
        [r["text"] for r in records],
        theme_matrix([r["themes"] for r in records], taxonomy.theme_ids),
        [r["polarity"] for r in records],
        [r["theme_polarity"] for r in records],
        None if any(g is None for g in groups) else [str(g) for g in groups],
    )

def fit_fast_model(records: Sequence[dict], taxonomy: Taxonomy, settings: dict | None = None) -> NgramFindingModel:
    return NgramFindingModel(fit_finding_classifier(make_fast_classifier(settings, taxonomy), records, taxonomy))


__all__ = ["FAST_MODEL_DEFAULTS", "fit_fast_model", "fit_finding_classifier", "make_fast_classifier", "theme_cues"]
