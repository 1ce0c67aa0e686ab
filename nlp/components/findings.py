"""`ofsted_findings_v1`: the report's findings as a span group, each placed in its report.

Reads the layout that `ofsted.report_tokenizer.v1` left on the Doc and writes one span per
paragraph to `doc.spans[spans_key]`, in reading order, with `span._.index`, `number`, `kind`,
`section`, `area`, `page_start`, `page_end`, `char_start` and `char_end` (offsets into the original
text). Section headings go to `doc.spans[headings_key]`; they are never part of a finding.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..extensions import FINDING_ATTRIBUTES, register_extensions
from ..layout import Block
from .report_tokenizer import LAYOUT_KEY

DEFAULT_FINDINGS_KEY = "findings"
DEFAULT_HEADINGS_KEY = "headings"


class FindingSegmenter:
    """Turns layout blocks into finding spans.

    name (str): component name.
    spans_key (str): span group for findings.
    headings_key (str): span group for section headings.
    """

    def __init__(self, name: str = "findings", *, spans_key: str, headings_key: str) -> None:
        self.name = name
        self.spans_key = spans_key
        self.headings_key = headings_key
        register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        layout = doc.user_data.get(LAYOUT_KEY)
        if layout is None:
            raise ValueError(
                f"[{self.name}] the Doc has no report layout: make Docs with the `ofsted.report_tokenizer.v1` "
                "tokenizer (the pipeline's own `nlp(text)`), not with another tokenizer."
            )
        findings: list[Span] = []
        headings: list[Span] = []
        has_pages = layout["has_pages"]
        for data in layout["blocks"]:
            block = Block.from_dict(data)
            span = doc.char_span(block.start, block.end, alignment_mode="expand")
            if span is None or not len(span):
                continue
            if block.role == "heading":
                headings.append(span)
                continue
            attributes = span._  # spaCy makes a new accessor object on every `span._`
            attributes.index = len(findings)
            attributes.number = block.number
            attributes.kind = block.kind
            attributes.section = block.section
            attributes.area = block.area
            attributes.page_start = block.page_start if has_pages else None
            attributes.page_end = block.page_end if has_pages else None
            attributes.char_start = block.char_start
            attributes.char_end = block.char_end
            findings.append(span)
        doc.spans[self.spans_key] = findings
        doc.spans[self.headings_key] = headings
        return doc


@Language.factory(
    "ofsted_findings_v1",
    assigns=["doc.spans", *(f"span._.{name}" for name in FINDING_ATTRIBUTES)],
    default_config={"spans_key": DEFAULT_FINDINGS_KEY, "headings_key": DEFAULT_HEADINGS_KEY},
)
def make_finding_segmenter(nlp: Language, name: str, spans_key: str, headings_key: str) -> FindingSegmenter:
    return FindingSegmenter(name, spans_key=spans_key, headings_key=headings_key)
