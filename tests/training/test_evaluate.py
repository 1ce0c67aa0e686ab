"""Evaluation: folds never share an authority, and the measures count what they claim to."""

from __future__ import annotations

import numpy as np

from nlp.scoring import evaluate, pair_metrics
from nlp.train import grouped_folds

from ..conftest import tiny_training_set


def test_grouped_folds_never_test_on_an_authority_they_trained_on():
    # Interleave the authorities, so that folds cut by position would mix them.
    records = sorted(tiny_training_set(), key=lambda r: (r["themes"], r["polarity"]))
    folds = grouped_folds(records, 2)
    assert sorted(i for _, test in folds for i in test) == list(range(len(records)))
    for train, test in folds:
        assert {records[i]["local_authority"] for i in train}.isdisjoint({records[i]["local_authority"] for i in test})


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
    result = evaluate(records, perfect, THEME_IDS)
    assert result["themes"]["micro_f1"] == 1.0 and result["polarity"]["accuracy"] == 1.0
    assert result["theme_polarity_pairs"]["f1"] == 1.0 and result["calibration_error"]["pooled"] == 0.0


def test_pair_metrics_count_a_pair_only_when_theme_and_polarity_both_match():
    gold = [{"adoption": "strength", "missing_children": "weakness"}]
    predicted = [{"adoption": "strength", "missing_children": "strength"}]
    assert pair_metrics(gold, predicted) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert np.isclose(pair_metrics(gold, [{}])["f1"], 0.0)
