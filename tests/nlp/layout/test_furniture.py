"""Layout step 2: running headers and footers, page numbers and footnotes out of the lines."""

from __future__ import annotations

from nlp.layout.furniture import find_furniture, remove_furniture
from nlp.layout.lines import split_lines

HEADER = "Inspection of Anytown local authority children’s services"


def _report(pages: list[str]) -> str:
    return "\f".join(f"{HEADER}\n{body}\n{number}" for number, body in enumerate(pages, start=1))


BODIES = ["Early help is effective.", "Plans are clear.", "Visits are regular.", "Leaders know their services."]


def test_furniture_running_header_and_page_numbers_are_removed():
    kept = [line.text for line in remove_furniture(split_lines(_report(BODIES)))]
    assert kept == BODIES


def test_furniture_needs_page_breaks():
    lines = split_lines("Header\nText one.\n1\n")
    assert find_furniture(lines) == set()


INTRO = ["Leaders know their services.", "Plans are clear.", "Visits are regular."]
NOTE = ["1", "Working Together to Safeguard Children, 2018.", *(f"The guidance, part {n}." for n in "ABCDE")]


def test_furniture_footnote_is_removed_only_where_the_page_refers_to_it():
    referenced = [*INTRO, "Most children are seen by the Board1 within days.", *NOTE]
    unreferenced = [*INTRO, "Most children are seen within days.", "1", *(f"Schools in the area, part {n}." for n in "ABCDE")]
    kept = [line.text for line in remove_furniture(split_lines("\n".join(referenced) + "\f" + "\n".join(unreferenced)))]
    assert kept == referenced[:4] + unreferenced


def test_furniture_a_note_repeated_on_another_page_is_removed_there_too():
    referenced = [*INTRO, "Most children are seen by the Board1 within days.", *NOTE]
    later = ["There have been 14 adoptions", "Working Together to Safeguard Children, 2018.", "Plans are reviewed."]
    kept = [line.text for line in remove_furniture(split_lines("\n".join(referenced) + "\f" + "\n".join(later)))]
    assert kept == referenced[:4] + ["There have been 14 adoptions", "Plans are reviewed."]


def test_furniture_running_footer_glued_onto_a_text_line_is_cut():
    footer = "Inspection of Anytown children’s services"
    pages = [f"{body}\n{footer}" for body in BODIES]
    pages[1] = f"Plans are clear. {footer}\nMore text on the page.\n{footer}"
    kept = [line.text for line in remove_furniture(split_lines("\f".join(pages)))]
    assert "Plans are clear." in kept and not any(footer in line for line in kept)
