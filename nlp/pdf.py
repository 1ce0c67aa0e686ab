"""Text of a report PDF, shaped like poppler's `pdftotext` output, with paragraphs rebuilt from layout.

The downstream text parser was written against `pdftotext` (default mode): pages in order, each
followed by a form feed, one visual line per line, and a blank line after each block of text. This
module gives the same shape from pypdfium2, so no poppler install is needed, and goes one step
further: pdftotext often runs paragraphs together (it keeps a block of evenly sized text as one
block), so here a paragraph also ends at

* a vertical gap clearly larger than the spacing of the lines around it,
* a change of indentation (outdent to a new item, or a first-line indent), other than the hanging
  indent of a numbered or bulleted paragraph,
* a line that ends a sentence while the first word of the next line would still have fitted on it,
  which only happens where the writer broke the line on purpose.

Geometry comes from pdfium's per-character "loose" boxes (the font's full height, so every glyph on
a line has the same box height whatever its shape), read in pdfium's content order. Lines that sit
side by side with a wide gap (a grade beside its judgement, a page number beside a running footer)
are separate pieces of text, ordered top to bottom and then left to right, as pdftotext does.

pdfium is not thread-safe: each call opens, reads and closes its own document, and nothing is shared
between calls.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from nlp.errors import CorruptPdfError, EmptyReportError, EncryptedPdfError, NoTextLayerError

__all__ = ["extract_pdf_text"]

PAGE_BREAK = "\f"

# pdfium replaces the hyphen at a hyphenated line end with one of these and joins the two lines;
# pdftotext does the same join and drops the hyphen, so the downstream parser expects "childcentred".
_HYPHENATION_MARKS = frozenset({"\x02", "\ufffe", "\u00ad"})

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
_SIZE_TOLERANCE = 0.25  # relative height difference tolerated inside one block

# A document whose pages carry fewer visible characters than this, on average, is taken as scanned.
_MIN_CHARS_PER_PAGE = 10


def extract_pdf_text(source: str | os.PathLike[str] | bytes) -> str:
    """Return the text of a PDF report in `pdftotext` shape, with paragraph breaks from the layout.

    Pages come in order, each followed by a form feed, so page k is `text.split("\\f")[k - 1]`.
    Each visual line is one line of text, paragraphs are separated by one empty line.

    Raises:
        EmptyReportError: the file or byte string is empty.
        EncryptedPdfError: the PDF needs a password to open.
        CorruptPdfError: the data is not a PDF pdfium can open.
        NoTextLayerError: the PDF has pages but (almost) no text, as when it is scanned.
    """
    path = None if isinstance(source, bytes) else Path(source)
    data = source if isinstance(source, bytes) else path.read_bytes()
    if not data.strip():
        raise EmptyReportError(path)
    document = _open_document(data, path)
    try:
        pages = [_page_text(document[index]) for index in range(len(document))]
    finally:
        document.close()
    if sum(len("".join(page.split())) for page in pages) < _MIN_CHARS_PER_PAGE * len(pages):
        raise NoTextLayerError(path)
    return "".join(page + PAGE_BREAK for page in pages)


def _open_document(data: bytes, path: Path | None) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        # Only a PDF that cannot be opened without a password is refused: one with an owner password
        # alone (printing or copying restricted) opens and reads like any other, as in pdftotext.
        if error.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedPdfError(path) from error
        raise CorruptPdfError(path, str(error)) from error


@dataclass(slots=True)
class _Line:
    """A run of text on one row, with no wide gap inside; its box is in PDF points, y upwards."""

    left: float
    bottom: float
    right: float
    top: float
    size: float  # the tallest glyph box: the font size of the line's main text, give or take
    parts: list[str] = field(default_factory=list)
    first_word_right: float | None = None  # where the first word ends, once it has
    second_word_left: float | None = None  # where the second word starts: a hanging indent's edge
    _glyph_right: float = 0.0  # right edge of the last glyph added
    _word_pending: bool = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add_glyph(self, char: str, left: float, bottom: float, right: float, top: float) -> None:
        if self._word_pending or self._is_word_gap(left - self._glyph_right):
            self._start_word(left)
        self.parts.append(char)
        self.left, self.right = min(self.left, left), max(self.right, right)
        self.bottom, self.top = min(self.bottom, bottom), max(self.top, top)
        self.size = max(self.size, top - bottom)
        self._glyph_right = right

    def _is_word_gap(self, gap: float) -> bool:
        # A two-digit paragraph number can all but touch its text ("10.There"), so after a
        # list marker any visible gap is a word break.
        return gap > _WORD_GAP * self.size or (
            gap > 0 and self.first_word_right is None and _is_marker(self.text) and not self.text[-1].isdigit()
        )

    def break_word(self) -> None:
        self._word_pending = True

    def _start_word(self, left: float) -> None:
        if self.first_word_right is None:
            self.first_word_right = self._glyph_right
            self.second_word_left = left
        self.parts.append(" ")
        self._word_pending = False


def _page_text(page: pdfium.PdfPage) -> str:
    try:
        textpage = page.get_textpage()
        try:
            lines = _read_lines(textpage)
        finally:
            textpage.close()
    finally:
        page.close()
    paragraphs = [paragraph for block in _ordered_blocks(lines) for paragraph in _paragraphs(block)]
    return "".join("\n".join(line.text for line in paragraph) + "\n\n" for paragraph in paragraphs)


def _read_lines(textpage: pdfium.PdfTextPage) -> list[_Line]:
    """Cut pdfium's characters, in content order, into lines at row changes and wide gaps."""
    lines: list[_Line] = []
    line: _Line | None = None
    joining_hyphenated = False
    for index in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage, index))
        if char in _HYPHENATION_MARKS:
            joining_hyphenated = line is not None
            continue
        if char in "\r\n":
            if not joining_hyphenated:
                line = None
            continue
        left, bottom, right, top = textpage.get_charbox(index, loose=True)
        if char.isspace() or right <= left or top <= bottom:
            if line is not None:
                line.break_word()
            continue
        if line is not None and not joining_hyphenated:
            line = _continue_line(line, left, bottom, right, top)
        if line is None:
            line = _Line(left, bottom, right, top, top - bottom, _glyph_right=left)
            lines.append(line)
        line.add_glyph(char, left, bottom, right, top)
        joining_hyphenated = False
    for line in lines:
        line.parts = [" ".join(line.text.split())]
    return [line for line in lines if line.parts[0]]


def _continue_line(line: _Line, left: float, bottom: float, right: float, top: float) -> _Line | None:
    """Return the line a glyph continues, or None when it starts a new one."""
    height = max(line.size, top - bottom)
    overlap = min(line.top, top) - max(line.bottom, bottom)
    if overlap < _SAME_ROW_OVERLAP * min(line.size, top - bottom):
        return None
    gap = left - line._glyph_right
    if gap < -_SAME_ROW_OVERLAP * height:
        return None
    if gap > _COLUMN_GAP * height:
        # A list marker keeps its paragraph on its line even across a wide hanging-indent gap.
        if not _is_marker(line.text):
            return None
        line.break_word()
    return line


def _is_marker(text: str) -> bool:
    return _is_bullet(text) or bool(_NUMBER_MARKER.fullmatch(text))


def _is_bullet(text: str) -> bool:
    return len(text) == 1 and (text in _BULLETS or "\ue000" <= text <= "\uf8ff")


def _ordered_blocks(lines: list[_Line]) -> list[list[_Line]]:
    """Group lines into blocks of closely spaced, overlapping lines; order them as they are read."""
    blocks: list[list[_Line]] = []
    for line in sorted(lines, key=lambda line: (-line.top, line.left)):
        block = _block_above(blocks, line)
        if block is None:
            blocks.append([line])
        else:
            block.append(line)
    return _reading_order(blocks)


def _block_above(blocks: list[list[_Line]], line: _Line) -> list[_Line] | None:
    best, best_gap = None, None
    for block in blocks:
        last = block[-1]
        gap = last.bottom - line.top
        size = max(last.size, line.size)
        if not -_SAME_ROW_OVERLAP * size < gap <= _LINE_GAP * size:
            continue
        if abs(last.size - line.size) > _SIZE_TOLERANCE * size:
            continue
        if line.left >= last.right or line.right <= last.left:
            continue
        if best_gap is None or gap < best_gap:
            best, best_gap = block, gap
    return best


def _reading_order(blocks: list[list[_Line]]) -> list[list[_Line]]:
    """Top to bottom; blocks whose first lines share a row go left to right."""
    ordered: list[list[_Line]] = []
    row: list[list[_Line]] = []
    for block in sorted(blocks, key=lambda block: -block[0].top):
        if row and row[0][0].top - block[0].top > _SAME_ROW_OVERLAP * row[0][0].size:
            ordered += sorted(row, key=lambda block: block[0].left)
            row = []
        row.append(block)
    return ordered + sorted(row, key=lambda block: block[0].left)


def _paragraphs(block: list[_Line]) -> list[list[_Line]]:
    usual_gap = min((above.bottom - below.top for above, below in zip(block, block[1:])), default=0.0)
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
    first_word_width = (line.first_word_right or line.right) - line.left
    space_width = _WORD_GAP * 2 * line.size
    return above.right + space_width + first_word_width < right_edge
