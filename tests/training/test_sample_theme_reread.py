"""Drawing gold findings for a re-read of one theme."""

from __future__ import annotations

from training.sample_theme_reread import draw_reread


def gold_finding(i: int, text: str, themes: list[str]) -> dict:
    return {"id": f"r#{i}", "report_id": "r", "kind": "finding", "section": None, "text": text,
            "themes": themes, "polarity": "strength", "theme_polarity": {t: "strength" for t in themes}}


GOLD = [
    gold_finding(0, "Children are seen alone by their social workers.", []),  # a voice_of_child cue
    gold_finding(1, "Leaders listen to young people.", ["voice_of_child"]),  # the theme in gold
    gold_finding(2, "Care leavers trust their personal advisers.", ["care_leavers"]),  # only `also` matches
    gold_finding(3, "The front door is timely.", ["front_door"]),  # neither
]


def test_the_draw_holds_the_findings_with_the_theme_or_a_cue_of_it_and_shows_no_labels():
    batches, double = draw_reread(GOLD, "voice_of_child", "personal advisers?", batches=2, double=2, seed=1)
    drawn = [f for batch in batches for f in batch]
    assert sorted(f["id"] for f in drawn) == ["r#0", "r#1", "r#2"]
    assert all(set(f) == {"id", "report_id", "kind", "section", "text"} for f in drawn)
    assert len(double) == 2 and all(f in drawn for f in double)
    assert sorted(f["id"] for f in [f for batch in draw_reread(GOLD, "voice_of_child", "", 1, 0, 1)[0] for f in batch]) == ["r#0", "r#1"]


def test_the_draw_is_the_same_for_a_seed():
    assert draw_reread(GOLD, "voice_of_child", "personal", 2, 1, seed=3) == draw_reread(GOLD, "voice_of_child", "personal", 2, 1, seed=3)

