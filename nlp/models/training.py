"""Building and fitting the finding models from settings, for training and `initialize`.

- the fast model (`FastFindingClassifier`: one featurisation pass read by every head), the `fast`
  kind and, learnt from the gold alone, the accurate kind's second opinion: `make_fast_classifier`;
- the n-gram model (`FindingClassifier`: word and character TF-IDF per head; the fast model and the
  second opinion before 0.4.0), cross-validated beside them for comparison: `make_ngram_classifier`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..scoring import theme_matrix
from ..taxonomy import DEFAULT_TAXONOMY, Taxonomy
from .fast import DistilledFindings, FastFindingClassifier, FindingFeaturizer, PolarityHead, ThemeHead
from .finding_classifier import FindingClassifier
from .kinds import NgramFindingModel
from .polarity import PolarityClassifier
from .themes import ThemeClassifier, lexicon_cues

DEFAULT_GROUP_FIELD = "local_authority"

# The `[model]` blocks of training/configs/default.cfg (the n-gram model, measured for comparison).
NGRAM_MODEL_DEFAULTS: dict[str, dict] = {
    "themes": {"C": 1.0, "min_df": 2, "inner_folds": 5},
    "polarity": {"C": 3.0, "min_df": 2},
    "theme_polarity": {"C": 3.0, "min_df": 2},
    "finding": {"theme_polarity_strategy": "hybrid", "evidence_ngrams": 5},
}

# The `[fast]` blocks of training/configs/default.cfg (the fast kind, and the accurate kind's second
# opinion); `initialize` uses them when no config is given. Chosen by grouped CV (training/reports/fast-cv.json). `use_cues` (default true) switches
# the taxonomy's cue features off.
FAST_MODEL_DEFAULTS: dict[str, dict] = {
    "featurizer": {"ngram_range": [1, 3], "min_df": 2, "char_ngram_range": [2, 5]},
    "themes": {"C": 1.0, "inner_folds": 5},
    "polarity": {"C": 3.0, "sentence_C": 1.0, "stack_C": 0.3},
    "finding": {"pair_C": 3.0, "evidence_ngrams": 5},
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


def _blocks(defaults: dict[str, dict], settings: dict | None) -> dict[str, dict]:
    """Each block of `defaults`, updated by the same block of `settings` (other keys are ignored)."""
    return {part: {**values, **dict((settings or {}).get(part) or {})} for part, values in defaults.items()}


def make_ngram_classifier(settings: dict | None, taxonomy: Taxonomy) -> FindingClassifier:
    """An unfitted n-gram `FindingClassifier` for `taxonomy` from `[model]`-style settings."""
    settings = _blocks(NGRAM_MODEL_DEFAULTS, settings)
    return FindingClassifier(
        themes=ThemeClassifier(labels=taxonomy.theme_ids, cues=theme_cues(taxonomy), **settings["themes"]),
        polarity=PolarityClassifier(**settings["polarity"]),
        theme_polarity=PolarityClassifier(**settings["theme_polarity"]),
        **settings["finding"],
    )


def make_fast_classifier(settings: dict | None, taxonomy: Taxonomy) -> FastFindingClassifier:
    """An unfitted `FastFindingClassifier` for `taxonomy` from `[fast]`-style settings."""
    settings = _blocks(FAST_MODEL_DEFAULTS, settings)
    featurizer = {**settings["featurizer"], "ngram_range": tuple(settings["featurizer"].get("ngram_range", (1, 3)))}
    if featurizer.get("char_ngram_range"):
        featurizer["char_ngram_range"] = tuple(featurizer["char_ngram_range"])
    use_cues = featurizer.pop("use_cues", True)
    return FastFindingClassifier(
        featurizer=FindingFeaturizer(**featurizer, cues=(theme_cues(taxonomy) or None) if use_cues else None),
        themes=ThemeHead(labels=taxonomy.theme_ids, **settings["themes"]),
        polarity=PolarityHead(labels=taxonomy.polarities, **settings["polarity"]),
        **settings["finding"],
    )


def fit_finding_classifier(
    classifier: FindingClassifier | FastFindingClassifier,
    records: Sequence[dict],
    taxonomy: Taxonomy,
    group_by: str | None = DEFAULT_GROUP_FIELD,
    distilled: DistilledFindings | None = None,
):
    """Fit on records with `text`, `themes`, `polarity`, `theme_polarity` and, optionally, the `group_by`
    field (the inner folds of calibration keep groups apart when every record has one); a fast model
    also learns from a teacher's `distilled` labels."""
    groups = [r.get(group_by) if group_by else None for r in records]
    return classifier.fit(
        [r["text"] for r in records],
        theme_matrix([r["themes"] for r in records], taxonomy.theme_ids),
        [r["polarity"] for r in records],
        [r["theme_polarity"] for r in records],
        None if any(g is None for g in groups) else [str(g) for g in groups],
        **({"distilled": distilled} if distilled is not None else {}),
    )


def fit_fast_model(records: Sequence[dict], taxonomy: Taxonomy, settings: dict | None = None) -> NgramFindingModel:
    return NgramFindingModel(fit_finding_classifier(make_fast_classifier(settings, taxonomy), records, taxonomy))


__all__ = [
    "FAST_MODEL_DEFAULTS",
    "NGRAM_MODEL_DEFAULTS",
    "fit_fast_model",
    "fit_finding_classifier",
    "make_fast_classifier",
    "make_ngram_classifier",
    "theme_cues",
]
