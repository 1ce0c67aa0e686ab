"""The custom attributes this package writes on spaCy objects, registered in one place.

Span attributes of a finding (`span._.kind` ...) are set by `ofsted_findings`; the classifier adds
themes and polarity. Values live in `doc.user_data`, so they travel with `DocBin` and `Doc.to_bytes`.
"""

from __future__ import annotations

from collections.abc import Iterable

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
# (2 ms a report), and the sentence splitter, the classifier and `label`'s rows each need it.
TEXT_KEY = "ofsted.text"


def doc_text(doc: Doc) -> str:
    """`doc.text`, from `doc.user_data[TEXT_KEY]` when it is there and still spans the Doc."""
    text = doc.user_data.get(TEXT_KEY)
    if text is not None and len(doc) and doc[-1].idx + len(doc[-1].text_with_ws) == len(text):
        return text
    return doc.text


def span_texts(doc: Doc, spans: Iterable[Span]) -> list[str]:
    """The texts of `spans`, sliced from `doc`'s text (`Span.text` joins its tokens one by one:
    reading every finding's `span.text` was a tenth of `label`'s time in a profile)."""
    text = doc_text(doc)
    return [text[span.start_char : span.end_char] for span in spans]
