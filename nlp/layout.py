"""Layout analysis: from a report's extracted text to clean, ordered paragraphs.

The input is what a text extractor gives for a whole report: pdftotext output (pages separated by
form feeds, running headers and footers, page numbers, symbol-font bullets), the text of our own PDF
reader (same shape), or lossy text with no page breaks at all. The output is a `Layout`: a clean
text made of the report's headings and paragraphs, and one `Block` per heading or paragraph carrying
its place in the report (section, judgement area, kind), its printed paragraph number, its pages
and its character offsets in the original text.

Everything here is plain Python on strings; the spaCy side lives in `nlp.components`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace

from .report_formats import (
    BOILERPLATE,
    BULLET_CLASS,
    COPYRIGHT,
    END_MATTER,
    GRADE_ONLY,
    INLINE_GRADE,
    KEEP_AREA,
    PAGE_NUMBER,
    SECTION_HEADINGS,
    HeadingRule,
    identify_format,
    normalise_characters,
    normalise_head,
)

# --- lines ---------------------------------------------------------------------------------------


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


# --- page furniture ------------------------------------------------------------------------------

_EDGE_TOP, _EDGE_BOTTOM = 3, 5
_FOOTNOTE_ZONE = 14
_MAX_FOOTNOTE = 15
_RUNNING_SHARE = 0.25
_FOOTNOTE_NUMBER = re.compile(r"\d{1,2}")
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_LETTERS = re.compile(r"[^\W\d_]")


def _furniture_key(text: str) -> str:
    return _SPACES.sub(" ", _DIGITS.sub("#", text.lower())).strip()


def _pages(lines: list[Line]) -> dict[int, list[int]]:
    pages: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        pages.setdefault(line.page, []).append(i)
    return pages


def find_furniture(lines: list[Line]) -> set[int]:
    """Indices of lines that are page furniture: running headers and footers, page numbers, footnotes.

    A running header or footer is a line (digits ignored) found at the top or bottom edge of at least
    a quarter of the pages; page numbers are bare numbers at a page edge. Both are only decidable on
    text with page breaks, so lossy text without them keeps its lines.
    """
    pages = _pages(lines)
    if len(pages) < 2:
        return set()
    edges = {page: idx[:_EDGE_TOP] + idx[-_EDGE_BOTTOM:] for page, idx in pages.items()}
    seen_on = Counter(key for idx in edges.values() for key in {_furniture_key(lines[i].text) for i in idx})
    min_pages = max(3, math.ceil(_RUNNING_SHARE * len(pages)))
    furniture = {
        i
        for idx in edges.values()
        for i in idx
        if PAGE_NUMBER.fullmatch(lines[i].text) or _is_running(lines[i].text, seen_on, min_pages)
    }
    furniture |= _displaced_page_numbers(lines, pages, furniture)
    for idx in pages.values():
        furniture |= _footnote(lines, [i for i in idx if i not in furniture])
    return furniture


def _displaced_page_numbers(lines: list[Line], pages: dict[int, list[int]], furniture: set[int]) -> set[int]:
    """Page numbers an extractor read out of place (between a paragraph number and its text).

    Printed page numbers run at a fixed offset from the physical page; the offset is learnt from the
    numbers found at page edges, and a bare number equal to its page's printed number is dropped
    wherever it sits on the page.
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


def _is_running(text: str, seen_on: Counter[str], min_pages: int) -> bool:
    # Paragraph numbers and bullets repeat at page edges too, but they carry no words.
    return seen_on[_furniture_key(text)] >= min_pages and len(_LETTERS.findall(text)) >= 3


def _footnote(lines: list[Line], page: list[int]) -> set[int]:
    """Footnotes at the foot of a page: bare note numbers, each followed by its note.

    A note number is small and referenced by a superscript glued to a word or figure earlier on the
    page ("Board1", "improve?1", "62%5"); a bare number without one is a paragraph number, not a
    note. Extractors scatter note numbers and short notes around the first one found, so the notes
    extend up over bare numbers and short unpunctuated lines.
    """
    zone_start = max(0, len(page) - _FOOTNOTE_ZONE)
    for position in range(zone_start, len(page) - 1):
        line = lines[page[position]]
        if not (_is_note_number(line.text) and len(_LETTERS.findall(lines[page[position + 1]].text)) >= 3):
            continue
        reference = re.compile(rf"[^\s\d]{line.text}(?!\d)")
        if not any(reference.search(lines[i].text) for i in page[:position]):
            continue
        while position > zone_start and _is_note_fragment(lines[page[position - 1]].text):
            position -= 1
        return set(page[position:])
    return set()


def _is_note_number(text: str) -> bool:
    return bool(_FOOTNOTE_NUMBER.fullmatch(text)) and int(text) <= _MAX_FOOTNOTE


def _is_note_fragment(text: str) -> bool:
    return _is_note_number(text) or (len(text) < 30 and not _TERMINAL.search(text))


def detach_glued_furniture(line: Line, running: set[str]) -> Line:
    """Cut a running footer that the extractor glued onto the end of a text line."""
    for footer in running:
        if line.text.endswith(footer) and len(line.text) > len(footer):
            return replace(line, text=line.text[: -len(footer)].rstrip())
    return line


# --- headings ------------------------------------------------------------------------------------

_FOOTNOTE_REF = re.compile(r"(?<=[a-z?)])\d{1,2}$")


def heading_key(text: str) -> str:
    """Normalise a candidate heading for matching: case, quotes, dashes, footnote marks, end marks."""
    key = _SPACES.sub(" ", normalise_characters(text, dashes=True).lower()).strip()
    key = _FOOTNOTE_REF.sub("", key)
    return key.rstrip(" ?:.")


def match_heading(text: str) -> HeadingRule | None:
    key = heading_key(text)
    if len(key) > 140:
        return None
    for pattern, rule in SECTION_HEADINGS:
        if pattern.fullmatch(key):
            return rule
    return None


# --- paragraph structure -------------------------------------------------------------------------

_BULLET = re.compile(rf"[{BULLET_CLASS}]\s*")
_NUMBER_MARKER = re.compile(r"(\d{1,3})\.(?:\s+|$)")
_UNDOTTED_NUMBER_MARKER = re.compile(r"(\d{1,3})(?:\s+(?=[A-Z])|$)")
_MAX_PRINTED_SKIP = 2
# A closing bracket ends a sentence too: findings end with "(Recommendation)".
_TERMINAL = re.compile(r"""(?:[.!?:;]["'\u2019\u201d)\]]*|\))$""")
_PROSE_MIN_CHARS = 160
_MINOR_HEADING_CHARS = 70
_PROSE_LINE_SHARE = 0.75
_FIT_MARGIN = 5
_WIDTH_WINDOW = 20


def ends_sentence(text: str) -> bool:
    return bool(_TERMINAL.search(text))


def _first_word(text: str) -> str:
    return text.split(" ", 1)[0]


def _line_width(lines: list[Line]) -> int:
    """The text column's width in characters: a high percentile of line lengths."""
    return _percentile([len(line.text) for line in lines]) if lines else 0


def _local_widths(lines: list[Line]) -> list[int]:
    """The text column's width around each line, from its neighbours: layouts vary within a
    report, and lossy text has no pages to measure them by."""
    lengths = [len(line.text) for line in lines]
    return [
        _percentile(lengths[max(0, i - _WIDTH_WINDOW) : i + _WIDTH_WINDOW + 1])
        for i in range(len(lines))
    ]


def _percentile(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[int(0.9 * (len(ordered) - 1))]


@dataclass(slots=True)
class Piece:
    """A run of original text that becomes part of a block: [start, end) in the original."""

    start: int
    end: int
    page: int


@dataclass
class Block:
    """A heading or a paragraph of the report, in reading order.

    role (str): "heading" or "paragraph".
    kind (str | None): for paragraphs, one of `KINDS`.
    number (int | None): printed paragraph number.
    section (str | None): the nearest section heading above, as printed.
    area (str | None): judgement area id.
    pieces (list[Piece]): the original text it was built from.
    """

    role: str
    kind: str | None
    number: int | None
    section: str | None
    area: str | None
    pieces: list[Piece] = field(default_factory=list)
    bulleted: bool = False
    text: str = ""
    start: int = 0  # offset of `text` in `Layout.text`

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def char_start(self) -> int:
        return self.pieces[0].start

    @property
    def char_end(self) -> int:
        return self.pieces[-1].end

    @property
    def page_start(self) -> int:
        return self.pieces[0].page

    @property
    def page_end(self) -> int:
        return self.pieces[-1].page

    def to_dict(self) -> dict:
        # Field by field: dataclasses.asdict deep-copies recursively and dominated tokenization time.
        return {
            "role": self.role,
            "kind": self.kind,
            "number": self.number,
            "section": self.section,
            "area": self.area,
            "pieces": [{"start": p.start, "end": p.end, "page": p.page} for p in self.pieces],
            "bulleted": self.bulleted,
            "text": self.text,
            "start": self.start,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Block:
        return cls(**{**data, "pieces": [Piece(**piece) for piece in data["pieces"]]})


@dataclass
class Layout:
    """A report's clean text and its blocks. `has_pages` is False for text without page breaks."""

    text: str
    blocks: list[Block]
    has_pages: bool

    def to_dict(self) -> dict:
        return {"text": self.text, "blocks": [b.to_dict() for b in self.blocks], "has_pages": self.has_pages}

    @classmethod
    def from_dict(cls, data: dict) -> Layout:
        return cls(data["text"], [Block.from_dict(b) for b in data["blocks"]], data["has_pages"])


class _Reader:
    """Walks a report's lines once, keeping the section state, and emits blocks."""

    def __init__(self, original: str) -> None:
        lines = split_lines(original)
        furniture = find_furniture(lines)
        running = {lines[i].text for i in furniture if len(_LETTERS.findall(lines[i].text)) >= 12}
        self.original = original
        self.lines = [detach_glued_furniture(line, running) for i, line in enumerate(lines) if i not in furniture]
        self.width = _line_width(self.lines)
        self.local_widths = _local_widths(self.lines)
        self.position = 0  # index of the line being read
        self.blocks: list[Block] = []
        self.current: Block | None = None
        # The title page and grade table come first; they end at the first section heading or, in
        # ILACS reports, which open their summary without a heading, at the first paragraph of prose.
        self.kind: str | None = "summary"  # None while in a dropped part
        self.in_front_matter = True
        report_format = identify_format(normalise_head(original))
        self.summary_opens_without_heading = report_format is None or not report_format.body_opens_with_heading
        self.area: str | None = None
        self.section: str | None = None
        self.last_number = 0
        self.pending_numbers: list[int] = []
        self.in_contents = False
        self.last_contents_entry: tuple[list[Line], str, HeadingRule] | None = None
        self.dropping_rest = False

    # The walk -----------------------------------------------------------------------------------

    def read(self) -> list[Block]:
        i = 0
        while i < len(self.lines) and not self.dropping_rest:
            i = self._step(i)
        self._close()
        return [b for b in self.blocks if b.role == "heading" or not BOILERPLATE.match(heading_key(b.text))]

    def _step(self, i: int) -> int:
        line = self.lines[i]
        self.position = i
        if self.in_contents:
            consumed = self._skip_contents_entry(i)
            if consumed:
                return i + consumed
        if END_MATTER.match(heading_key(line.text)):
            self._close()
            self.dropping_rest = True
            return i + 1
        consumed = self._try_heading(i)
        if consumed:
            return i + consumed
        if GRADE_ONLY.fullmatch(heading_key(line.text)):
            self._close()
            return i + 1
        self._add_line(line)
        return i + 1

    def _skip_contents_entry(self, i: int) -> int:
        """Skip one entry of a table of contents; at the first line of body text, leave the contents.

        The body resumes without a visible boundary (the contents page may run straight into the next
        section, and lossy text has no page breaks), so the last heading skipped here is the one that
        governs the body text that follows.
        """
        line = self.lines[i]
        for size in (3, 2, 1):
            group = self.lines[i : i + size]
            joined = " ".join(g.text for g in group)
            rule = match_heading(joined) if len(group) == size else None
            if rule is not None:
                self.last_contents_entry = (group, joined, rule)
                return size
        if PAGE_NUMBER.fullmatch(line.text) or (
            len(line.text) < _PROSE_LINE_SHARE * self.width and not ends_sentence(line.text) and not _BULLET.match(line.text)
        ):
            return 1
        self.in_contents = False
        if self.last_contents_entry is not None:
            self._heading(*self.last_contents_entry)
            self.last_contents_entry = None
        return 0

    def _try_heading(self, i: int) -> int:
        """Match a heading of up to three lines starting at line i; return how many lines it took."""
        line = self.lines[i]
        previous = self.lines[i - 1] if i else None
        starts_block = previous is None or line.gap_before or self.current is None or ends_sentence(previous.text)
        if not starts_block or _BULLET.match(line.text) or _NUMBER_MARKER.match(line.text):
            return 0
        for size in (3, 2, 1):
            group = self.lines[i : i + size]
            if len(group) < size or any(g.gap_before for g in group[1:]) and size > 1 and not _all_short(group):
                continue
            if any(ends_sentence(g.text) and not g.text.endswith((":", "?")) for g in group[:-1]):
                continue
            joined = " ".join(g.text for g in group)
            rule = match_heading(joined)
            if rule is not None:
                self._heading(group, joined, rule)
                return size
        return 0

    # State changes ------------------------------------------------------------------------------

    def _heading(self, group: list[Line], text: str, rule: HeadingRule) -> None:
        self._close()
        if self.in_front_matter and not (rule.opens_body or INLINE_GRADE.search(heading_key(text))):
            return  # a row of the grade table, or the title naming the LSCB review
        if rule.area != KEEP_AREA:
            self.area = rule.area
        self.kind = rule.kind
        self.in_front_matter = False
        if rule.ends_report:
            self.dropping_rest = True
        if rule.kind is None:
            self.in_contents = rule.is_contents
            return
        self.section = _SPACES.sub(" ", _FOOTNOTE_REF.sub("", text)).rstrip(" :")
        heading = Block("heading", None, None, self.section, self.area)
        heading.pieces = [Piece(g.start, g.end, g.page) for g in group]
        self.blocks.append(heading)

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
        self.current = Block("paragraph", self.kind, number, self.section, self.area)

    def _paragraph_marker(self, line: Line) -> re.Match[str] | None:
        """The printed paragraph number opening this line, if it continues the report's numbering.

        Numbers run 1, 2, 3 ... through a report (recommendations first in SIF reports), restart at 1
        in some, and once in a while skip one in print. An undotted number ("34 Most children") is
        taken only where it is exactly the next one.
        """
        if self.kind is None or self.in_front_matter:
            return None
        dotted = _NUMBER_MARKER.match(line.text)
        marker = dotted or _UNDOTTED_NUMBER_MARKER.match(line.text)
        if marker is None or line.text[marker.end() :][:1].islower():
            return None
        number = int(marker.group(1))
        if number == self.last_number + 1 or (dotted and number == 1):
            return marker
        if dotted and self.last_number < number <= self.last_number + _MAX_PRINTED_SKIP + 1 and self._at_block_start(line):
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
        # Without a blank line, a paragraph ended where the next line's first word would have fitted,
        # with a margin for proportional fonts (measured on paragraphs the extractor did separate).
        width = self.local_widths[self.position]
        return len(previous) + 1 + len(_first_word(line.text)) <= width - _FIT_MARGIN

    def _is_title_line(self, i: int) -> bool:
        """A short unpunctuated line standing alone: a title, not the next line of a paragraph."""
        line = self.lines[i]
        following = self.lines[i + 1] if i + 1 < len(self.lines) else None
        return (
            len(line.text) < _MINOR_HEADING_CHARS
            and not ends_sentence(line.text)
            and (following is None or following.gap_before or bool(_NUMBER_MARKER.match(following.text)))
        )

    def _is_prose(self, block: Block) -> bool:
        """Running sentences across the text column, as opposed to title lines and table cells."""
        texts = [self.original[p.start : p.end] for p in block.pieces]
        joined = " ".join(texts)
        return (
            len(joined) >= _PROSE_MIN_CHARS
            and ends_sentence(joined)
            and max(map(len, texts)) >= _PROSE_LINE_SHARE * self.width
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
        if self.in_front_matter:
            if not (self.summary_opens_without_heading and self._is_prose(current)):
                return
            self.in_front_matter = False
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
            and len(text) < _MINOR_HEADING_CHARS
            and text[:1].isupper()
            and not ends_sentence(text)
        )


def _all_short(group: list[Line]) -> bool:
    return all(len(g.text) < 70 for g in group)


def parse_layout(text: str) -> Layout:
    """Read a report's extracted text into a clean text and its ordered heading and paragraph blocks."""
    blocks = _Reader(text).read()
    return _assemble(text, blocks, has_pages="\f" in text)


def _assemble(original: str, blocks: list[Block], has_pages: bool) -> Layout:
    parts: list[str] = []
    offset = 0
    for block in blocks:
        block.text = " ".join(_SPACES.sub(" ", original[p.start : p.end]) for p in block.pieces)
        block.start = offset
        parts.append(block.text)
        offset += len(block.text) + 2
    return Layout("\n\n".join(parts), blocks, has_pages)
