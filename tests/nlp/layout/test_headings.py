"""Layout step 3: section headings and the place in the report they set."""

from __future__ import annotations

import pytest

from nlp.layout.headings import Sections, heading_at, heading_key, match_heading
from nlp.layout.lines import split_lines


@pytest.mark.parametrize(
    "heading,area",
    [
        ("The experiences and progress of children who need help and protection: Requires improvement", "help_and_protection"),
        ("The experiences and progress of children in care and care leavers are:", "children_in_care_and_care_leavers"),
        ("The graded judgement about the experience and progress of care leavers is that it is good", "care_leavers"),
        ("Leadership, management and governance", "leadership_management_governance"),
        ("The Local Safeguarding Children Board (LSCB)", "lscb"),
    ],
)
def test_headings_match_areas(heading, area):
    assert match_heading(heading).area == area


def test_headings_reject_prose():
    assert match_heading("The experiences and progress of children in care are improving because leaders act.") is None


def test_headings_key_folds_case_quotes_dashes_and_footnote_marks():
    assert heading_key("The local authority’s strengths – summary2") == "the local authority's strengths - summary"


def test_headings_run_over_up_to_three_lines_not_past_a_sentence():
    lines = split_lines("The experiences and progress of children\nwho need help and protection\nEarly help is good.")
    found = heading_at(lines, 0)
    assert found is not None and len(found.lines) == 2 and found.rule.area == "help_and_protection"
    assert heading_at(split_lines("Early help is good.\nSummary"), 0) is None


def test_headings_sections_follow_headings_and_skip_grade_table_rows():
    sections = Sections(summary_opens_without_heading=False)
    row = heading_at(split_lines("Overall effectiveness"), 0)
    assert sections.enter(row) is None and sections.in_front_matter
    block = sections.enter(heading_at(split_lines("Recommendations"), 0))
    assert block.role == "heading" and block.section == "Recommendations"
    assert (sections.kind, sections.in_front_matter) == ("recommendation", False)
    sections.enter(heading_at(split_lines("Contents"), 0))
    assert sections.in_contents and sections.kind is None


def test_headings_ilacs_summary_opens_without_a_heading():
    assert Sections.for_report("Inspection of Anytown local authority children’s services\n").summary_opens_without_heading
    assert not Sections.for_report("Inspection of services for children in need of help and protection\n").summary_opens_without_heading


def test_headings_lscb_grade_line_is_a_heading_not_a_finding():
    rule = match_heading("The Local Safeguarding Children Board is inadequate")
    assert (rule.kind, rule.area) == ("summary", "lscb")


@pytest.mark.parametrize("grade", ["Good", "Requires"])
def test_headings_grade_cell_read_between_the_lines_of_a_heading_goes_with_it(grade):
    tail = " improvement" if grade == "Requires" else ""
    lines = split_lines(f"The experiences and progress of\n{grade}\nchildren who need help and protection{tail}\nSummary")
    found = heading_at(lines, 0)
    assert found.consumed == 3 and found.rule.area == "help_and_protection"
    assert found.text == "The experiences and progress of children who need help and protection"
