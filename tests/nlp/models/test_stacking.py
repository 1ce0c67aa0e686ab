"""The stacker: an estimator that turns out-of-fold encoder (and n-gram) scores into labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from nlp.models.stacking import FindingStacker, StackInputs
from nlp.taxonomy import POLARITIES, THEME_IDS

N, T, P = 240, len(THEME_IDS), len(POLARITIES)


def _inputs(seed: int = 0, ngram_signal: float = 0.0):
    """Scores in which the encoder's logits carry the labels, with noise."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((N, T)) < 0.1).astype(int)
    polarity = rng.integers(0, P, N)
    theme_logits = 3 * (2 * Y - 1) + rng.normal(0, 1, (N, T))
    polarity_logits = 3 * np.eye(P)[polarity] + rng.normal(0, 1, (N, P))
    pair_logits = rng.normal(0, 1, (N, T, P))
    pair_logits[..., 0] += 2  # the per-theme head says "strength" everywhere
    ngram = 1 / (1 + np.exp(-(ngram_signal * (2 * Y - 1) + rng.normal(0, 1, (N, T)))))
    inputs = StackInputs(
        theme_logits=theme_logits,
        best_sentence_theme_logits=theme_logits + rng.normal(0, 0.5, (N, T)),
        polarity_logits=polarity_logits,
        pair_logits=pair_logits,
        sentence_polarity_max=polarity_logits,
        sentence_polarity_min=polarity_logits - 1,
        ngram_probabilities=ngram,
        ngram_polarity_probabilities=np.full((N, P), 1 / P),
    )
    return inputs, Y, np.asarray(POLARITIES)[polarity]


def test_stacker_follows_the_estimator_contract():
    inputs, Y, polarity = _inputs()
    stacker = FindingStacker(theme_C=0.5, labels=THEME_IDS)
    assert clone(stacker).get_params() == stacker.get_params()
    with pytest.raises(NotFittedError):
        stacker.predict_theme_proba(inputs)
    assert stacker.fit(inputs, Y, polarity) is stacker
    assert stacker.thresholds_.shape == (T,) and list(stacker.classes_) == list(THEME_IDS)


def test_stacker_learns_themes_and_polarity_from_informative_scores():
    inputs, Y, polarity = _inputs()
    test, Y_test, polarity_test = _inputs(seed=1)
    stacker = FindingStacker().fit(inputs, Y, polarity)
    chosen = stacker.predict_theme_proba(test) >= stacker.thresholds_
    assert (chosen == Y_test.astype(bool)).mean() > 0.97
    predicted = stacker.polarities_[stacker.predict_polarity_proba(test).argmax(axis=1)]
    assert (predicted == polarity_test).mean() > 0.9


def test_stacker_weighs_the_ngram_model_by_what_it_is_worth():
    inputs, Y, polarity = _inputs(ngram_signal=0.0)
    noise_weight = FindingStacker().fit(inputs, Y, polarity).calibration_[:, 2]
    inputs, Y, polarity = _inputs(ngram_signal=4.0)
    signal_weight = FindingStacker().fit(inputs, Y, polarity).calibration_[:, 2]
    assert np.median(signal_weight) > 2 * np.median(np.abs(noise_weight))


def test_stacker_pair_strategies():
    inputs, Y, polarity = _inputs()
    finding = np.array(["mixed", "weakness"] * (N // 2))
    copied = FindingStacker(pair_strategy="copy").fit(inputs, Y, polarity).pair_polarities(inputs, finding)
    hybrid = FindingStacker(pair_strategy="hybrid").fit(inputs, Y, polarity).pair_polarities(inputs, finding)
    assert (copied == finding[:, None]).all()
    # Hybrid asks the per-theme head only inside findings read as mixed.
    assert (hybrid[1::2] == "weakness").all() and (hybrid[0::2] == "strength").mean() > 0.7


def test_stacker_says_which_scores_it_lacks():
    inputs, Y, polarity = _inputs()
    inputs.ngram_probabilities = None
    with pytest.raises(ValueError, match="theme probabilities"):
        FindingStacker(ngram=True).fit(inputs, Y, polarity)
    with pytest.raises(ValueError, match="pair_strategy"):
        FindingStacker(ngram=False, pair_strategy="vote").fit(inputs, Y, polarity)
