"""The custom attributes this package writes on spaCy objects, registered in one place.

Span attributes of a finding (`span._.kind` ...) are set by `ofsted_findings`; the classifier adds
themes and polarity. Values live in `doc.user_data`, so they travel with `DocBin` and `Doc.to_bytes`.
"""

from __future__ import annotations

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
