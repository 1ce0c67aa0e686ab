"""Step 1 of layout: the lines of a report's extracted text, with their offsets, pages and gaps."""

from __future__ import annotations

import re
from dataclasses import dataclass

SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")
# A closing bracket ends a sentence too: findings end with "(Recommendation)".
_TERMINAL = re.compile(r"""(?:[.!?:;]["'\u2019\u201d)\]]*|\))$""")

# The text column's width is this percentile of line lengths: most lines of a paragraph fill the
# column, the last one and headings do not.
COLUMN_PERCENTILE = 0.9
# Lines on either side that measure the column's width around a line.
WIDTH_WINDOW_LINES = 20


@dataclass(frozen=True, slots=True)
class Line:
    """One non-empty line of the original text.

    text (str): the line without surrounding whitespace.
    start (int): offset of `text` in the original text.
    page (int): 1-based page, counted by form feeds.
    gap_before (bool): a blank line or a page break separates it from the previous line.
    page_break_before (bool): a page break separates it from the previous line.
    indented (bool): the raw line starts with whitespace. Extractors start lines at the margin, so
        this is where a lossy extraction dropped a bullet symbol and kept the space after it.
    """

    text: str
    start: int
    page: int
    gap_before: bool
    page_break_before: bool
    indented: bool = False

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def split_lines(text: str) -> list[Line]:
    """Split a report's text into its non-empty lines, keeping offsets and pages."""
    lines: list[Line] = []
    offset = 0
    gap = page_break = False
    for page_number, page in enumerate(text.split("\f"), start=1):
        if page_number > 1:
            page_break = gap = True
        for raw in page.split("\n"):
            stripped = raw.strip()
            if stripped:
                start = offset + raw.index(stripped[0])
                lines.append(Line(stripped, start, page_number, gap, page_break, raw[0].isspace()))
                gap = page_break = False
            else:
                gap = True
            offset += len(raw) + 1
        # split("\n") consumed one separator too many at the end of each page; the "\f" takes its place.
    return lines


def letter_count(text: str) -> int:
    return len(_LETTER.findall(text))


def ends_sentence(text: str) -> bool:
    return bool(_TERMINAL.search(text))


def first_word(text: str) -> str:
    return text.split(" ", 1)[0]


def column_width(lines: list[Line]) -> int:
    """The text column's width in characters: a high percentile of line lengths."""
    return _percentile([len(line.text) for line in lines]) if lines else 0


def local_column_widths(lines: list[Line]) -> list[int]:
    """The text column's width around each line, from its neighbours: layouts vary within a
    report, and lossy text has no pages to measure them by."""
    lengths = [len(line.text) for line in lines]
    return [
        _percentile(lengths[max(0, i - WIDTH_WINDOW_LINES) : i + WIDTH_WINDOW_LINES + 1])
        for i in range(len(lines))
    ]


def _percentile(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[int(COLUMN_PERCENTILE * (len(ordered) - 1))]
