"""Evaluation: folds never share an authority, and the measures count what they claim to."""

from __future__ import annotations

import numpy as np

from nlp.models import FindingClassifier, PolarityClassifier, ThemeClassifier
from nlp.scoring import pair_metrics
from training.evaluate import evaluate, grouped_cross_validation

from ..conftest import tiny_training_set


class RecordingClassifier(FindingClassifier):
    """A real finding classifier that remembers which authorities each fit saw."""

    fits: list[set] = []
    predicted: list[list[str]] = []

    def fit(self, X, Y, polarity, theme_polarity, groups=None):
        RecordingClassifier.fits.append(set(groups))
        return super().fit(X, Y, polarity, theme_polarity, groups)

    def predict(self, X, with_evidence=True):
        RecordingClassifier.predicted.append(list(X))
        return super().predict(X, with_evidence)


def test_grouped_cross_validation_never_tests_on_an_authority_it_trained_on():
    # Interleave the authorities, so that folds cut by position would mix them.
    records = sorted(tiny_training_set(), key=lambda r: (r["themes"], r["polarity"]))
    RecordingClassifier.fits, RecordingClassifier.predicted = [], []

    def make():
        return RecordingClassifier(
            themes=ThemeClassifier(min_df=1, inner_folds=2),
            polarity=PolarityClassifier(min_df=1, inner_folds=2),
            theme_polarity=PolarityClassifier(min_df=1, inner_folds=2),
        )

    predictions = grouped_cross_validation(records, make, folds=2)
    assert len(predictions) == len(records) and all(p is not None for p in predictions)
    authority_of = {r["text"]: r["local_authority"] for r in records}
    for trained_on, tested in zip(RecordingClassifier.fits, RecordingClassifier.predicted):
        assert trained_on.isdisjoint({authority_of[text] for text in tested})


def test_evaluate_scores_perfect_predictions_as_perfect():
    records = [
        {"text": "Return home interviews are timely for children who go missing.", "themes": ["missing_children"], "polarity": "strength", "theme_polarity": {"missing_children": "strength"}},
        {"text": "Adoption panels are not always effective.", "themes": ["adoption"], "polarity": "weakness", "theme_polarity": {"adoption": "weakness"}},
    ]
    from nlp.models import FindingLabels
    from nlp.taxonomy import THEME_IDS

    perfect = [
        FindingLabels(r["themes"], r["polarity"], r["theme_polarity"], {t: float(t in r["themes"]) for t in THEME_IDS}) for r in records
    ]
    result = evaluate(records, perfect)
    assert result["themes"]["micro_f1"] == 1.0 and result["polarity"]["accuracy"] == 1.0
    assert result["theme_polarity_pairs"]["f1"] == 1.0 and result["calibration_error"]["pooled"] == 0.0


def test_pair_metrics_count_a_pair_only_when_theme_and_polarity_both_match():
    gold = [{"adoption": "strength", "missing_children": "weakness"}]
    predicted = [{"adoption": "strength", "missing_children": "strength"}]
    assert pair_metrics(gold, predicted) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert np.isclose(pair_metrics(gold, [{}])["f1"], 0.0)
