"""Scoring committed models on gold they never learnt from."""

from __future__ import annotations

from training.score_sample import trained_on


def test_a_model_whose_meta_lists_the_scored_batches_among_its_gold_is_caught():
    assert trained_on({"gold_batches": ["1", "7a", "8c"]}, {"8a", "8c"}) == "it was trained on gold of batches 8c"
    assert trained_on({"gold_batches": ["1", "7a"]}, {"8a", "8c"}) is None
    # Models trained before the meta listed gold batches cannot be checked this way.
    assert trained_on({"gold_findings": 3186}, {"8a"}) is None
