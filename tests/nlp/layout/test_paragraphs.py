"""Layout step 4: paragraphs from clean lines, numbered, bulleted and placed by their headings."""

from __future__ import annotations

from nlp.layout.headings import Sections
from nlp.layout.lines import split_lines
from nlp.layout.paragraphs import ParagraphReader


def _read(text: str) -> list[tuple]:
    sections = Sections(summary_opens_without_heading=False)
    blocks = ParagraphReader(text, split_lines(text), sections).read()
    return [(b.role, b.kind, b.number, " ".join(text[p.start : p.end] for p in b.pieces)) for b in blocks]


def test_paragraphs_split_at_printed_numbers_in_sequence():
    text = "Inspection findings\n1. Early help is effective\nand well used.\n2. Plans are clear.\n7. Not a marker in sequence."
    assert _read(text) == [
        ("heading", None, None, "Inspection findings"),
        ("paragraph", "finding", 1, "Early help is effective and well used."),
        ("paragraph", "finding", 2, "Plans are clear. 7. Not a marker in sequence."),
    ]


def test_paragraphs_bullets_are_items_of_their_own():
    text = "Recommendations\n◼ Improve plans.\n◼ Improve visits to\nchildren."
    assert [row[1:] for row in _read(text)][1:] == [
        ("recommendation", None, "Improve plans."),
        ("recommendation", None, "Improve visits to children."),
    ]


def test_paragraphs_grade_lines_are_no_findings():
    text = "Executive summary\nRequires improvement\n\nChildren are safe."
    assert [row[3] for row in _read(text) if row[0] == "paragraph"] == ["Children are safe."]


def test_paragraphs_end_matter_ends_the_report():
    text = "Executive summary\nChildren are safe.\n\nThe Office for Standards in Education, Children's Services and Skills\nregulates."
    assert [row[3] for row in _read(text) if row[0] == "paragraph"] == ["Children are safe."]


def test_paragraphs_one_line_title_is_a_minor_heading():
    text = "Executive summary\nQuality of practice\n1. Children are seen alone and their wishes are known."
    assert [row[:2] for row in _read(text)] == [("heading", None), ("heading", "summary"), ("paragraph", "summary")]


def test_paragraphs_2013_grade_line_under_a_heading_is_no_finding():
    text = "Executive summary\nCapacity to improve\nGrade 4 (inadequate)\n\nThe council has not acted on earlier findings."
    assert [row[3] for row in _read(text) if row[0] == "paragraph"] == ["The council has not acted on earlier findings."]
