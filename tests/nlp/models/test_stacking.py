"""The stacker: an estimator that turns out-of-fold encoder (and n-gram) scores into labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from types import SimpleNamespace

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
        theme_sentence_polarity=np.repeat(polarity_logits[:, None, :], T, axis=1),
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


def test_stacker_weighing_mixed_reads_more_findings_as_mixed():
    inputs, Y, polarity = _inputs()
    rng = np.random.default_rng(2)
    # Weak polarity scores: the regression is unsure, and the class weights decide the close calls.
    inputs.polarity_logits = inputs.polarity_logits / 3 + rng.normal(0, 1, inputs.polarity_logits.shape)
    inputs.sentence_polarity_max = inputs.sentence_polarity_min = inputs.polarity_logits

    def share_mixed(stacker: FindingStacker) -> float:
        probabilities = stacker.fit(inputs, Y, polarity).predict_polarity_proba(inputs)
        return float((stacker.polarities_[probabilities.argmax(axis=1)] == "mixed").mean())

    unweighted = share_mixed(FindingStacker())
    assert share_mixed(FindingStacker(polarity_class_weight={"mixed": 3.0})) > unweighted + 0.1
    assert clone(FindingStacker(polarity_class_weight={"mixed": 3.0})).polarity_class_weight == {"mixed": 3.0}


def test_stacker_pair_strategies():
    inputs, Y, polarity = _inputs()
    finding = np.array(["mixed", "weakness"] * (N // 2))
    copied = FindingStacker(pair_strategy="copy").fit(inputs, Y, polarity).pair_polarities(inputs, finding)
    hybrid = FindingStacker(pair_strategy="hybrid").fit(inputs, Y, polarity).pair_polarities(inputs, finding)
    assert (copied == finding[:, None]).all()
    # Hybrid asks the per-theme head only inside findings read as mixed.
    assert (hybrid[1::2] == "weakness").all() and (hybrid[0::2] == "strength").mean() > 0.7


def test_theme_sentence_polarity_reads_the_sentences_about_each_theme():
    strength, weakness = np.eye(P)[POLARITIES.index("strength")], np.eye(P)[POLARITIES.index("weakness")]
    sentence_themes = np.full((3, T), -5.0)
    sentence_themes[0, 0] = 5.0  # sentence 0 is about theme 0, sentence 1 about theme 1
    sentence_themes[1, 1] = 5.0
    outputs = SimpleNamespace(
        theme_logits=np.zeros((2, T)),
        polarity_logits=np.zeros((2, P)),
        pair_logits=np.zeros((2, T, P)),
        sentence_owner=np.array([0, 0, 0]),  # finding 1 has no sentence
        sentence_theme_logits=sentence_themes,
        sentence_polarity_logits=np.vstack([4 * strength, 4 * weakness, np.zeros(P)]),
    )
    pooled = StackInputs.from_outputs(outputs).theme_sentence_polarity
    assert pooled.shape == (2, T, P)
    assert POLARITIES[pooled[0, 0].argmax()] == "strength" and POLARITIES[pooled[0, 1].argmax()] == "weakness"
    assert np.allclose(pooled[1], 0.0)  # a finding without sentences keeps its own polarity logits


def _mixed_findings(seed: int):
    """Findings with two themes each, every other one mixed with one theme a strength and one a
    weakness: only the theme's sentences tell which (the per-theme head is noise)."""
    inputs, _, _ = _inputs(seed)
    rng = np.random.default_rng(seed)
    Y = np.zeros((N, T), dtype=int)
    polarity = np.array(["mixed", "strength"] * (N // 2))
    theme_polarity = []
    for i in range(N):
        first, second = rng.choice(T, 2, replace=False)
        Y[i, [first, second]] = 1
        sides = rng.permutation(["strength", "weakness"]) if polarity[i] == "mixed" else ["strength"] * 2
        theme_polarity.append({THEME_IDS[first]: sides[0], THEME_IDS[second]: sides[1]})
        for j, side in ((first, sides[0]), (second, sides[1])):
            inputs.theme_sentence_polarity[i, j] = 3 * np.eye(P)[POLARITIES.index(side)] + rng.normal(0, 1, P)
    return inputs, Y, polarity, theme_polarity


def test_learned_pair_strategy_reads_each_themes_sentences_in_mixed_findings():
    inputs, Y, polarity, theme_polarity = _mixed_findings(0)
    test, Y_test, _, theme_polarity_test = _mixed_findings(1)
    stacker = FindingStacker(ngram=False, pair_strategy="learned", labels=THEME_IDS).fit(inputs, Y, polarity, theme_polarity)
    finding = np.array(["mixed", "strength"] * (N // 2))
    pairs = stacker.pair_polarities(test, finding)
    rows, columns = np.nonzero(Y_test[0::2])
    gold = np.array([theme_polarity_test[2 * i][THEME_IDS[j]] for i, j in zip(rows, columns)])
    assert (pairs[0::2][rows, columns] == gold).mean() > 0.9
    hybrid = FindingStacker(ngram=False, pair_strategy="hybrid").fit(inputs, Y, polarity).pair_polarities(test, finding)
    assert (hybrid[0::2][rows, columns] == gold).mean() < 0.7
    assert (pairs[1::2] == "strength").all()  # outside mixed findings the finding's polarity is copied
    with pytest.raises(ValueError, match="theme polarities"):
        FindingStacker(ngram=False, pair_strategy="learned").fit(inputs, Y, polarity)


def test_stacker_says_which_scores_it_lacks():
    inputs, Y, polarity = _inputs()
    inputs.ngram_probabilities = None
    with pytest.raises(ValueError, match="theme probabilities"):
        FindingStacker(ngram=True).fit(inputs, Y, polarity)
    with pytest.raises(ValueError, match="pair_strategy"):
        FindingStacker(ngram=False, pair_strategy="vote").fit(inputs, Y, polarity)
