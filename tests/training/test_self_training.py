"""Self-training's targets from a teacher's head outputs."""

from __future__ import annotations

import numpy as np

from nlp.taxonomy import POLARITIES
from training.self_training import student_findings, teacher_labels

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


def test_the_student_is_never_taught_findings_of_the_authorities_its_fold_tests_on():
    pool = [{"id": f"f{i}", "local_authority": f"Authority {i % 4}"} for i in range(40)]
    drawn = student_findings(pool, {"Authority 1", "Authority 3"}, 15, seed=0)
    assert len(drawn) == len({f["id"] for f in drawn}) == 15
    assert {f["local_authority"] for f in drawn} == {"Authority 0", "Authority 2"}
    assert drawn == student_findings(pool, {"Authority 1", "Authority 3"}, 15, seed=0)
