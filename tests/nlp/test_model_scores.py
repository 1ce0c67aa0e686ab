"""The scorer interface ranking reads models through, and its adapter for the n-gram model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nlp.errors import ModelCompatibilityError
from nlp.model_scores import FindingClassifierScorer, ModelScores, scorer_for_model
from nlp.taxonomy import THEME_IDS
from tests.conftest import TINY_THEMES

TEXTS = [f"{sentence}. This is effective and strong." for sentence in TINY_THEMES.values()] + ["The weather was mild."]


def test_adapter_gives_the_models_probabilities_in_its_label_order(tiny_model):
    scores = FindingClassifierScorer(tiny_model, "tiny").scores(TEXTS)
    assert scores.theme_ids == THEME_IDS
    np.testing.assert_allclose(scores.theme_probabilities, tiny_model.themes_.predict_proba(TEXTS))
    np.testing.assert_array_equal(scores.theme_thresholds, tiny_model.themes_.thresholds_)
    assert scores.polarity_labels == tuple(tiny_model.polarity_.classes_)
    np.testing.assert_allclose(scores.polarity_probabilities, tiny_model.polarity_.predict_proba(TEXTS))
    np.testing.assert_allclose(scores.polarity_probabilities.sum(axis=1), 1.0)


def test_adapter_scores_agree_with_the_models_labels(tiny_model):
    scorer = FindingClassifierScorer(tiny_model, "tiny")
    scores, labels = scorer.scores(TEXTS), scorer.labels(TEXTS)
    for i, label in enumerate(labels):
        chosen = [theme for theme, p, t in zip(scores.theme_ids, scores.theme_probabilities[i], scores.theme_thresholds) if p >= t]
        assert label.themes == chosen
        assert label.polarity == scores.polarity_labels[int(np.argmax(scores.polarity_probabilities[i]))]


@pytest.mark.parametrize("model_dir", ["tiny_pipeline_dir", "tiny_encoder_pipeline_dir"])
def test_adapter_scores_no_texts(model_dir, request):
    scores = scorer_for_model(request.getfixturevalue(model_dir)).scores([])
    assert len(scores) == 0 and scores.theme_probabilities.shape == (0, len(THEME_IDS))
    assert scores.polarity_probabilities.shape == (0, len(scores.polarity_labels))


def test_scorer_for_a_model_folder_names_the_model(tiny_pipeline_dir):
    scorer = scorer_for_model(tiny_pipeline_dir)
    assert isinstance(scorer, FindingClassifierScorer)
    meta = json.loads((tiny_pipeline_dir / "meta.json").read_text())
    assert scorer.name == f"{meta['name']}-{meta['version']}"


def test_scores_of_the_wrong_shape_are_refused():
    with pytest.raises(ModelCompatibilityError, match="theme_thresholds"):
        ModelScores(("a", "b"), np.zeros((3, 2)), np.zeros(3), ("x", "y"), np.full((3, 2), 0.5))


def test_scores_align_to_another_models_column_order():
    mine = ModelScores(("a", "b"), np.array([[0.1, 0.9]]), np.array([0.3, 0.4]), ("x", "y"), np.array([[0.2, 0.8]]))
    theirs = ModelScores(("b", "a"), np.zeros((1, 2)), np.zeros(2), ("y", "x"), np.full((1, 2), 0.5))
    aligned = mine.aligned_to(theirs)
    assert aligned.theme_ids == ("b", "a") and aligned.polarity_labels == ("y", "x")
    np.testing.assert_array_equal(aligned.theme_probabilities, [[0.9, 0.1]])
    np.testing.assert_array_equal(aligned.theme_thresholds, [0.4, 0.3])
    np.testing.assert_array_equal(aligned.polarity_probabilities, [[0.8, 0.2]])


def test_models_with_other_themes_cannot_be_compared():
    mine = ModelScores(("a",), np.zeros((1, 1)), np.zeros(1), ("x",), np.ones((1, 1)))
    theirs = ModelScores(("c",), np.zeros((1, 1)), np.zeros(1), ("x",), np.ones((1, 1)))
    with pytest.raises(ModelCompatibilityError, match="different themes"):
        mine.aligned_to(theirs)
