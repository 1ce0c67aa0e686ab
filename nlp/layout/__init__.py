"""Layout analysis: from a report's extracted text to clean, ordered paragraphs.

The input is what a text extractor gives for a whole report: pdftotext output (pages separated by
form feeds, running headers and footers, page numbers, symbol-font bullets), the text of our own PDF
reader (same shape), or lossy text with no page breaks at all. The output is a `Layout`: a clean
text made of the report's headings and paragraphs, and one `Block` per heading or paragraph carrying
its place in the report (section, judgement area, kind), its printed paragraph number, its pages
and its character offsets in the original text.

It runs in four steps, one module each: lines (`lines`), page furniture out (`furniture`), section
headings and the place in the report they set (`headings`), paragraphs (`paragraphs`). What the
report formats print (headings, grades, bullets, furniture) comes from `nlp.report_formats`.
Everything here is plain Python on strings; the spaCy side lives in `nlp.components`.
"""

from __future__ import annotations

from .blocks import Block, Layout, Piece, assemble
from .furniture import find_furniture, remove_furniture
from .headings import Sections, heading_key, match_heading
from .lines import Line, ends_sentence, split_lines
from .paragraphs import ParagraphReader

__all__ = [
    "Block",
    "Layout",
    "Line",
    "Piece",
    "ends_sentence",
    "find_furniture",
    "heading_key",
    "match_heading",
    "parse_layout",
    "split_lines",
]


def parse_layout(text: str) -> Layout:
    """Read a report's extracted text into a clean text and its ordered heading and paragraph blocks."""
    lines = remove_furniture(split_lines(text))
    blocks = ParagraphReader(text, lines, Sections.for_report(text)).read()
    return assemble(text, blocks, has_pages="\f" in text)
