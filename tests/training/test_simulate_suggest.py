"""The figures of the suggest simulation: error rates of a queue, and the gap between the curves."""

from __future__ import annotations

from nlp.models import FindingLabels
from training.simulate_suggest import error_rates, summarise


def labels(themes: list[str], polarity: str) -> FindingLabels:
    return FindingLabels(themes, polarity, {theme: polarity for theme in themes}, {})


def test_error_rates_count_wrong_theme_sets_polarities_and_decisions():
    gold = [
        {"themes": ["adoption"], "polarity": "strength"},
        {"themes": ["adoption", "workforce"], "polarity": "mixed"},
        {"themes": [], "polarity": "neutral"},
        {"themes": ["education"], "polarity": "weakness"},
    ]
    predicted = [
        labels(["adoption"], "strength"),  # right
        labels(["adoption", "care_leavers"], "strength"),  # two theme decisions and the polarity wrong
        labels([], "strength"),  # polarity wrong
        labels(["education"], "weakness"),  # right
    ]
    assert error_rates(gold, predicted) == {
        "findings": 4,
        "any_error": 0.5,
        "theme_set_error": 0.25,
        "polarity_error": 0.5,
        "wrong_decisions_per_finding": 1.0,
    }


def test_summary_gives_the_mean_gap_per_round_over_complete_runs():
    def point(theme, polarity):
        return {"theme_micro_f1": theme, "theme_macro_f1": theme, "polarity_macro_f1": polarity, "pair_f1": theme,
                "picked": {"mixed_share": 0.5}}

    runs = [
        {"suggest": [point(0.5, 0.5), point(0.7, 0.6)], "random": [point(0.5, 0.5), point(0.6, 0.7)]},
        {"suggest": [point(0.4, 0.4), point(0.6, 0.6)], "random": [point(0.4, 0.4), point(0.6, 0.5)]},
        {"suggest": [point(0.4, 0.4)]},  # unfinished: left out
    ]
    summary = summarise({"settings": {"rounds": 1}, "runs": runs})
    assert summary["runs"] == 2
    assert summary["theme_micro_f1"]["gap_mean"] == [0.0, 0.05]
    assert summary["theme_micro_f1"]["runs_with_suggest_ahead"] == [0, 1]
    assert summary["polarity_macro_f1"]["gap_mean"] == [0.0, 0.0]
    assert summary["polarity_macro_f1"]["gap_min_over_runs"] == [0.0, -0.1]
