"""Text of a report PDF, shaped like poppler's `pdftotext` output, with paragraphs rebuilt from layout.

The downstream text parser was written against `pdftotext` (default mode): pages in order, each
followed by a form feed, one visual line per line, and an empty line after each block of text.
`extract_pdf_text` gives the same shape from pypdfium2, so no poppler install is needed, keeps the
empty lines where pdftotext has them, and adds those it leaves out when it runs paragraphs of one
font together (as in the executive summaries of 2017 reports): here a paragraph also ends at

* a vertical gap clearly wider than the spacing of the lines around it,
* a change of indentation (an outdent to a new item, or a first-line indent), other than the
  hanging indent of a numbered or bulleted paragraph,
* a bullet at the start of a line,
* a line that ends a sentence while the first word of the next line would have fitted on it, which
  only happens where the writer ended the paragraph.

Paragraph numbers ("12.") and bullets stay as text at the start of their paragraph's first line,
even when a wide hanging-indent gap follows them (pdftotext sometimes gives them a line of their own).

Geometry comes from pdfium's per-character "loose" boxes (the font's full height, so every glyph of a
line has the same box height whatever its shape), read in pdfium's content order and turned upright
for pages with a /Rotate entry. Text that sits side by side with a wide gap (a grade beside its
judgement, a page number beside a running footer) is separate, and pieces are read top to bottom,
column by column where they share a row, as pdftotext reads them.

pdfium may not be called from two threads at once, even on different documents, so all pdfium work
here happens under `PDFIUM_LOCK`, each call opens and closes its own document, and the layout
analysis runs after the lock is released.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import closing
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from nlp.errors import CorruptPdfError, EmptyReportError, EncryptedPdfError, NoTextLayerError

__all__ = ["PDFIUM_LOCK", "extract_pdf_text"]

# pypdfium2's "Incompatibility with Threading": any code of this package that calls pdfium holds it.
PDFIUM_LOCK = threading.Lock()

_PAGE_BREAK = "\f"

# pdfium replaces the hyphen (or soft hyphen) at a hyphenated line end with a mark and joins the two
# lines; pdftotext does the same join and drops the hyphen, so the downstream parser expects
# "childcentred". The mark reads U+0002 per character and U+FFFE in FPDFText_GetText: both are
# accepted so that nothing depends on which call produced the text.
_HYPHENATION_MARKS = frozenset({"\x02", "\ufffe"})

# Bullet glyphs of the report templates (Wingdings/Symbol glyphs land in the Private Use Area).
_BULLETS = frozenset("•◦▪▫■□◼◻●○►▶➢➤✓✔–-*")
_NUMBER_MARKER = re.compile(r"(?:\d{1,3}(?:\.\d{1,3})*\.?|\(?[a-z]{1,4}\)|[a-z]\.)")
_SENTENCE_END = re.compile(r"[.!?:;][’”'\")\]]*$")
_SENTENCE_START = re.compile(r"[A-Z0-9‘“'\"(\[]")

# Layout thresholds, as fractions of the line height (the loose box height, about the font size).
_COLUMN_GAP = 1.2  # a horizontal gap this wide separates two pieces of text on one row
_WORD_GAP = 0.15  # a gap this wide between glyphs is a word break even without a space character
_SAME_ROW_OVERLAP = 0.5  # glyphs overlapping vertically this much are on the same row
_LINE_GAP = 0.7  # lines further apart than this belong to different blocks
_PARAGRAPH_GAP = 0.3  # extra gap, over the block's usual one, that ends a paragraph
_INDENT_TOLERANCE = 0.4  # left edges closer than this count as aligned
_SPACE_WIDTH = 0.3  # the width of a space, near enough for "would the next word have fitted"
_SIZE_TOLERANCE = 0.25  # relative height difference tolerated inside one block

_Box = tuple[float, float, float, float]  # left, bottom, right, top, in PDF points with y upwards

# A document whose pages carry fewer visible characters than this, on average, is taken as scanned.
_MIN_CHARS_PER_PAGE = 10


def extract_pdf_text(source: str | os.PathLike[str] | bytes) -> str:
    """Return the text of a PDF report in `pdftotext` shape, with paragraph breaks from the layout.

    Pages come in order, each followed by a form feed, so page k is `text.split("\\f")[k - 1]`.
    Each visual line is one line of text; paragraphs are separated by one empty line.

    `source` is a path to the PDF file or the file's bytes; errors carry the path, or None for bytes.

    Raises:
        OSError: the file cannot be read (e.g. FileNotFoundError).
        EmptyReportError: the file or byte string is empty, or whitespace only.
        EncryptedPdfError: the PDF needs a password to open.
        CorruptPdfError: the data is not a PDF that pdfium can open and read.
        NoTextLayerError: the PDF has pages but (almost) no text, as when it is scanned.
    """
    path = None if isinstance(source, bytes) else Path(source)
    data = source if isinstance(source, bytes) else path.read_bytes()
    if not data.strip():
        raise EmptyReportError(path)
    with PDFIUM_LOCK:
        drafts_by_page = _read_document(data, path)
    pages = [_page_text(drafts) for drafts in drafts_by_page]
    if sum(len("".join(page.split())) for page in pages) < _MIN_CHARS_PER_PAGE * len(pages):
        raise NoTextLayerError(path)
    return "".join(page + _PAGE_BREAK for page in pages)


def _read_document(data: bytes, path: Path | None) -> list[list[_LineDraft]]:
    with _open_document(data, path) as document:
        try:
            return [_read_page(document, index) for index in range(len(document))]
        except pdfium.PdfiumError as error:
            raise CorruptPdfError(path, str(error)) from error


def _open_document(data: bytes, path: Path | None) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        # Only a PDF that cannot be opened without a password is refused: one with an owner password
        # alone (printing or copying restricted) opens and reads like any other, as in pdftotext.
        if error.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedPdfError(path) from error
        raise CorruptPdfError(path, str(error)) from error


def _read_page(document: pdfium.PdfDocument, index: int) -> list[_LineDraft]:
    with closing(document[index]) as page, closing(page.get_textpage()) as textpage:
        return _read_line_drafts(textpage, page.get_rotation())


def _read_line_drafts(textpage: pdfium.PdfTextPage, rotation: int) -> list[_LineDraft]:
    """Cut pdfium's characters, in content order, into lines at row changes and wide gaps."""
    drafts: list[_LineDraft] = []
    draft: _LineDraft | None = None
    hyphen_pending = False
    for index in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage, index))
        if char in _HYPHENATION_MARKS:
            hyphen_pending = draft is not None
            continue
        if char in "\r\n":
            draft = draft if hyphen_pending else None
            continue
        box = textpage.get_charbox(index, loose=True)
        if rotation:
            box = _upright(box, rotation)
        if char.isspace() or box[2] <= box[0] or box[3] <= box[1]:
            if draft is not None:
                draft.break_word()
            continue
        if draft is not None and not draft.continues_on_row(box):
            draft = _line_after_row_change(draft, box, hyphen_pending)
        hyphen_pending = False
        if draft is None:
            draft = _LineDraft.starting_with(char, box)
            drafts.append(draft)
        else:
            draft.add_glyph(char, box)
    if hyphen_pending and draft is not None:
        draft.add_hyphen()
    return drafts


def _line_after_row_change(draft: _LineDraft, box: _Box, hyphen_pending: bool) -> _LineDraft | None:
    """The line a glyph off `draft`'s row goes on: `draft` after a hyphenated line end, else a new one."""
    if not hyphen_pending:
        return None
    if draft.continues_below(box):
        return draft
    # pdfium joined the hyphenated line to text that does not follow it (a footnote below the last
    # line of the page): pdftotext keeps such a hyphen.
    draft.add_hyphen()
    return None


def _upright(box: _Box, rotation: int) -> _Box:
    """A box in the frame of the page as displayed, for a page with a /Rotate entry.

    Only distances between boxes matter here, so the frame's origin is left wherever it falls.
    """
    left, bottom, right, top = box
    if rotation == 90:
        return bottom, -right, top, -left
    if rotation == 180:
        return -right, -top, -left, -bottom
    return -top, left, -bottom, right


@dataclass(slots=True)
class _Word:
    left: float
    right: float
    chars: list[str]


@dataclass(slots=True)
class _LineDraft:
    """A line while it is read glyph by glyph: a run of text on one row with no wide gap inside."""

    left: float
    bottom: float
    right: float
    top: float
    size: float  # the tallest glyph box, about the font size of the line's main text
    words: list[_Word]
    word_pending: bool = False

    @classmethod
    def starting_with(cls, char: str, box: _Box) -> _LineDraft:
        left, bottom, right, top = box
        return cls(left, bottom, right, top, top - bottom, [_Word(left, right, [char])])

    def continues_on_row(self, box: _Box) -> bool:
        """Whether a glyph read next belongs to this line rather than starting a new one."""
        left, bottom, _, top = box
        size = max(self.size, top - bottom)
        if min(self.top, top) - max(self.bottom, bottom) < _SAME_ROW_OVERLAP * min(self.size, top - bottom):
            return False
        gap = left - self.words[-1].right
        if gap < -_SAME_ROW_OVERLAP * size:
            return False
        # A list marker keeps its paragraph on its line even across a wide hanging-indent gap.
        return gap <= _COLUMN_GAP * size or self._is_marker_only()

    def continues_below(self, box: _Box) -> bool:
        """Whether a glyph after a hyphenated line end sits on the next row of the same text."""
        _, _, right, top = box
        row_below = self.bottom - _LINE_GAP * self.size <= top <= self.bottom + _SAME_ROW_OVERLAP * self.size
        return row_below and right > self.left

    def add_glyph(self, char: str, box: _Box) -> None:
        left, bottom, right, top = box
        word = self.words[-1]
        if self.word_pending or self._is_word_gap(left - word.right):
            self.words.append(_Word(left, right, [char]))
            self.word_pending = False
        else:
            word.chars.append(char)
            word.right = right
        # Plain comparisons: this runs once per glyph, and min()/max() calls cost a third of it.
        if left < self.left:
            self.left = left
        if right > self.right:
            self.right = right
        if bottom < self.bottom:
            self.bottom = bottom
        if top > self.top:
            self.top = top
        if top - bottom > self.size:
            self.size = top - bottom

    def break_word(self) -> None:
        self.word_pending = True

    def add_hyphen(self) -> None:
        self.words[-1].chars.append("-")

    def absorb(self, other: _LineDraft) -> None:
        """Append a fragment of the same row that pdfium read separately (e.g. a footnote mark)."""
        if other.left - self.right > _WORD_GAP * self.size:
            self.words += other.words
        else:
            self.words[-1].chars += other.words[0].chars
            self.words[-1].right = other.words[0].right
            self.words += other.words[1:]
        self.left, self.right = min(self.left, other.left), max(self.right, other.right)
        self.bottom, self.top = min(self.bottom, other.bottom), max(self.top, other.top)
        self.size = max(self.size, other.size)

    def is_beside(self, other: _LineDraft) -> bool:
        """Whether `other` shares this line's row, to its right or left."""
        overlap = min(self.top, other.top) - max(self.bottom, other.bottom)
        return overlap >= _SAME_ROW_OVERLAP * min(self.size, other.size)

    def finish(self) -> _Line:
        second_word_left = self.words[1].left if len(self.words) > 1 else None
        text = " ".join("".join(word.chars) for word in self.words)
        return _Line(
            text,
            self.left,
            self.bottom,
            self.right,
            self.top,
            self.size,
            self.words[0].right,
            second_word_left,
        )

    def _is_word_gap(self, gap: float) -> bool:
        # A two-digit paragraph number can all but touch its text ("10.There"), so after a list
        # marker any visible gap is a word break.
        return gap > _WORD_GAP * self.size or (
            gap > 0 and self._is_marker_only() and not self.words[0].chars[-1].isdigit()
        )

    def _is_marker_only(self) -> bool:
        return len(self.words) == 1 and _is_marker("".join(self.words[0].chars))


@dataclass(slots=True)
class _Line:
    """A finished line of text and the geometry that paragraph detection needs."""

    text: str
    left: float
    bottom: float
    right: float
    top: float
    size: float
    first_word_right: float  # with the line's left edge, how much room its first word needs
    second_word_left: float | None  # where a hanging indent would align
    beside_other_text: bool = False  # another line shares its row, as in a table or contents list


_Block = list[_Line]  # closely spaced lines of one size, one under the other, top down


def _page_text(drafts: list[_LineDraft]) -> str:
    lines = _finish_lines(drafts)
    paragraphs = [paragraph for block in _ordered_blocks(lines) for paragraph in _paragraphs(block)]
    return "".join("\n".join(line.text for line in paragraph) + "\n\n" for paragraph in paragraphs)


def _finish_lines(drafts: list[_LineDraft]) -> list[_Line]:
    """Join fragments of one row, then note which lines share their row with other text."""
    joined: list[_LineDraft] = []
    for draft in sorted(drafts, key=lambda draft: draft.left):
        left_neighbour = next((line for line in joined if _continues_row_of(line, draft)), None)
        if left_neighbour is None:
            joined.append(draft)
        else:
            left_neighbour.absorb(draft)
    joined.sort(key=lambda draft: -draft.top)
    lines = [draft.finish() for draft in joined]
    for index, draft in enumerate(joined):
        # Sorted by top, so the lines that can share this one's row come right after it.
        for other_index in range(index + 1, len(joined)):
            other = joined[other_index]
            if other.top <= draft.bottom:
                break
            if draft.is_beside(other):
                lines[index].beside_other_text = lines[other_index].beside_other_text = True
    return lines


def _continues_row_of(line: _LineDraft, fragment: _LineDraft) -> bool:
    gap = fragment.left - line.right
    size = max(line.size, fragment.size)
    return line.is_beside(fragment) and -_SAME_ROW_OVERLAP * size <= gap <= _COLUMN_GAP * size


def _is_marker(text: str) -> bool:
    return _is_bullet(text) or bool(_NUMBER_MARKER.fullmatch(text))


def _is_bullet(text: str) -> bool:
    return len(text) == 1 and (text in _BULLETS or "\ue000" <= text <= "\uf8ff")


def _ordered_blocks(lines: list[_Line]) -> list[_Block]:
    """Group lines into blocks of closely spaced, overlapping lines; order them as they are read."""
    blocks: list[_Block] = []
    for line in sorted(lines, key=lambda line: (-line.top, line.left)):
        block = _block_above(blocks, line)
        if block is None:
            blocks.append([line])
        else:
            block.append(line)
    return _reading_order(blocks)


def _block_above(blocks: list[_Block], line: _Line) -> _Block | None:
    """The block that `line` continues, if exactly one does."""
    candidates = [block for block in blocks if _continues_block(block[-1], line)]
    return candidates[0] if len(candidates) == 1 else None


def _continues_block(last: _Line, line: _Line) -> bool:
    size = max(last.size, line.size)
    gap = last.bottom - line.top
    return (
        -_SAME_ROW_OVERLAP * size < gap <= _LINE_GAP * size
        and abs(last.size - line.size) <= _SIZE_TOLERANCE * size
        and line.left < last.right
        and line.right > last.left
        # Rows of a table or contents list are read across, one row at a time.
        and not (last.beside_other_text and line.beside_other_text)
    )


def _reading_order(blocks: list[_Block]) -> list[_Block]:
    """Top to bottom; blocks that share a row (overlap vertically) are read column by column."""
    ordered: list[_Block] = []
    row: list[_Block] = []
    for block in sorted(blocks, key=_block_top, reverse=True):
        if row and not _share_row(row[0], block):
            ordered += _column_by_column(row)
            row = []
        row.append(block)
    return ordered + _column_by_column(row)


@dataclass(slots=True)
class _Column:
    left: float
    right: float
    blocks: list[_Block]


def _column_by_column(row: list[_Block]) -> list[_Block]:
    """The blocks of one row, column by column from the left, each column top down."""
    columns: list[_Column] = []
    for block in sorted(row, key=_block_left):
        left, right = _block_left(block), max(line.right for line in block)
        column = next((column for column in columns if left < column.right and right > column.left), None)
        if column is None:
            columns.append(_Column(left, right, [block]))
        else:
            column.left, column.right = min(left, column.left), max(right, column.right)
            column.blocks.append(block)
    return [block for column in columns for block in sorted(column.blocks, key=_block_top, reverse=True)]


def _block_left(block: _Block) -> float:
    return min(line.left for line in block)


def _block_top(block: _Block) -> float:
    return block[0].top


def _share_row(anchor: _Block, block: _Block) -> bool:
    """Whether two blocks overlap vertically by half the height of the shorter one, or more."""
    anchor_bottom, block_bottom = anchor[-1].bottom, block[-1].bottom
    overlap = min(anchor[0].top, block[0].top) - max(anchor_bottom, block_bottom)
    return overlap >= _SAME_ROW_OVERLAP * min(anchor[0].top - anchor_bottom, block[0].top - block_bottom)


def _paragraphs(block: _Block) -> list[list[_Line]]:
    """Split a block where the spacing, indentation or a deliberately short line ends a paragraph."""
    usual_gap = min((above.bottom - below.top for above, below in pairwise(block)), default=0.0)
    right_edge = max(line.right for line in block)
    paragraphs = [[block[0]]]
    for line in block[1:]:
        paragraph = paragraphs[-1]
        if _starts_paragraph(paragraph, line, usual_gap, right_edge):
            paragraphs.append([line])
        else:
            paragraph.append(line)
    return paragraphs


def _starts_paragraph(paragraph: list[_Line], line: _Line, usual_gap: float, right_edge: float) -> bool:
    """Whether `line` starts a new paragraph rather than continuing `paragraph`, the one above it."""
    above = paragraph[-1]
    tolerance = _INDENT_TOLERANCE * line.size
    if above.bottom - line.top > usual_gap + _PARAGRAPH_GAP * line.size:
        return True
    if _is_bullet(line.text.split(" ", 1)[0]):
        return True
    if line.left < above.left - tolerance:
        # An outdent after the indented first line of a paragraph is its second line.
        return len(paragraph) > 1
    if line.left > above.left + tolerance:
        hanging = above.second_word_left is not None and abs(line.left - above.second_word_left) <= tolerance
        return not (len(paragraph) == 1 and hanging)
    return _ends_on_purpose(above, line, right_edge)


def _ends_on_purpose(above: _Line, line: _Line, right_edge: float) -> bool:
    """True when `above` ends a sentence and `line` opens one whose first word would have fitted."""
    if not (_SENTENCE_END.search(above.text) and _SENTENCE_START.match(line.text)):
        return False
    first_word_width = line.first_word_right - line.left
    return above.right + _SPACE_WIDTH * line.size + first_word_width < right_edge
