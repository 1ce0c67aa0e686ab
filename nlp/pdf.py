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
import itertools
import math
import os
import re
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
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
_HYPHENATION_MARKS = (0x0002, 0xFFFE)

_WHITESPACE = re.compile(r"\s")

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
    """Cut pdfium's characters, in content order, into lines at row changes and wide gaps, and the
    lines into words."""
    glyphs = _read_glyphs(textpage, rotation)
    if not glyphs.text:
        return []
    cuts = _cut_lines(glyphs)
    count = len(glyphs.text)
    starts = np.flatnonzero(cuts.line_start)
    word_starts = np.flatnonzero(cuts.word_start)
    word_ends = np.append(word_starts[1:], count)
    words = list(
        map(
            _Word,
            [glyphs.text[start:end] for start, end in zip(word_starts.tolist(), word_ends.tolist())],
            glyphs.left[word_starts].tolist(),
            glyphs.right[word_ends - 1].tolist(),
        )
    )
    # pdfium joined these lines to the text after them at a hyphen, and that text is elsewhere (a
    # footnote below the last line of the page): pdftotext keeps such a hyphen.
    hyphen_kept = np.append(glyphs.hyphen_before[starts[1:]], glyphs.hyphen_at_end)
    for word in (np.append(np.searchsorted(word_starts, starts[1:]), len(words)) - 1)[hyphen_kept].tolist():
        words[word] = words[word]._replace(text=words[word].text + "-")
    fonts = [_font_box(textpage, index, rotation) for index in glyphs.char_index[starts].tolist()]
    # A line that goes on below a hyphenated line end is measured by pdftotext on its last row too.
    last_rows = fonts.copy()
    row_starts = np.flatnonzero(cuts.row_start)
    for line, index in zip(
        (np.searchsorted(starts, row_starts, side="right") - 1).tolist(), glyphs.char_index[row_starts].tolist()
    ):
        last_rows[line] = _font_box(textpage, index, rotation)
    bounds = zip(
        np.minimum.reduceat(glyphs.left, starts).tolist(),
        np.minimum.reduceat(glyphs.bottom, starts).tolist(),
        np.maximum.reduceat(glyphs.right, starts).tolist(),
        np.maximum.reduceat(glyphs.top, starts).tolist(),
        np.maximum.reduceat(glyphs.top - glyphs.bottom, starts).tolist(),
    )
    word_bounds = np.append(np.searchsorted(word_starts, starts), len(words)).tolist()
    return [
        _LineDraft(left, bottom, right, top, size, font, last_row, words[first:last])
        for (left, bottom, right, top, size), font, last_row, first, last in zip(
            bounds, fonts, last_rows, word_bounds, word_bounds[1:]
        )
    ]


@dataclass(slots=True, frozen=True, eq=False)
class _Glyphs:
    """A page's visible characters in pdfium's content order, with what pdfium put between each and
    the one before: spaces, line ends and hyphenation marks, which are not glyphs themselves."""

    text: str  # glyph k is text[k]
    char_index: np.ndarray  # each glyph's index among pdfium's characters
    left: np.ndarray  # its loose box, upright, in points
    bottom: np.ndarray
    right: np.ndarray
    top: np.ndarray
    space_before: np.ndarray  # whitespace or a glyph with an empty box since the glyph before: a word break
    line_end_before: np.ndarray  # pdfium ended its line since the glyph before (always, for the first)
    hyphen_before: np.ndarray  # a hyphenated line end since the glyph before: the line may go on below
    hyphen_at_end: bool  # the page ends in a hyphenated line end


def _read_glyphs(textpage: pdfium.PdfTextPage, rotation: int) -> _Glyphs:
    chars = _page_characters(textpage)
    codes = _code_points(chars)
    # re's \s is exactly str.isspace, and the substitution keeps one code point per character.
    space = _code_points(_WHITESPACE.sub(" ", chars)) == ord(" ")
    mark = np.isin(codes, _HYPHENATION_MARKS)
    line_end = (codes == ord("\r")) | (codes == ord("\n"))
    drawn = np.flatnonzero(~space & ~mark)
    left, bottom, right, top = _loose_boxes(textpage, drawn, rotation)
    visible = ~((right <= left) | (top <= bottom))
    breaks = space & ~line_end
    breaks[drawn[~visible]] = True
    index = drawn[visible]
    # What lies between each glyph and the glyph before (for the first: the page start). A line end
    # ends the line unless a hyphenation mark came before it: pdfium joined the two lines there.
    after = np.append(-1, index)
    before = np.append(index, len(chars))
    first_line_end = _first_after(np.flatnonzero(line_end), after)
    first_mark = _first_after(np.flatnonzero(mark), after)
    line_goes_on = (first_line_end > before) | (first_mark < first_line_end)
    hyphen = (first_mark < before) & line_goes_on
    breaks_so_far = np.cumsum(breaks)
    return _Glyphs(
        text=codes[index].tobytes().decode("utf-32-le", "surrogatepass"),
        char_index=index,
        left=left[visible],
        bottom=bottom[visible],
        right=right[visible],
        top=top[visible],
        space_before=np.diff(breaks_so_far[index], prepend=0) > 0,
        line_end_before=~line_goes_on[:-1] | (np.arange(len(index)) == 0),
        hyphen_before=hyphen[:-1],
        hyphen_at_end=bool(index.size and hyphen[-1]),
    )


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _first_after(positions: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The first of the sorted `positions` beyond each of `after`, or infinity."""
    beyond = np.append(positions, np.iinfo(np.int64).max)
    return beyond[np.searchsorted(positions, after, side="right")]


def _page_characters(textpage: pdfium.PdfTextPage) -> str:
    """The page's characters, one per pdfium character index, read in one call.

    FPDFText_GetText gives one UTF-16 unit per character; a page with characters beyond the Basic
    Multilingual Plane (surrogate pairs) is read character by character instead.
    """
    count = textpage.count_chars()
    units = np.zeros(count + 1, dtype=np.uint16)
    pdfium_c.FPDFText_GetText(textpage, 0, count, units.ctypes.data_as(ctypes.POINTER(ctypes.c_ushort)))
    units = units[:count]
    if ((units >= 0xD800) & (units <= 0xDFFF)).any():
        return "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, index)) for index in range(count))
    return units.tobytes().decode("utf-16-le")


def _loose_boxes(
    textpage: pdfium.PdfTextPage, indices: np.ndarray, rotation: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Left, bottom, right and top of the loose boxes of the characters at `indices`, upright.

    pdfium has one box per call: each call writes straight into a row of one array, through a
    prototype that takes plain addresses, so that no Python object is made per character.
    """
    boxes = np.empty((len(indices), 4), dtype=np.float32)  # rows of FS_RECTF: left, top, right, bottom
    handle = ctypes.cast(textpage.raw, ctypes.c_void_p).value
    found = list(
        map(
            _GET_LOOSE_CHAR_BOX,
            itertools.repeat(handle, len(indices)),
            indices.tolist(),
            range(boxes.ctypes.data, boxes.ctypes.data + boxes.nbytes, boxes.itemsize * 4),
        )
    )
    if not all(found):
        raise pdfium.PdfiumError(f"pdfium gave no box for character {indices[found.index(0)]}")
    left, top, right, bottom = boxes.astype(np.float64).T
    return _upright((left, bottom, right, top), rotation)


_GET_LOOSE_CHAR_BOX = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)(
    ctypes.cast(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_void_p).value
)


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
    baseline = _upright((x.value, y.value, x.value, y.value), rotation)[1]
    size = pdfium_c.FPDFText_GetFontSize(textpage, index)
    font = pdfium_c.FPDFTextObj_GetFont(pdfium_c.FPDFText_GetTextObject(textpage, index))
    ascent, descent = ctypes.c_float(), ctypes.c_float()
    if not (
        pdfium_c.FPDFFont_GetAscent(font, size, ascent) and pdfium_c.FPDFFont_GetDescent(font, size, descent)
    ):
        # poppler's own figures for text drawn without a usable font
        ascent.value, descent.value = 0.95 * size, -0.35 * size
    return _FontBox(size, baseline, baseline + ascent.value, baseline + descent.value)


def _upright(box: _Box, rotation: int) -> _Box:
    """A box in the frame of the page as displayed, for a page with a /Rotate entry (its
    coordinates may be floats or arrays of them, for many boxes at once).

    Only distances between boxes matter here, so the frame's origin is left wherever it falls.
    """
    left, bottom, right, top = box
    if rotation == 90:
        return bottom, -right, top, -left
    if rotation == 180:
        return -right, -top, -left, -bottom
    if rotation == 270:
        return -top, left, -bottom, right
    return box


@dataclass(slots=True, frozen=True, eq=False)
class _Cuts:
    """Where a page's lines, words and (in lines that go on after a hyphen) rows start, per glyph."""

    line_start: np.ndarray
    word_start: np.ndarray  # line starts included
    row_start: np.ndarray


def _cut_lines(glyphs: _Glyphs) -> _Cuts:
    """Cut a page's glyphs into lines and words, each glyph measured against the line so far.

    A glyph goes on the line of the glyph before it unless pdfium ended its line between them, or
    it is off the line's row, or it is set larger and lower right after a lone smaller word (a
    raised note number, cut off so that `_continues_row_of` can decide on it with the font sizes
    and baselines at hand), or it lies beyond a column gap; after a hyphenated line end, it also goes
    on the line when it sits on the next row below. The line so far is the extent of its glyphs, so
    every test depends on where the line started. The whole page is tested at once instead of
    glyph by glyph: start from pdfium's own lines, test every glyph against its line so far, start a
    line at the first glyph of each line that fails, and test again until none fails. Each round
    settles at least one more line; a page needs a few.
    """
    left, bottom, right, top = glyphs.left, glyphs.bottom, glyphs.right, glyphs.top
    height = top - bottom
    gap = left - np.append(np.nan, right[:-1])  # to the right end of the glyph before
    # Measures of the line so far: top, bottom, the tallest glyph (about its font size) and left.
    measures = np.stack([top, -bottom, height, -left])
    line_start = glyphs.line_end_before.copy()
    so_far = np.empty_like(measures)
    _measure_lines(measures, so_far, line_start, np.flatnonzero(line_start))
    while True:
        line = np.cumsum(line_start) - 1
        # glyph by glyph, the line before it (meaningless at line starts)
        line_top, line_bottom, line_size, line_left = np.roll(so_far, 1, axis=1) * np.array([[1], [-1], [1], [-1]])
        word_start = _word_starts(glyphs, gap, line_size, line_start, line)
        one_word = _earlier_in_line(word_start, line_start, line) == 0
        overlap = np.minimum(top, line_top) - np.maximum(bottom, line_bottom)
        larger = np.maximum(height, line_size)
        on_row = (
            (overlap >= _SAME_ROW_OVERLAP * np.minimum(height, line_size))
            & ~(one_word & (height - line_size >= _PDFTOTEXT_SIDE_SIZE_DELTA * line_size) & (bottom < line_bottom))
            & (-_SAME_ROW_OVERLAP * larger <= gap)
            & (gap <= _COLUMN_GAP * larger)
        )
        row_below = (
            glyphs.hyphen_before
            & (line_bottom - _LINE_GAP * line_size <= top)
            & (top <= line_bottom + _SAME_ROW_OVERLAP * line_size)
            & (right > line_left)
        )
        failing = np.flatnonzero(~line_start & ~on_row & ~row_below)
        if not failing.size:
            return _Cuts(line_start, word_start | line_start, row_below & ~on_row & ~line_start)
        _, first_in_line = np.unique(line[failing], return_index=True)
        new_starts = failing[first_in_line]
        line_start[new_starts] = True
        _measure_lines(measures, so_far, line_start, new_starts)


def _word_starts(
    glyphs: _Glyphs, gap: np.ndarray, line_size: np.ndarray, line_start: np.ndarray, line: np.ndarray
) -> np.ndarray:
    """Glyphs that start a word within their line: after a space, or a gap of a word space."""
    word_start = ~line_start & (glyphs.space_before | (gap > _WORD_GAP * line_size))
    # A two-digit paragraph number can all but touch its text ("10.There"), so after a list marker
    # any visible gap is a word break.
    could_end_marker = np.isin(_code_points(glyphs.text), (ord("."), ord(")"))) | line_start
    candidates = ~line_start & ~word_start & (gap > 0) & np.append(False, could_end_marker[:-1])
    candidates &= _earlier_in_line(word_start, line_start, line) == 0
    line_starts = np.flatnonzero(line_start)
    marked_lines = set()
    for index, start in zip(np.flatnonzero(candidates).tolist(), line_starts[line[candidates]].tolist()):
        if (
            start not in marked_lines
            and _is_marker(glyphs.text[start:index])
            and not glyphs.text[index - 1].isdigit()
        ):
            word_start[index] = True
            marked_lines.add(start)
    return word_start


def _earlier_in_line(flags: np.ndarray, line_start: np.ndarray, line: np.ndarray) -> np.ndarray:
    """How many glyphs of each glyph's line, after its first and before it, have a flag set."""
    flags = flags & ~line_start
    before = np.cumsum(flags) - flags
    return before - before[np.flatnonzero(line_start)][line]


def _measure_lines(measures: np.ndarray, so_far: np.ndarray, line_start: np.ndarray, starts: np.ndarray) -> None:
    """Set `so_far` to the running maxima of `measures` over the glyphs of each line that begins
    at `starts`, up to and including each glyph.

    Line by line: one call per line, where a maximum restarting at each line over the whole page
    would need the values sorted first, which takes longer on a page of a few dozen lines.
    """
    all_starts = np.flatnonzero(line_start)
    ends = np.append(all_starts, line_start.size)[np.searchsorted(all_starts, starts, side="right")]
    for start, end in zip(starts.tolist(), ends.tolist()):
        np.maximum.accumulate(measures[:, start:end], axis=1, out=so_far[:, start:end])


class _Word(NamedTuple):
    text: str
    left: float
    right: float


@dataclass(slots=True)
class _LineDraft:
    """A run of text on one row with no wide gap inside, as read from pdfium."""

    left: float
    bottom: float
    right: float
    top: float
    size: float  # the tallest glyph box, about the font size of the line's main text
    font: _FontBox  # of the first glyph, as pdftotext takes a block's font size from its first word
    last_row: _FontBox  # of the first glyph on the last row, when a hyphenated word took the line on
    words: list[_Word]

    def absorb(self, other: _LineDraft) -> None:
        """Append a fragment of the same row that pdfium read separately (e.g. a footnote mark)."""
        if other.left - self.right > _WORD_GAP * self.size:
            self.words += other.words
        else:
            last, first = self.words[-1], other.words[0]
            self.words[-1] = _Word(last.text + first.text, last.left, first.right)
            self.words += other.words[1:]
        self.left, self.right = min(self.left, other.left), max(self.right, other.right)
        self.bottom, self.top = min(self.bottom, other.bottom), max(self.top, other.top)
        self.size = max(self.size, other.size)

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
            and _is_marker(words[0].text)
            and words[1].left - words[0].right > _PDFTOTEXT_COLUMN_SPACING * self.font.size
        )

    def _cell(self, words: list[_Word], left: float, right: float) -> _Cell:
        return _Cell(" ".join(word.text for word in words), left, right, self.font, self.last_row)


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
    """Join the fragments of a row that pdfium read separately, then cut each line into its cells.

    From the left, each draft goes on the first line so far whose row it continues, else it is a
    line itself. Which draft continues which is tested for all pairs at once, and again for a line's
    pairs when it takes a fragment (a line rarely does: about one in eighty).
    """
    measures = _RowMeasures.of(drafts)
    continues = _continues_row_of(measures.column(), measures)  # [line, fragment]
    lines_continued: dict[int, set[int]] = {}  # by each draft, the drafts whose row it continues
    for line, fragment in zip(*np.nonzero(continues)):
        lines_continued.setdefault(int(fragment), set()).add(int(line))
    joined: dict[int, int] = {}  # each line, by its draft's index, with its place in reading order
    for index in sorted(range(len(drafts)), key=lambda index: drafts[index].left):
        lines = [line for line in lines_continued.get(index, ()) if line in joined]
        if not lines:
            joined[index] = len(joined)
            continue
        line = min(lines, key=joined.__getitem__)
        drafts[line].absorb(drafts[index])
        for continued in lines_continued.values():
            continued.discard(line)
        for fragment in np.flatnonzero(_continues_row_of(_RowMeasures.of([drafts[line]]), measures)).tolist():
            lines_continued.setdefault(fragment, set()).add(line)
    return [cell for line in joined for cell in drafts[line].cells()]


class _RowMeasures(NamedTuple):
    """Measures of lines (arrays, one value per line) that tell whether one continues another's row."""

    left: np.ndarray
    bottom: np.ndarray
    right: np.ndarray
    top: np.ndarray
    size: np.ndarray
    baseline: np.ndarray
    font_size: np.ndarray

    @classmethod
    def of(cls, drafts: list[_LineDraft]) -> _RowMeasures:
        rows = [
            (draft.left, draft.bottom, draft.right, draft.top, draft.size, draft.font.baseline, draft.font.size)
            for draft in drafts
        ]
        return cls(*np.array(rows, dtype=np.float64).reshape(-1, len(cls._fields)).T)

    def column(self) -> _RowMeasures:
        """The same measures as a column, to test every line against every other."""
        return _RowMeasures(*(values[:, np.newaxis] for values in self))


def _continues_row_of(line: _RowMeasures, fragment: _RowMeasures) -> np.ndarray:
    """Whether each fragment shares the row of each line, starting at most a column gap to its right.

    Not when the line is a note number set small and raised at the start of the fragment's row:
    pdftotext starts a block at the leftmost text of the top row, here the mark, and the text beside
    it is neither on the mark's row nor of a size close to it, so the mark stays alone.
    """
    gap = fragment.left - line.right
    size = np.maximum(line.size, fragment.size)
    overlap = np.minimum(line.top, fragment.top) - np.maximum(line.bottom, fragment.bottom)
    raised_mark = (line.baseline - fragment.baseline > _PDFTOTEXT_SAME_ROW * line.font_size) & (
        fragment.font_size - line.font_size >= _PDFTOTEXT_SIDE_SIZE_DELTA * line.font_size
    )
    return (
        (overlap >= _SAME_ROW_OVERLAP * np.minimum(line.size, fragment.size))
        & (-_SAME_ROW_OVERLAP * size <= gap)
        & (gap <= _COLUMN_GAP * size)
        & ~raised_mark
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
