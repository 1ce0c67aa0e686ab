from nlp.taxonomy import THEME_IDS
from training.gold_round_effect import effect_markdown


def _metrics(findings: int, f1: float) -> dict:
    return {
        "findings": findings,
        "themes": {"micro_f1": f1, "macro_f1": f1, "per_theme": {t: {"f1": f1, "support": 10} for t in THEME_IDS}},
        "polarity": {"macro_f1": f1, "per_class": {"mixed": {"recall": f1}}},
        "theme_polarity_pairs": {"f1": f1},
    }


def test_effect_compares_the_earlier_sample_with_the_model_trained_before_it():
    before = {"fast": _metrics(100, 0.7)}
    after = {"fast": {**_metrics(250, 0.6), "by_sample": {"first round": _metrics(100, 0.75), "queue": _metrics(150, 0.5)}}}
    table = effect_markdown(before, after)
    assert "| theme micro-F1 | 0.7 | 0.75 | +0.050 | 0.6 |" in table
    assert all(f"| {theme} | 0.7 | 0.75 | +0.050 | 0.6 | 10 |" in table for theme in THEME_IDS)
    assert "earlier sample (first round)" in table
