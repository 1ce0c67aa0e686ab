"""Step 2 of layout: page furniture (running headers and footers, page numbers, footnotes) out of the lines.

Furniture is only decidable on text with page breaks; lossy text without them keeps its lines.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import replace

from ..report_formats import PAGE_NUMBER
from .lines import Line, ends_sentence, letter_count

# Lines at the top and bottom of a page where running headers, footers and page numbers sit.
EDGE_TOP_LINES, EDGE_BOTTOM_LINES = 3, 5
# A running header or footer is found at a page edge on at least this share of the pages ...
RUNNING_PAGE_SHARE = 0.25
# ... and on at least this many pages.
MIN_RUNNING_PAGES = 3
# Paragraph numbers and bullets repeat at page edges too, but a running line has words.
MIN_RUNNING_LETTERS = 3
# A running line this long is also cut where an extractor glued it onto the end of a text line.
MIN_GLUED_RUNNING_LETTERS = 12
# Footnotes sit in the last lines of a page and are numbered from 1 to at most this in a report.
FOOTNOTE_ZONE_LINES = 14
MAX_FOOTNOTE_NUMBER = 15
# The line after a note number is its note only if it has words.
MIN_NOTE_LETTERS = 3
# An unpunctuated line shorter than this, just above a footnote, is a piece of the notes.
MAX_NOTE_FRAGMENT_CHARS = 30
# A line with at least this many letters that is furniture on one page (a footnote repeated on the
# next page, a running line out of its place) is furniture wherever it recurs in the report.
MIN_RECURRING_LETTERS = 8

_FOOTNOTE_NUMBER = re.compile(r"\d{1,2}")
_DIGITS = re.compile(r"\d+")


def remove_furniture(lines: list[Line]) -> list[Line]:
    """The lines without page furniture, and without running footers glued onto text lines."""
    furniture = find_furniture(lines)
    running = {lines[i].text for i in furniture if letter_count(lines[i].text) >= MIN_GLUED_RUNNING_LETTERS}
    return [detach_glued_furniture(line, running) for i, line in enumerate(lines) if i not in furniture]


def _furniture_key(text: str) -> str:
    return " ".join(_DIGITS.sub("#", text.lower()).split())


def _pages(lines: list[Line]) -> dict[int, list[int]]:
    pages: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        pages.setdefault(line.page, []).append(i)
    return pages


def find_furniture(lines: list[Line]) -> set[int]:
    """Indices of lines that are page furniture: running headers and footers, page numbers, footnotes.

    A running header or footer is a line (digits ignored) found at the top or bottom edge of at least
    a quarter of the pages; page numbers are bare numbers at a page edge. A line that is furniture
    somewhere is furniture wherever else it recurs.
    """
    pages = _pages(lines)
    if len(pages) < 2:
        return set()
    keys = [_furniture_key(line.text) for line in lines]
    edges = {page: idx[:EDGE_TOP_LINES] + idx[-EDGE_BOTTOM_LINES:] for page, idx in pages.items()}
    seen_on = Counter(key for idx in edges.values() for key in {keys[i] for i in idx})
    min_pages = max(MIN_RUNNING_PAGES, math.ceil(RUNNING_PAGE_SHARE * len(pages)))
    furniture = {
        i
        for idx in edges.values()
        for i in idx
        if PAGE_NUMBER.fullmatch(lines[i].text) or _is_running(lines[i].text, seen_on[keys[i]], min_pages)
    }
    furniture |= _displaced_page_numbers(lines, pages, furniture)
    for idx in pages.values():
        furniture |= _footnote(lines, [i for i in idx if i not in furniture])
    return furniture | _recurring(lines, keys, furniture)


def _recurring(lines: list[Line], keys: list[str], furniture: set[int]) -> set[int]:
    """Lines elsewhere in the report that repeat a line found to be furniture (digits ignored).

    keys: each line's `_furniture_key`.
    """
    repeated = {keys[i] for i in furniture if letter_count(lines[i].text) >= MIN_RECURRING_LETTERS}
    return {i for i, key in enumerate(keys) if i not in furniture and key in repeated}


def _displaced_page_numbers(lines: list[Line], pages: dict[int, list[int]], furniture: set[int]) -> set[int]:
    """Page numbers an extractor read out of place (between a paragraph number and its text).

    Printed page numbers run at a fixed offset from the physical page; the offset is learnt from the
    numbers found at page edges, and a bare number equal to its page's printed number is dropped
    wherever it sits on the page, once the numbers of at least half of the pages agree on the offset.
    """
    offsets = Counter(
        int(lines[i].text) - page
        for page, idx in pages.items()
        for i in idx
        if i in furniture and lines[i].text.isdigit()
    )
    if not offsets:
        return set()
    offset, votes = offsets.most_common(1)[0]
    if votes < len(pages) // 2:
        return set()
    return {i for page, idx in pages.items() for i in idx if lines[i].text.isdigit() and int(lines[i].text) == page + offset}


def _is_running(text: str, pages_seen_on: int, min_pages: int) -> bool:
    return pages_seen_on >= min_pages and letter_count(text) >= MIN_RUNNING_LETTERS


def _footnote(lines: list[Line], page: list[int]) -> set[int]:
    """Footnotes at the foot of a page: bare note numbers, each followed by its note.

    A note number is small and referenced by a superscript glued to a word or figure earlier on the
    page ("Board1", "improve?1", "62%5"); a bare number without one is a paragraph number, not a
    note. Extractors scatter note numbers and short notes around the first one found, so the notes
    extend up over bare numbers and short unpunctuated lines.
    """
    zone_start = max(0, len(page) - FOOTNOTE_ZONE_LINES)
    for position in range(zone_start, len(page) - 1):
        line = lines[page[position]]
        if not (_is_note_number(line.text) and letter_count(lines[page[position + 1]].text) >= MIN_NOTE_LETTERS):
            continue
        reference = re.compile(rf"[^\s\d]{line.text}(?!\d)")
        if not any(reference.search(lines[i].text) for i in page[:position]):
            continue
        while position > zone_start and _is_note_fragment(lines[page[position - 1]].text):
            position -= 1
        return set(page[position:])
    return set()


def _is_note_number(text: str) -> bool:
    return bool(_FOOTNOTE_NUMBER.fullmatch(text)) and int(text) <= MAX_FOOTNOTE_NUMBER


def _is_note_fragment(text: str) -> bool:
    return _is_note_number(text) or (len(text) < MAX_NOTE_FRAGMENT_CHARS and not ends_sentence(text))


def detach_glued_furniture(line: Line, running: set[str]) -> Line:
    """Cut a running footer that the extractor glued onto the end of a text line."""
    for footer in running:
        if line.text.endswith(footer) and len(line.text) > len(footer):
            return replace(line, text=line.text[: -len(footer)].rstrip())
    return line
