"""The custom attributes this package writes on spaCy objects, registered in one place.

Span attributes of a finding (`span._.kind` ...) are set by `ofsted_findings`; the classifier adds
themes and polarity. Values live in `doc.user_data`, so they travel with `DocBin` and `Doc.to_bytes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from spacy.tokens import Doc, Span

FINDING_ATTRIBUTES = (
    "index",
    "number",
    "kind",
    "section",
    "area",
    "page_start",
    "page_end",
    "char_start",
    "char_end",
)
LABEL_ATTRIBUTES = ("themes", "polarity", "theme_polarity", "scores", "evidence")
DOC_ATTRIBUTES = ("report",)


def register_extensions() -> None:
    """Register the attributes once per process (components call this when they are made)."""
    for name in FINDING_ATTRIBUTES + LABEL_ATTRIBUTES:
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)
    for name in DOC_ATTRIBUTES:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)


# `doc.user_data` key of the Doc's text, set by the report tokenizer: `Doc.text` joins every token
# (2 ms a report), and the sentence splitter, the classifier and `label`'s rows each need it. It is
# defined here, not beside the tokenizer's other keys, because readers of it import this module.
TEXT_KEY = "ofsted.text"
# Tokens compared with a stored text before it is trusted (first, last and spread between).
_CHECKED_TOKENS = 16


def doc_text(doc: Doc) -> str:
    """`doc.text`, from `doc.user_data[TEXT_KEY]` when that text spans the Doc and holds its tokens.

    user_data travels with a Doc's copies and serialisations, whose text is the same, but a caller
    could hand one Doc's user_data to another: the stored text is used only if it is as long as the
    Doc's and has the Doc's tokens at their offsets (a sample of them: the check stays cheap).
    """
    text = doc.user_data.get(TEXT_KEY)
    if text is None or not len(doc) or doc[-1].idx + len(doc[-1].text_with_ws) != len(text):
        return doc.text
    checked = np.unique(np.linspace(0, len(doc) - 1, _CHECKED_TOKENS).astype(int))
    if all(text.startswith(doc[int(i)].text, doc[int(i)].idx) for i in checked):
        return text
    return doc.text


def span_texts(doc: Doc, spans: Iterable[Span]) -> list[str]:
    """The texts of `spans`, sliced from `doc`'s text (`Span.text` joins its tokens one by one:
    reading every finding's `span.text` was a tenth of `label`'s time in a profile)."""
    text = doc_text(doc)
    return [text[span.start_char : span.end_char] for span in spans]


def spans_with_texts(doc: Doc, spans: Iterable[Span]) -> Iterator[tuple[Span, str]]:
    """Each of `spans` with its text (see `span_texts`)."""
    spans = list(spans)
    return zip(spans, span_texts(doc, spans))
