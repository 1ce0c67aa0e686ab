"""Self-training's targets from a teacher's head outputs, and the heads' own figures it compares."""

from __future__ import annotations

import numpy as np

from nlp.taxonomy import POLARITIES
from training.encoder_cv import encoder_only_scores
from training.self_training import teacher_labels

STRENGTH, WEAKNESS, MIXED = (POLARITIES.index(p) for p in ("strength", "weakness", "mixed"))


def logit(probability: float) -> float:
    return float(np.log(probability / (1 - probability)))


def test_teacher_targets_keep_theme_probabilities_and_give_pair_polarity_only_for_the_themes_it_gives():
    pair_logits = np.zeros((2, 3, len(POLARITIES)))
    pair_logits[:, :, WEAKNESS] = 1.0
    outputs = {
        "theme_logits": np.array([[logit(0.9), logit(0.3), logit(0.5)], [logit(0.1), logit(0.7), logit(0.2)]]),
        "polarity_logits": np.eye(len(POLARITIES))[[MIXED, STRENGTH]] * 3,
        "pair_logits": pair_logits,
    }
    themes, polarity, pairs = teacher_labels(outputs)
    np.testing.assert_allclose(themes, [[0.9, 0.3, 0.5], [0.1, 0.7, 0.2]], rtol=1e-5)
    assert polarity.tolist() == [MIXED, STRENGTH]
    assert pairs.tolist() == [[WEAKNESS, -1, WEAKNESS], [-1, WEAKNESS, -1]]


def test_encoder_only_scores_tell_right_heads_from_wrong_ones():
    themes = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    polarity = np.array([STRENGTH, MIXED, MIXED, WEAKNESS])
    pairs = np.where(themes == 1, MIXED, -1)
    right_pairs = np.zeros((4, 2, len(POLARITIES)))
    right_pairs[:, :, MIXED] = 1.0
    right = encoder_only_scores(themes, polarity, pairs, np.where(themes == 1, 4.0, -4.0), np.eye(len(POLARITIES))[polarity], right_pairs)
    assert right["theme_micro_f1_at_0.5"] == right["theme_macro_f1_at_0.5"] == 1.0
    assert right["polarity_macro_f1"] == right["mixed_recall"] == right["pair_polarity_accuracy"] == 1.0

    every_mixed_called_strength = np.where(polarity == MIXED, STRENGTH, polarity)
    wrong = encoder_only_scores(
        themes, polarity, pairs, np.where(themes == 1, -4.0, 4.0), np.eye(len(POLARITIES))[every_mixed_called_strength], -right_pairs
    )
    assert wrong["theme_micro_f1_at_0.5"] == 0.0
    assert wrong["mixed_recall"] == 0.0
    assert wrong["pair_polarity_accuracy"] == 0.0
