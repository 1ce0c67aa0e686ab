"""The format table: one description per kind of report, consistent with the taxonomy."""

from __future__ import annotations

import pytest

from nlp.report_formats import (
    FORMATS,
    GRADE_WORDING,
    SECTION_HEADINGS,
    HeadingRule,
    flatten,
    grade_id,
    identify_format,
    is_bullet_glyph,
    normalise_head,
)
from nlp.taxonomy import AREAS, GRADES, KINDS, OVERALL_JUDGEMENTS


def test_report_formats_word_every_grade_of_the_taxonomy():
    assert tuple(GRADE_WORDING) == GRADES


@pytest.mark.parametrize(
    "printed,grade",
    [
        ("Requires improvement", "requires improvement to be good"),
        ("require  improvement to be good", "requires improvement to be good"),
        ("Inadequate", "inadequate"),
        ("adequate", "adequate"),
        ("Not judged", "not judged"),
        ("Excellent", None),
    ],
)
def test_report_formats_grade_id_maps_printed_grades_to_the_taxonomy(printed, grade):
    assert grade_id(printed) == grade


def test_report_formats_grade_tables_grade_known_areas_only():
    for report_format in FORMATS:
        assert set(report_format.grade_table) <= set(AREAS) | set(OVERALL_JUDGEMENTS), report_format.id
        assert report_format.overall_area in (None, *report_format.grade_table)


def test_report_formats_headings_lead_to_known_kinds_and_areas():
    for _, rule in SECTION_HEADINGS:
        assert rule.kind in (None, *KINDS)
        assert rule.area in (None, "keep", *AREAS)


def test_report_formats_heading_rule_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="KINDS"):
        HeadingRule("findings")


@pytest.mark.parametrize(
    "title,kind,framework",
    [
        ("Wigan\nInspection of services for children in need of help and protection, children looked after", "sif", "SIF"),
        ("Inspection of Newham local authority children’s services\nInspection dates", "ilacs", "ILACS"),
        ("Inspection of looked after children services\nNorfolk", "lac_2013", "other"),
        ("Surrey Safeguarding Children Board\nReview of the effectiveness of the Local Safeguarding Children Board", "lscb_review", "other"),
    ],
)
def test_report_formats_recognise_each_kind_by_its_title(title, kind, framework):
    report_format = identify_format(normalise_head(title))
    assert (report_format.id, report_format.framework) == (kind, framework)


def test_report_formats_recognise_nothing_in_other_text():
    assert identify_format(normalise_head("A recipe for bread.\nInspection of the oven.")) is None


def test_report_formats_flatten_rejoins_words_and_drops_symbol_bullets():
    assert flatten("improve-\nment of \uf06e services\u2019 plans") == "improvement of services' plans"
    assert flatten("Stoke-on-\nTrent 20 June 2017 \u2500 13 July") == "Stoke-on-Trent 20 June 2017 \u2500 13 July"


@pytest.mark.parametrize("character,bullet", [("\u25fc", True), ("\uf06e", True), ("\u2500", True), ("-", False), ("a", False)])
def test_report_formats_bullet_glyphs(character, bullet):
    assert is_bullet_glyph(character) is bullet
    assert is_bullet_glyph(character, dashes=True) is (bullet or character == "-")
