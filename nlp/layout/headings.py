"""Step 3 of layout: section headings, and the place in the report (section, area, finding kind) they set.

Which headings exist and what each does is format knowledge (`nlp.report_formats.SECTION_HEADINGS`);
this module finds them among the lines and keeps the reader's place in the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..report_formats import (
    GRADE_FRAGMENT_END,
    GRADE_ONLY,
    INLINE_GRADE,
    KEEP_AREA,
    SECTION_HEADINGS,
    HeadingRule,
    identify_format,
    normalise_characters,
    normalise_head,
)
from .blocks import Block, Piece
from .lines import SPACES, Line, ends_sentence

# A heading runs over at most this many lines ...
MAX_HEADING_LINES = 3
# ... and this many characters once normalised: anything longer is prose.
MAX_HEADING_CHARS = 140
# Lines of one heading separated by blank lines are each shorter than this.
MAX_SPACED_HEADING_LINE_CHARS = 70

_FOOTNOTE_REF = re.compile(r"(?<=[a-z?)])\d{1,2}$")


# The reader asks for the key of most lines three or four times (end matter, grade rows,
# paragraph breaks, headings); a profile of `label` found these repeats 12 % of its time.
@lru_cache(maxsize=1 << 14)
def heading_key(text: str) -> str:
    """Normalise a candidate heading for matching: case, quotes, dashes, footnote marks, end marks."""
    key = " ".join(normalise_characters(text, dashes=True).lower().split())  # as SPACES.sub(" ", ...).strip(), faster
    if key[-1:].isdigit():
        key = _FOOTNOTE_REF.sub("", key)
    return key.rstrip(" ?:.")


def match_heading(text: str) -> HeadingRule | None:
    """The rule of the section heading that `text` is, or None."""
    key = heading_key(text)
    if len(key) > MAX_HEADING_CHARS:
        return None
    for pattern, rule in SECTION_HEADINGS:
        if pattern.fullmatch(key):
            return rule
    return None


@dataclass(frozen=True)
class HeadingMatch:
    """A heading found among the lines: its lines, their joined text, its rule, and how many lines it took."""

    lines: list[Line]
    text: str
    rule: HeadingRule
    consumed: int


def heading_at(lines: list[Line], i: int) -> HeadingMatch | None:
    """The longest heading of up to `MAX_HEADING_LINES` lines that starts at line i.

    The lines of a heading follow each other without blank lines, or are all short; none but the
    last ends a sentence (a colon or question mark may end a line of a heading).
    """
    for size in range(MAX_HEADING_LINES, 0, -1):
        group = lines[i : i + size]
        if len(group) < size or any(g.gap_before for g in group[1:]) and size > 1 and not _all_short(group):
            continue
        if any(ends_sentence(g.text) and not g.text.endswith((":", "?")) for g in group[:-1]):
            continue
        found = _match_group(group)
        if found is not None:
            return found
    return _heading_around_grade_cell(lines, i)


def _heading_around_grade_cell(lines: list[Line], i: int) -> HeadingMatch | None:
    """A two-line heading with its grade cell read in between ("The experiences and progress of" /
    "Requires" / "children who need help and protection improvement"), as pdftotext reads a heading
    beside the grade in its right-hand column. The grade cell's line is taken with the heading."""
    group = lines[i : i + 3]
    if len(group) < 3 or not GRADE_ONLY.fullmatch(heading_key(group[1].text)) or group[2].gap_before:
        return None
    text = GRADE_FRAGMENT_END.sub("", f"{group[0].text} {group[2].text}")
    rule = match_heading(text)
    return HeadingMatch([group[0], group[2]], text, rule, len(group)) if rule is not None else None


def contents_entry_at(lines: list[Line], i: int) -> HeadingMatch | None:
    """An entry of a table of contents starting at line i: a heading of up to three lines, as printed."""
    for size in range(MAX_HEADING_LINES, 0, -1):
        group = lines[i : i + size]
        if len(group) == size:
            found = _match_group(group)
            if found is not None:
                return found
    return None


def _match_group(group: list[Line]) -> HeadingMatch | None:
    joined = " ".join(g.text for g in group)
    rule = match_heading(joined)
    return HeadingMatch(group, joined, rule, len(group)) if rule is not None else None


def _all_short(group: list[Line]) -> bool:
    return all(len(g.text) < MAX_SPACED_HEADING_LINE_CHARS for g in group)


@dataclass
class Sections:
    """The reader's place in the report, changed by each heading it meets.

    kind (str | None): finding kind of the paragraphs being read; None while in a dropped part.
    area (str | None): judgement area id.
    section (str | None): the last section heading, as printed.
    in_front_matter (bool): still in the title page and grade table, which end at the first section
        heading or, in reports whose summary opens without a heading (ILACS), at the first paragraph
        of prose.
    in_contents (bool): reading a table of contents.
    dropping_rest (bool): nothing from here to the end is part of the report's text.
    """

    summary_opens_without_heading: bool
    kind: str | None = "summary"
    area: str | None = None
    section: str | None = None
    in_front_matter: bool = True
    in_contents: bool = False
    dropping_rest: bool = False

    @classmethod
    def for_report(cls, original: str) -> Sections:
        report_format = identify_format(normalise_head(original))
        return cls(summary_opens_without_heading=report_format is None or not report_format.body_opens_with_heading)

    def enter(self, heading: HeadingMatch) -> Block | None:
        """Move past a heading; return its block, or None for a heading that is not kept as one."""
        rule = heading.rule
        if self.in_front_matter and not (rule.opens_body or INLINE_GRADE.search(heading_key(heading.text))):
            return None  # a row of the grade table, or the title naming the LSCB review
        if rule.area != KEEP_AREA:
            self.area = rule.area
        self.kind = rule.kind
        self.in_front_matter = False
        if rule.ends_report:
            self.dropping_rest = True
        if rule.kind is None:
            self.in_contents = rule.is_contents
            return None
        self.section = SPACES.sub(" ", _FOOTNOTE_REF.sub("", heading.text)).rstrip(" :")
        block = Block("heading", None, None, self.section, self.area)
        block.pieces = [Piece(g.start, g.end, g.page) for g in heading.lines]
        return block
