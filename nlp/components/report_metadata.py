"""`ofsted_report_metadata_v1`: the report's own metadata on `doc._.report`.

Local authority, framework, inspection and publication dates, and the graded judgements of the
report's grade table, parsed from the original text (`nlp.metadata`). `report_id` and `source` are
left for the caller, who knows the file (see `nlp.pipeline.segment_report`).
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from ..extensions import register_extensions
from ..metadata import parse_report_metadata
from .report_tokenizer import SOURCE_KEY


class ReportMetadataReader:
    """Writes `doc._.report` (a JSON-ready dict) from the Doc's original text."""

    def __init__(self, name: str = "report_metadata") -> None:
        self.name = name
        register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        source = doc.user_data.get(SOURCE_KEY)
        if source is None:  # a Doc made by another tokenizer: its text is all there is
            source = doc.text
        report = dict(doc._.report or {})
        report.update(parse_report_metadata(source).to_dict())
        doc._.report = report
        return doc


@Language.factory("ofsted_report_metadata_v1", assigns=["doc._.report"])
def make_report_metadata_reader(nlp: Language, name: str) -> ReportMetadataReader:
    return ReportMetadataReader(name)
