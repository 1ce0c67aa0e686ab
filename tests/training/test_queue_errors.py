"""Queue error rates of trained fold models: each finding is ranked and labelled by its own fold's model."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.model_scores import ModelScores
from nlp.models import FindingLabels
from nlp.taxonomy import DEFAULT_TAXONOMY
from training.queue_errors import fold_splits
from training.simulate_suggest import queue_errors

WORDS = [f"{a}{b}{c}" for a in "bdgkmt" for b in "aeiou" for c in "lnrs"]


def distinct_words(seed: int) -> str:
    """Words no other finding shares much of, so that no finding is a near duplicate of another."""
    return " ".join(np.random.default_rng(seed).choice(WORDS, size=15, replace=False))


def gold(authorities: int = 4, per_authority: int = 6) -> list[dict]:
    return [
        {
            "id": f"a{a}-{i}",
            "report_id": f"a{a}-2020",
            "local_authority": f"Authority {a}",
            "kind": "finding",
            "text": f"Finding {i}: {distinct_words(a * per_authority + i)}.",
            "themes": ["adoption"] if i % 2 else [],
            "polarity": "strength",
        }
        for a in range(authorities)
        for i in range(per_authority)
    ]


class FoldScorer:
    """Unsure of the findings it would label wrongly (odd ones: it misses their theme); records what it saw."""

    def __init__(self, fold: int, seen: dict) -> None:
        self.name, self.fold, self.seen = f"fold-{fold}", fold, seen

    def scores(self, texts):
        self.seen.setdefault(self.fold, set()).update(texts)
        themes = np.full((len(texts), len(DEFAULT_TAXONOMY.theme_ids)), 0.01)
        odd = np.array([int(t.split()[1].rstrip(":")) % 2 == 1 for t in texts], dtype=bool)
        themes[odd, DEFAULT_TAXONOMY.theme_ids.index("adoption")] = 0.45
        polarity = np.tile([0.97, 0.01, 0.01, 0.01], (len(texts), 1))
        return ModelScores(DEFAULT_TAXONOMY.theme_ids, themes, np.full(len(DEFAULT_TAXONOMY.theme_ids), 0.5), DEFAULT_TAXONOMY.polarities, polarity)

    def labels(self, texts):
        self.seen.setdefault(self.fold, set()).update(texts)
        return [FindingLabels([], "strength", {}, {}) for _ in texts]


def test_each_finding_is_ranked_and_labelled_by_the_model_that_never_saw_its_authority():
    records = gold()
    fold_of = {f"Authority {a}": a % 2 for a in range(4)}
    seen, trained_on = {}, {}

    def fold_scorers(fold, train_records):
        trained_on[fold] = {r["local_authority"] for r in train_records}
        return FoldScorer(fold, seen), None

    result = queue_errors(records, fold_splits(records, fold_of), fold_scorers, top=3, seed=0)

    for fold in (0, 1):
        held_out = {r["text"] for r in records if fold_of[r["local_authority"]] == fold}
        assert seen[fold] == held_out
        assert trained_on[fold] == {a for a, k in fold_of.items() if k != fold}
    merged = result["merged"]
    assert merged["all"]["findings"] == len(records)
    assert merged["all"]["theme_set_error"] == 0.5
    # the queue finds the findings the model is unsure of, which are the ones it gets wrong
    assert merged["top_uncertainty_only"]["theme_set_error"] == 1.0


def test_gold_of_an_authority_no_fold_held_out_is_refused():
    records = gold(authorities=3)
    with pytest.raises(SystemExit, match="Authority 2"):
        fold_splits(records, {"Authority 0": 0, "Authority 1": 1})
