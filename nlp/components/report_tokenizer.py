"""`ofsted.report_tokenizer.v1`: a tokenizer for whole reports as extracted from PDF.

A report's extracted text is not yet the text to analyse: page furniture interrupts paragraphs and
line breaks are the PDF's, not the author's. This tokenizer runs layout analysis first
(`nlp.layout`), tokenizes the clean text (headings and paragraphs separated by blank lines) with
the language's standard tokenizer, and keeps the layout on the Doc so that later components can
place each paragraph in its report: `doc.user_data[LAYOUT_KEY]` holds the blocks, with their
offsets into the original text, `doc.user_data[SOURCE_KEY]` the original text itself, and
`doc.user_data[TEXT_KEY]` the clean text (the Doc's, built once; see `nlp.extensions.doc_text`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import registry

from ..extensions import TEXT_KEY
from ..layout import parse_layout
from ..limits import MAX_REPORT_CHARS

LAYOUT_KEY = "ofsted.layout"
SOURCE_KEY = "ofsted.source_text"


class ReportTokenizer:
    """Layout analysis, then standard tokenization of the clean text.

    tokenizer (Tokenizer): the language's own tokenizer, applied to the clean text.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        layout = parse_layout(text)
        doc = self.tokenizer(layout.text)
        doc.user_data[LAYOUT_KEY] = {
            "blocks": [block.to_dict() for block in layout.blocks],
            "has_pages": layout.has_pages,
        }
        doc.user_data[SOURCE_KEY] = text
        doc.user_data[TEXT_KEY] = layout.text
        return doc

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)

    # Serialisation delegates to the wrapped tokenizer: the layout rules are code, not data.
    def to_bytes(self, *, exclude=tuple()) -> bytes:
        return self.tokenizer.to_bytes(exclude=exclude)

    def from_bytes(self, data: bytes, *, exclude=tuple()) -> ReportTokenizer:
        self.tokenizer.from_bytes(data, exclude=exclude)
        return self

    def to_disk(self, path: str | Path, *, exclude=tuple()) -> None:
        self.tokenizer.to_disk(path, exclude=exclude)

    def from_disk(self, path: str | Path, *, exclude=tuple()) -> ReportTokenizer:
        self.tokenizer.from_disk(path, exclude=exclude)
        return self


@registry.tokenizers("ofsted.report_tokenizer.v1")
def create_report_tokenizer() -> Callable[[Language], ReportTokenizer]:
    """Config entry: `[nlp.tokenizer] @tokenizers = "ofsted.report_tokenizer.v1"`.

    A pipeline built with it takes whole reports, so it accepts texts up to the report size limit
    (`nlp.limits.MAX_REPORT_CHARS`) instead of spaCy's default `max_length` of 1,000,000, which is
    there for parsers and NER: report pipelines run neither (see `nlp.limits` for what a long report
    costs). Set here, where the tokenizer is made, so that `spacy.load` of a saved model gets it too.
    """
    make_standard = registry.tokenizers.get("spacy.Tokenizer.v1")()

    def make(nlp: Language) -> ReportTokenizer:
        nlp.max_length = MAX_REPORT_CHARS
        return ReportTokenizer(make_standard(nlp))

    return make
