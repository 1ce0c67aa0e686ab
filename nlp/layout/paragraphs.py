"""Step 4 of layout: paragraphs (the findings) from the clean lines, placed by the section headings.

Paragraphs are rebuilt from lines: a printed number ("12.") or a bullet starts one, and so does a
line after a blank line or a page break unless the sentence runs on. Pdftotext runs some paragraphs
together without a blank line; there a paragraph ended where the next line's first word would still
have fitted on its last line.
"""

from __future__ import annotations

import re

from ..report_formats import BOILERPLATE, BULLET_CLASS, COPYRIGHT, END_MATTER, GRADE_ONLY, PAGE_NUMBER
from .blocks import Block, Piece
from .headings import HeadingMatch, Sections, contents_entry_at, heading_at, heading_key
from .lines import Line, column_width, ends_sentence, first_word, local_column_widths

_BULLET = re.compile(rf"[{BULLET_CLASS}]\s*")
_NUMBER_MARKER = re.compile(r"(\d{1,3})\.(?:\s+|$)")
_UNDOTTED_NUMBER_MARKER = re.compile(r"(\d{1,3})(?:\s+(?=[A-Z])|$)")
# Printed numbering skips at most this many numbers (a misprint) before a number is no marker.
MAX_PRINTED_SKIP = 2
# The opening paragraph of an ILACS summary is prose: at least this long ...
PROSE_MIN_CHARS = 160
# ... with a line that fills at least this share of the text column (table cells and titles do not).
PROSE_LINE_SHARE = 0.75
# A title line (a minor heading, not a finding) is shorter than this.
MAX_TITLE_CHARS = 70
# Characters of slack when judging whether a word would have fitted at the end of a line: fonts are
# proportional (measured on paragraphs the extractor did separate).
FIT_MARGIN_CHARS = 5


class ParagraphReader:
    """Walks a report's clean lines once, following the sections, and emits heading and paragraph blocks.

    original (str): the report's extracted text (pieces point into it).
    lines (list[Line]): its lines without page furniture.
    sections (Sections): the place in the report, updated at every heading.
    """

    def __init__(self, original: str, lines: list[Line], sections: Sections) -> None:
        self.original = original
        self.lines = lines
        self.sections = sections
        self.width = column_width(lines)
        self.local_widths = local_column_widths(lines)
        self.position = 0  # index of the line being read
        self.blocks: list[Block] = []
        self.current: Block | None = None
        self.last_number = 0
        self.pending_numbers: list[int] = []
        self.last_contents_entry: HeadingMatch | None = None

    def read(self) -> list[Block]:
        i = 0
        while i < len(self.lines) and not self.sections.dropping_rest:
            i = self._step(i)
        self._close()
        return self.blocks

    def _step(self, i: int) -> int:
        line = self.lines[i]
        self.position = i
        if self.sections.in_contents:
            consumed = self._skip_contents_entry(i)
            if consumed:
                return i + consumed
        if END_MATTER.match(heading_key(line.text)):
            self._close()
            self.sections.dropping_rest = True
            return i + 1
        heading = heading_at(self.lines, i) if self._may_start_heading(i) else None
        if heading is not None:
            self._heading(heading)
            return i + heading.consumed
        if GRADE_ONLY.fullmatch(heading_key(line.text)):
            self._close()
            return i + 1
        self._add_line(line)
        return i + 1

    def _may_start_heading(self, i: int) -> bool:
        """A heading starts a block, and is no list item."""
        line = self.lines[i]
        previous = self.lines[i - 1] if i else None
        starts_block = previous is None or line.gap_before or self.current is None or ends_sentence(previous.text)
        return starts_block and not _BULLET.match(line.text) and not _NUMBER_MARKER.match(line.text)

    def _skip_contents_entry(self, i: int) -> int:
        """Skip one entry of a table of contents; at the first line of body text, leave the contents.

        The body resumes without a visible boundary (the contents page may run straight into the next
        section, and lossy text has no page breaks), so the last heading skipped here is the one that
        governs the body text that follows.
        """
        entry = contents_entry_at(self.lines, i)
        if entry is not None:
            self.last_contents_entry = entry
            return entry.consumed
        line = self.lines[i]
        if PAGE_NUMBER.fullmatch(line.text) or (
            len(line.text) < PROSE_LINE_SHARE * self.width and not ends_sentence(line.text) and not _BULLET.match(line.text)
        ):
            return 1
        self.sections.in_contents = False
        if self.last_contents_entry is not None:
            self._heading(self.last_contents_entry)
            self.last_contents_entry = None
        return 0

    def _heading(self, heading: HeadingMatch) -> None:
        self._close()
        block = self.sections.enter(heading)
        if block is not None:
            self.blocks.append(block)

    def _add_line(self, line: Line) -> None:
        bullet = _BULLET.match(line.text)
        marker = None if bullet else self._paragraph_marker(line)
        skip = bullet.end() if bullet else marker.end() if marker else 0
        if marker is not None:
            number = int(marker.group(1))
            self.last_number = number
            if self.current is not None and not self.current.pieces and self.current.number is not None:
                # Markers stacked before their text ("16." "17." then two paragraphs): an extractor
                # put the second marker too early; it numbers the next paragraph break.
                self.pending_numbers.append(number)
            else:
                self._start(number)
        elif bullet or line.indented or self.current is None or (self.current.pieces and self._breaks_before(line)):
            self._start(self.pending_numbers.pop(0) if self.pending_numbers else None)
            self.current.bulleted = bool(bullet or line.indented)
        if skip < len(line.text):
            self.current.pieces.append(Piece(line.start + skip, line.end, line.page))

    def _start(self, number: int | None) -> None:
        self._close()
        self.current = Block("paragraph", self.sections.kind, number, self.sections.section, self.sections.area)

    def _paragraph_marker(self, line: Line) -> re.Match[str] | None:
        """The printed paragraph number opening this line, if it continues the report's numbering.

        Numbers run 1, 2, 3 ... through a report (recommendations first in SIF reports), restart at 1
        in some, and once in a while skip one in print. An undotted number ("34 Most children") is
        taken only where it is exactly the next one.
        """
        if self.sections.kind is None or self.sections.in_front_matter:
            return None
        dotted = _NUMBER_MARKER.match(line.text)
        marker = dotted or _UNDOTTED_NUMBER_MARKER.match(line.text)
        if marker is None or line.text[marker.end() :][:1].islower():
            return None
        number = int(marker.group(1))
        if number == self.last_number + 1 or (dotted and number == 1):
            return marker
        if dotted and self.last_number < number <= self.last_number + MAX_PRINTED_SKIP + 1 and self._at_block_start(line):
            return marker
        return None

    def _at_block_start(self, line: Line) -> bool:
        previous = self._last_piece_text()
        return line.gap_before or previous is None or ends_sentence(previous)

    def _breaks_before(self, line: Line) -> bool:
        previous = self._last_piece_text()
        if previous is None or BOILERPLATE.match(heading_key(line.text)):
            return True
        if line.gap_before:
            continues = not ends_sentence(previous) or line.text[:1].islower()
            # Extractors leave stray blank lines inside numbered paragraphs; within a page, a numbered
            # paragraph runs on unless what follows is a one-line title. (Across a page break, a new
            # sentence may be a second, unnumbered paragraph under the same number.)
            if self.current.number is not None and not line.page_break_before and not self._is_title_line(self.position):
                continues = True
            return not continues
        if not ends_sentence(previous):
            return False
        if self.pending_numbers and line.text[:1].isupper():
            return True  # a stacked marker is waiting for its paragraph: the next sentence start is it
        if self.current.number is not None:
            return False  # a numbered paragraph runs to the next number, heading or bullet
        width = self.local_widths[self.position]
        return len(previous) + 1 + len(first_word(line.text)) <= width - FIT_MARGIN_CHARS

    def _is_title_line(self, i: int) -> bool:
        """A short unpunctuated line standing alone: a title, not the next line of a paragraph."""
        line = self.lines[i]
        following = self.lines[i + 1] if i + 1 < len(self.lines) else None
        return (
            len(line.text) < MAX_TITLE_CHARS
            and not ends_sentence(line.text)
            and (following is None or following.gap_before or bool(_NUMBER_MARKER.match(following.text)))
        )

    def _is_prose(self, block: Block) -> bool:
        """Running sentences across the text column, as opposed to title lines and table cells."""
        texts = [self.original[p.start : p.end] for p in block.pieces]
        joined = " ".join(texts)
        return (
            len(joined) >= PROSE_MIN_CHARS
            and ends_sentence(joined)
            and max(map(len, texts)) >= PROSE_LINE_SHARE * self.width
            and not BOILERPLATE.match(heading_key(joined))
            and not COPYRIGHT.search(joined)
        )

    def _last_piece_text(self) -> str | None:
        if self.current is None or not self.current.pieces:
            return None
        last = self.current.pieces[-1]
        return self.original[last.start : last.end]

    def _close(self) -> None:
        current, self.current = self.current, None
        if current is None or not current.pieces or current.kind is None:
            return
        if self.sections.in_front_matter:
            if not (self.sections.summary_opens_without_heading and self._is_prose(current)):
                return
            self.sections.in_front_matter = False
        if self._is_minor_heading(current):
            current.role = "heading"
        self.blocks.append(current)

    def _is_minor_heading(self, block: Block) -> bool:
        """A one-line, unnumbered, unbulleted title ("Quality of practice", "Care leavers") heads a
        group of paragraphs without changing the report's section; it is not a finding."""
        text = self.original[block.pieces[0].start : block.pieces[-1].end]
        return (
            len(block.pieces) == 1
            and block.number is None
            and not block.bulleted
            and len(text) < MAX_TITLE_CHARS
            and text[:1].isupper()
            and not ends_sentence(text)
        )
