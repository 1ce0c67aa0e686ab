"""Grade validity: measures per graded area against the report's own grades."""

from __future__ import annotations

import pandas as pd
import pytest

from nlp.validity import MEASURES, grade_validity, grades_table

GRADES = ["inadequate", "requires improvement to be good", "good", "outstanding"]
TEXT = {
    "strength": "Services are effective and strong, and children are well supported.",
    "weakness": "Plans are not always timely and too many children wait; quality is poor.",
}


def _findings(authorities: int = 8) -> tuple[pd.DataFrame, dict]:
    """Areas whose share of strength findings rises with their grade."""
    rows, judgements = [], {}
    for a in range(authorities):
        report_id = f"authority-{a}-2020-ilacs"
        judgements[report_id] = {}
        for g, grade in enumerate(GRADES):
            area = ["help_and_protection", "children_in_care", "care_leavers", "impact_of_leaders"][(a + g) % 4]
            judgements[report_id][area] = grade
            for i in range(4):
                polarity = "strength" if i < g + (a % 2) else "weakness"
                rows.append(
                    {"report_id": report_id, "local_authority": f"Authority {a}", "area": area, "index": len(rows),
                     "polarity": polarity, "text": TEXT[polarity]}
                )
    return pd.DataFrame(rows), judgements


def test_validity_measures_track_grades_that_the_findings_track():
    findings, judgements = _findings()
    figures, joined = grade_validity(findings, grades_table(judgements), folds=4)
    assert list(figures["measure"]) == list(MEASURES)
    by_measure = figures.set_index("measure")
    assert by_measure.loc["model_net", "spearman_rho"] > 0.8
    assert by_measure.loc["cue_balance", "spearman_rho"] > 0.8
    assert by_measure.loc["model_net", "grade_accuracy_grouped_cv"] > by_measure.loc["model_net", "majority_grade_accuracy"]
    assert len(joined) == 8 * 4


def test_validity_grades_table_keeps_only_ordinal_grades():
    table = grades_table({"r": {"help_and_protection": "good", "lscb": "not judged", "adoption": "outstanding"}})
    assert sorted(table["area"]) == ["adoption", "help_and_protection"]
    assert table.set_index("area").loc["adoption", "grade_score"] > table.set_index("area").loc["help_and_protection", "grade_score"]


def test_validity_findings_outside_graded_areas_are_ignored():
    findings, judgements = _findings(authorities=4)
    findings.loc[0, "area"] = None
    _, joined = grade_validity(findings, grades_table(judgements), folds=2)
    assert joined["findings"].sum() == len(findings) - 1
