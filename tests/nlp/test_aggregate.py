"""Aggregation counts (theme, polarity) pairs per report, area, authority, year and corpus."""

from __future__ import annotations

import pandas as pd
import pytest

from nlp.aggregate import as_dict, authority_trends, corpus_profile, evidence, report_profile


def finding(report_id, authority, year, framework, index, area, theme_polarity, text="A finding."):
    polarity = next(iter(set(theme_polarity.values()))) if len(set(theme_polarity.values())) == 1 else "mixed"
    return {
        "report_id": report_id,
        "local_authority": authority,
        "framework": framework,
        "year": year,
        "index": index,
        "number": index + 1,
        "section": "Section",
        "area": area,
        "text": text,
        "polarity": polarity,
        "theme_polarity": theme_polarity,
    }


@pytest.fixture
def findings() -> pd.DataFrame:
    return pd.DataFrame(
        [
            finding("leeds-2017", "Leeds", 2017, "SIF", 0, "help_and_protection", {"missing_children": "weakness", "adoption": "strength"}, "Mixed one."),
            finding("leeds-2017", "Leeds", 2017, "SIF", 1, "help_and_protection", {"missing_children": "weakness"}, "Weak one."),
            finding("leeds-2017", "Leeds", 2017, "SIF", 2, "help_and_protection", {"missing_children": "strength"}, "Strong one."),
            finding("leeds-2017", "Leeds", 2017, "SIF", 3, None, {"missing_children": "neutral"}),
            finding("leeds-2022", "Leeds", 2022, "ILACS", 0, "help_and_protection", {"missing_children": "strength"}),
            finding("york-2022", "York", 2022, "ILACS", 0, "care_leavers", {"care_leavers": "strength"}),
            finding("york-2022", "York", 2022, "ILACS", 1, "care_leavers", {}),
        ]
    )


def row(table: pd.DataFrame, **keys) -> dict:
    selected = table
    for column, value in keys.items():
        selected = selected[selected[column] == value]
    assert len(selected) == 1, keys
    return selected.iloc[0].to_dict()


def test_report_profile_counts_each_theme_of_a_mixed_finding_with_its_own_polarity(findings):
    profile = report_profile(findings)
    missing = row(profile, report_id="leeds-2017", area="help_and_protection", theme="missing_children")
    assert (missing["strength"], missing["weakness"], missing["mixed"], missing["findings"]) == (1, 2, 0, 3)
    assert missing["net"] == pytest.approx(-1 / 3)
    adoption = row(profile, report_id="leeds-2017", area="help_and_protection", theme="adoption")
    assert (adoption["strength"], adoption["findings"], adoption["net"]) == (1, 1, 1.0)


def test_report_profile_keeps_findings_outside_any_area_under_none(findings):
    outside = row(report_profile(findings), report_id="leeds-2017", area="none", theme="missing_children")
    assert (outside["neutral"], outside["net"]) == (1, 0.0)


def test_a_finding_without_themes_adds_to_no_count(findings):
    assert row(report_profile(findings), report_id="york-2022", theme="care_leavers")["findings"] == 1


def test_authority_trends_follow_an_authority_across_its_inspections(findings):
    trends = authority_trends(findings)
    assert row(trends, local_authority="Leeds", year=2017, theme="missing_children")["findings"] == 4
    assert row(trends, local_authority="Leeds", year=2022, theme="missing_children")["net"] == 1.0


def test_corpus_profile_by_framework(findings):
    profile = corpus_profile(findings, by=("framework",))
    assert row(profile, framework="SIF", theme="missing_children")["weakness"] == 2
    assert row(profile, framework="ILACS", theme="missing_children")["strength"] == 1
    assert set(corpus_profile(findings)["theme"]) == {"missing_children", "adoption", "care_leavers"}


def test_evidence_returns_the_findings_behind_a_count(findings):
    weak = evidence(findings, "leeds-2017", "missing_children", "weakness")
    assert list(weak["index"]) == [0, 1] and list(weak["text"]) == ["Mixed one.", "Weak one."]
    assert len(evidence(findings, "leeds-2017", "missing_children")) == 4
    assert evidence(findings, "york-2022", "adoption").empty


def test_as_dict_reads_parquet_struct_cells_with_null_fields():
    assert as_dict({"adoption": "strength", "care_leavers": None}) == {"adoption": "strength"}
    assert as_dict(None) == {} and as_dict(float("nan")) == {}
