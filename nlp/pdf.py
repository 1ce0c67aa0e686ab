"""Text of a report PDF, shaped like poppler's `pdftotext` output down to its empty lines.

The downstream text parser was written against `pdftotext` (default mode) and reads this text and
pdftotext's alike, so the two must have one shape: pages in order, each followed by a form feed, one
visual line per line, and an empty line wherever pdftotext puts one, which is after each of its
"flows", not after each paragraph (it runs paragraphs of one font together, as in the executive
summaries of 2017 reports, and the parser finds those paragraphs itself). `extract_pdf_text` gives
that shape from pypdfium2, so no poppler install is needed, by redoing pdftotext's layout analysis
(poppler's TextOutputDev) with its own parameters:

* A block is text of one font size whose rows have baselines at most 1.5 font sizes apart and
  overlap sideways; text of a size within 60% on one of its rows, up to 0.3 font sizes beside it,
  joins it too. A block starts at the leftmost text of the top rows left over.
* So a list marker ("12.", a bullet) more than a font size away from its text, and a small raised
  note number at the start of a line, are blocks of their own, and lines of their own in the text.
* Blocks are read top to bottom, column by column where they share a row, and each block whole.
  pdftotext sorts them topologically instead; the two orders differ only in unusual layouts, such
  as a page number at the foot of a column of paragraph numbers, which pdftotext reads before the
  paragraph beside that column.
* A flow goes on from one block to the next while the next starts at most 2.5 font sizes lower, in
  a font no larger, within the room beside the last block and beside the flow's first (the width
  that no other block shares a row in). An empty line follows each flow.

Geometry comes from pdfium's per-character "loose" boxes (the font's full height, so every glyph of a
line has the same box height whatever its shape), read in pdfium's content order and turned upright
for pages with a /Rotate entry; they cut rows into lines and words. The measures pdftotext compares
(font size, baseline, and a box from the font's ascent and descent) come from pdfium's font data for
the first glyph of each line.

pdfium may not be called from two threads at once, even on different documents, so all pdfium work
here happens under `PDFIUM_LOCK`, each call opens and closes its own document, and the layout
analysis runs after the lock is released.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from nlp.errors import CorruptPdfError, EmptyReportError, EncryptedPdfError, NoTextLayerError
from nlp.limits import check_page_count
from nlp.report_formats import is_bullet_glyph

__all__ = ["PDFIUM_LOCK", "extract_pdf_text"]

# pypdfium2's "Incompatibility with Threading": any code of this package that calls pdfium holds it.
PDFIUM_LOCK = threading.Lock()

_PAGE_BREAK = "\f"

# pdfium replaces the hyphen (or soft hyphen) at a hyphenated line end with a mark and joins the two
# lines; pdftotext does the same join and drops the hyphen, so the downstream parser expects
# "childcentred". The mark reads U+0002 per character and U+FFFE in FPDFText_GetText: both are
# accepted so that nothing depends on which call produced the text.
_HYPHENATION_MARKS = frozenset({"\x02", "\ufffe"})

_NUMBER_MARKER = re.compile(r"(?:\d{1,3}(?:\.\d{1,3})*\.?|\(?[a-z]{1,4}\)|[a-z]\.)")

# Layout thresholds, as fractions of the line height (the loose box height, about the font size).
_COLUMN_GAP = 1.2  # a horizontal gap this wide separates two pieces of text on one row
_WORD_GAP = 0.15  # a gap this wide between glyphs is a word break even without a space character
_SAME_ROW_OVERLAP = 0.5  # glyphs overlapping vertically this much are on the same row
_LINE_GAP = 0.7  # a hyphenated word goes on no further below its line than this

# pdftotext's own layout parameters (poppler's TextOutputDev.cc), as fractions of the font size of
# the block being built: they decide where its output has empty lines.
_PDFTOTEXT_LINE_SPACING = 1.5  # maxLineSpacingDelta: baselines at most this far apart share a block
_PDFTOTEXT_BLOCK_SIZE_DELTA = 0.05  # maxBlockFontSizeDelta1: a line above or below, in the same font size
_PDFTOTEXT_ROW_SIZE_DELTA = 0.6  # maxBlockFontSizeDelta2: text on a row the block already has
_PDFTOTEXT_SIDE_SIZE_DELTA = 0.2  # maxBlockFontSizeDelta3: a word just left or right of the block
_PDFTOTEXT_SAME_ROW = 0.5  # maxIntraLineDelta: baselines this close are on one row
_PDFTOTEXT_ROW_REACH = 0.3  # minColSpacing1: text this close beside the block, on one of its rows, joins it
_PDFTOTEXT_COLUMN_SPACING = 1.0  # minColSpacing2: a word further to the side starts another block
_PDFTOTEXT_BLOCK_SPACING = 2.5  # maxBlockSpacing: blocks further apart start another flow
_PDFTOTEXT_BASELINE_BUCKET = 4.0  # textPoolStep, in points: a block starts at the leftmost text
_PDFTOTEXT_SEED_BUCKETS = 4  # of this many buckets of baselines from the top

_Box = tuple[float, float, float, float]  # left, bottom, right, top, in PDF points with y upwards

# A document whose pages carry fewer visible characters than this, on average, is taken as scanned.
_MIN_CHARS_PER_PAGE = 10


def extract_pdf_text(source: str | os.PathLike[str] | bytes) -> str:
    """Return the text of a PDF report in `pdftotext` shape, empty lines where pdftotext has them.

    Pages come in order, each followed by a form feed, so page k is `text.split("\\f")[k - 1]`.
    Each visual line is one line of text; runs of text (pdftotext's flows: a paragraph, or several
    paragraphs of one font) are separated by one empty line.

    `source` is a path to the PDF file or the file's bytes; errors carry the path, or None for bytes.

    Raises:
        OSError: the file cannot be read (e.g. FileNotFoundError).
        EmptyReportError: the file or byte string is empty, or whitespace only.
        EncryptedPdfError: the PDF needs a password to open.
        CorruptPdfError: the data is not a PDF that pdfium can open and read.
        NoTextLayerError: the PDF has pages but (almost) no text, as when it is scanned.
        ReportTooLargeError: the PDF has more pages than `nlp.limits.MAX_PDF_PAGES`.
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
        check_page_count(len(document), path)
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
    rect = pdfium_c.FS_RECTF()  # filled in place for each glyph: pdfium is called once per glyph
    for index, char in enumerate(_page_characters(textpage)):
        if char in _HYPHENATION_MARKS:
            hyphen_pending = draft is not None
            continue
        if char in "\r\n":
            draft = draft if hyphen_pending else None
            continue
        if char.isspace():
            if draft is not None:
                draft.break_word()
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(textpage, index, rect):
            raise pdfium.PdfiumError(f"pdfium gave no box for character {index}")
        box = (rect.left, rect.bottom, rect.right, rect.top)
        if rotation:
            box = _upright(box, rotation)
        if box[2] <= box[0] or box[3] <= box[1]:
            if draft is not None:
                draft.break_word()
            continue
        if draft is not None and draft.continues_on_row(box):
            draft.add_glyph(char, box)
            hyphen_pending = False
            continue
        if draft is not None:
            draft = _line_after_row_change(draft, box, hyphen_pending)
            if draft is not None:
                draft.last_row = _font_box(textpage, index, rotation)
        hyphen_pending = False
        if draft is None:
            draft = _LineDraft.starting_with(char, box, _font_box(textpage, index, rotation))
            drafts.append(draft)
        else:
            draft.add_glyph(char, box)
    if hyphen_pending and draft is not None:
        draft.add_hyphen()
    return drafts


def _page_characters(textpage: pdfium.PdfTextPage) -> str:
    """The page's characters, one per pdfium character index, read in one call.

    FPDFText_GetText gives one UTF-16 unit per character; a page with characters beyond the Basic
    Multilingual Plane (surrogate pairs) is read character by character instead.
    """
    count = textpage.count_chars()
    buffer = ctypes.create_string_buffer(2 * (count + 1))
    pdfium_c.FPDFText_GetText(textpage, 0, count, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
    text = buffer.raw[: 2 * count].decode("utf-16-le", errors="surrogatepass")
    if any("\ud800" <= char <= "\udfff" for char in text):
        return "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, index)) for index in range(count))
    return text


class _FontBox(NamedTuple):
    """A glyph's font size and its box as pdftotext measures text: the font's ascent above the
    baseline and its descent below, whatever the glyph's shape."""

    size: float
    baseline: float
    top: float
    bottom: float


def _font_box(textpage: pdfium.PdfTextPage, index: int, rotation: int) -> _FontBox:
    x, y = ctypes.c_double(), ctypes.c_double()
    pdfium_c.FPDFText_GetCharOrigin(textpage, index, x, y)
    origin = (x.value, y.value, x.value, y.value)
    baseline = (_upright(origin, rotation) if rotation else origin)[1]
    size = pdfium_c.FPDFText_GetFontSize(textpage, index)
    font = pdfium_c.FPDFTextObj_GetFont(pdfium_c.FPDFText_GetTextObject(textpage, index))
    ascent, descent = ctypes.c_float(), ctypes.c_float()
    if not (
        pdfium_c.FPDFFont_GetAscent(font, size, ascent) and pdfium_c.FPDFFont_GetDescent(font, size, descent)
    ):
        # poppler's own figures for text drawn without a usable font
        ascent.value, descent.value = 0.95 * size, -0.35 * size
    return _FontBox(size, baseline, baseline + ascent.value, baseline + descent.value)


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
    font: _FontBox  # of the first glyph, as pdftotext takes a block's font size from its first word
    last_row: _FontBox  # of the first glyph on the last row, when a hyphenated word took the line on
    words: list[_Word]
    word_pending: bool = False

    @classmethod
    def starting_with(cls, char: str, box: _Box, font: _FontBox) -> _LineDraft:
        left, bottom, right, top = box
        return cls(left, bottom, right, top, top - bottom, font, font, [_Word(left, right, [char])])

    def continues_on_row(self, box: _Box) -> bool:
        """Whether a glyph read next belongs to this line rather than starting a new one.

        Not a glyph on another row, nor one set larger and lower right after a lone smaller word (a
        raised note number, cut off so that `is_raised_mark_before` can decide on it with the font
        sizes and baselines at hand), nor one beyond a column gap. Runs once per glyph: plain
        comparisons instead of min() and max() calls.
        """
        left, bottom, _, top = box
        height = top - bottom
        size = self.size
        overlap = (top if top < self.top else self.top) - (bottom if bottom > self.bottom else self.bottom)
        if overlap < _SAME_ROW_OVERLAP * (height if height < size else size):
            return False
        if len(self.words) == 1 and height - size >= _PDFTOTEXT_SIDE_SIZE_DELTA * size and bottom < self.bottom:
            return False
        larger = height if height > size else size
        gap = left - self.words[-1].right
        return -_SAME_ROW_OVERLAP * larger <= gap <= _COLUMN_GAP * larger

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

    def is_raised_mark_before(self, other: _LineDraft) -> bool:
        """Whether this is a note number set small and raised at the start of `other`'s row.

        pdftotext starts a block at the leftmost text of the top row, here the mark, and the text
        beside it is neither on the mark's row nor of a size close to it, so the mark stays alone.
        """
        return (
            self.font.baseline - other.font.baseline > _PDFTOTEXT_SAME_ROW * self.font.size
            and other.font.size - self.font.size >= _PDFTOTEXT_SIDE_SIZE_DELTA * self.font.size
        )

    def cells(self) -> list[_Cell]:
        """The line as pdftotext would print it: whole, or its list marker and its text apart."""
        words = self.words
        if self._has_marker_apart():
            return [
                self._cell(words[:1], self.left, words[0].right),
                self._cell(words[1:], words[1].left, self.right),
            ]
        return [self._cell(words, self.left, self.right)]

    def _has_marker_apart(self) -> bool:
        """Whether the line opens with a list marker too far from its text for pdftotext to join them."""
        words = self.words
        return (
            len(words) > 1
            and _is_marker("".join(words[0].chars))
            and words[1].left - words[0].right > _PDFTOTEXT_COLUMN_SPACING * self.font.size
        )

    def _cell(self, words: list[_Word], left: float, right: float) -> _Cell:
        text = " ".join("".join(word.chars) for word in words)
        return _Cell(text, left, right, self.font, self.last_row)

    def _is_word_gap(self, gap: float) -> bool:
        # A two-digit paragraph number can all but touch its text ("10.There"), so after a list
        # marker any visible gap is a word break.
        return gap > _WORD_GAP * self.size or (
            gap > 0 and self._is_marker_only() and not self.words[0].chars[-1].isdigit()
        )

    def _is_marker_only(self) -> bool:
        return len(self.words) == 1 and _is_marker("".join(self.words[0].chars))


@dataclass(slots=True, eq=False)
class _Cell:
    """One line of output: a whole line, or a list marker or the text of a line that has one apart."""

    text: str
    left: float
    right: float
    font: _FontBox  # pdftotext's measures of its first row
    last_row: _FontBox  # and of its last


def _page_text(drafts: list[_LineDraft]) -> str:
    blocks = _reading_order(_text_blocks(_finish_cells(drafts)))
    flows = _flows(blocks)
    return "".join("\n".join(cell.text for block in flow for cell in block.cells) + "\n\n" for flow in flows)


def _finish_cells(drafts: list[_LineDraft]) -> list[_Cell]:
    """Join the fragments of a row that pdfium read separately, then cut each line into its cells."""
    joined: list[_LineDraft] = []
    for draft in sorted(drafts, key=lambda draft: draft.left):
        left_neighbour = next((line for line in joined if _continues_row_of(line, draft)), None)
        if left_neighbour is None:
            joined.append(draft)
        else:
            left_neighbour.absorb(draft)
    return [cell for line in joined for cell in line.cells()]


def _continues_row_of(line: _LineDraft, fragment: _LineDraft) -> bool:
    gap = fragment.left - line.right
    size = max(line.size, fragment.size)
    return (
        line.is_beside(fragment)
        and -_SAME_ROW_OVERLAP * size <= gap <= _COLUMN_GAP * size
        and not line.is_raised_mark_before(fragment)
    )


def _is_marker(text: str) -> bool:
    return _is_bullet(text) or bool(_NUMBER_MARKER.fullmatch(text))


def _is_bullet(text: str) -> bool:
    return len(text) == 1 and is_bullet_glyph(text, dashes=True)


@dataclass(slots=True, eq=False)
class _TextBlock:
    """A block as pdftotext forms one: rows of one font size, each baseline close to the next.

    The font size of its first cell rules what else joins it. `room_left` and `room_right` bound
    the width beside it that no other block shares a row in.
    """

    cells: list[_Cell]
    left: float
    right: float
    top: float
    bottom: float
    font_size: float
    highest_baseline: float
    lowest_baseline: float
    room_left: float = -math.inf
    room_right: float = math.inf

    @classmethod
    def starting_with(cls, cell: _Cell) -> _TextBlock:
        first, last = cell.font, cell.last_row
        return cls(
            [cell], cell.left, cell.right, first.top, last.bottom, first.size, first.baseline, last.baseline
        )

    def take(self, cell: _Cell) -> bool:
        """Add `cell` if pdftotext would grow this block by it; say whether it did."""
        first, last, size = cell.font, cell.last_row, self.font_size
        size_delta = abs(first.size - size)
        if self._reaches(first.baseline, last.baseline, _PDFTOTEXT_SAME_ROW * size):
            reach = _PDFTOTEXT_ROW_REACH * size
            fits = size_delta < _PDFTOTEXT_ROW_SIZE_DELTA * size
        else:
            reach = 0.0
            near = self._reaches(first.baseline, last.baseline, _PDFTOTEXT_LINE_SPACING * size)
            fits = near and size_delta < _PDFTOTEXT_BLOCK_SIZE_DELTA * size
        if not (fits and cell.left < self.right + reach and cell.right > self.left - reach):
            return False
        self.cells.append(cell)
        self.left, self.right = min(self.left, cell.left), max(self.right, cell.right)
        self.top, self.bottom = max(self.top, first.top), min(self.bottom, last.bottom)
        self.highest_baseline = max(self.highest_baseline, first.baseline)
        self.lowest_baseline = min(self.lowest_baseline, last.baseline)
        return True

    def narrow_room(self, other: _TextBlock) -> None:
        """Keep the room beside this block clear of `other` where the two share a row."""
        if other.bottom < self.top and other.top > self.bottom:
            if other.left < self.left:
                self.room_left = max(self.room_left, min(other.right, self.left))
            if other.right > self.right:
                self.room_right = min(self.room_right, max(other.left, self.right))

    def continues_flow(self, previous: _TextBlock, first: _TextBlock) -> bool:
        """Whether pdftotext reads this block on in the flow of `previous`, which `first` began."""
        return (
            previous.bottom - self.top <= _PDFTOTEXT_BLOCK_SPACING * previous.font_size
            and self.top < previous.top
            and self.font_size <= previous.font_size
            and previous.room_left <= self.left
            and self.right <= previous.room_right
            and first.room_left <= self.left
            and self.right <= first.room_right
        )

    def _reaches(self, highest: float, lowest: float, distance: float) -> bool:
        """Whether rows with baselines from `highest` down to `lowest` come within `distance` of ours."""
        return highest >= self.lowest_baseline - distance and lowest <= self.highest_baseline + distance


def _text_blocks(cells: list[_Cell]) -> list[_TextBlock]:
    """Group cells into blocks as pdftotext does: start at the top, grow while anything fits."""
    pending = sorted(cells, key=lambda cell: -cell.font.baseline)
    blocks: list[_TextBlock] = []
    while pending:
        seed = _seed(pending)
        pending.remove(seed)
        block = _TextBlock.starting_with(seed)
        grown = True
        while grown:
            count = len(pending)
            pending = [cell for cell in pending if not block.take(cell)]
            grown = len(pending) < count
        block.cells.sort(key=lambda cell: (-cell.font.baseline, cell.left))
        blocks.append(block)
    for block in blocks:
        for other in blocks:
            if other is not block:
                block.narrow_room(other)
    return blocks


def _seed(pending: list[_Cell]) -> _Cell:
    """The leftmost cell of the top few baseline buckets, so that a block rarely starts at a superscript."""
    top = _bucket(pending[0])
    return min(
        (cell for cell in pending if _bucket(cell) < top + _PDFTOTEXT_SEED_BUCKETS),
        key=lambda cell: cell.left,
    )


def _bucket(cell: _Cell) -> int:
    return math.floor(-cell.font.baseline / _PDFTOTEXT_BASELINE_BUCKET)


def _reading_order(blocks: list[_TextBlock]) -> list[_TextBlock]:
    """Top to bottom; blocks that share a row (overlap vertically), directly or through a taller
    block beside them, are read column by column."""
    ordered: list[_TextBlock] = []
    row: list[_TextBlock] = []
    for block in sorted(blocks, key=lambda block: -block.top):
        if row and not any(_share_row(other, block) for other in row):
            ordered += _column_by_column(row)
            row = []
        row.append(block)
    return ordered + _column_by_column(row)


@dataclass(slots=True)
class _Column:
    left: float
    right: float
    blocks: list[_TextBlock]


def _column_by_column(row: list[_TextBlock]) -> list[_TextBlock]:
    """The blocks of one row, column by column from the left, each column top down."""
    columns: list[_Column] = []
    for block in sorted(row, key=lambda block: block.left):
        column = next(
            (column for column in columns if block.left < column.right and block.right > column.left), None
        )
        if column is None:
            columns.append(_Column(block.left, block.right, [block]))
        else:
            column.left, column.right = min(block.left, column.left), max(block.right, column.right)
            column.blocks.append(block)
    return [block for column in columns for block in sorted(column.blocks, key=lambda block: -block.top)]


def _share_row(anchor: _TextBlock, block: _TextBlock) -> bool:
    """Whether two blocks overlap vertically by half the height of the shorter one, or more."""
    overlap = min(anchor.top, block.top) - max(anchor.bottom, block.bottom)
    return overlap >= _SAME_ROW_OVERLAP * min(anchor.top - anchor.bottom, block.top - block.bottom)


def _flows(blocks: list[_TextBlock]) -> list[list[_TextBlock]]:
    """Group blocks, in reading order, into pdftotext's flows: the runs of text it ends with an empty line."""
    flows: list[list[_TextBlock]] = []
    for block in blocks:
        if flows and block.continues_flow(flows[-1][-1], flows[-1][0]):
            flows[-1].append(block)
        else:
            flows.append([block])
    return flows
