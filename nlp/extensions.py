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


def span_texts(doc: Doc, spans: Iterable[Span]) -> list[str]:
    """The texts of `spans`, sliced from `doc`'s text. `Span.text` and `Doc.text` each join their
    tokens one by one: reading every finding's `span.text` was a tenth of `label`'s time in a
    profile, so a Doc's text is built once and sliced."""
    text = doc.text
    return [text[span.start_char : span.end_char] for span in spans]
