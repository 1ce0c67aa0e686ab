"""Building the report pipeline and running it on report files.

    >>> from nlp.pipeline import make_segmenter, segment_report
    >>> doc = segment_report("report.pdf")            # doctest: +SKIP
    >>> [(f._.number, f._.kind, f._.area) for f in doc.spans["findings"]][:2]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Iterable, Iterator

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from . import components  # noqa: F401  (registers the factories and the tokenizer)
from .components.findings import DEFAULT_FINDINGS_KEY
from .extensions import spans_with_texts
from .ingest import ReportText, read_report

TOKENIZER_CONFIG = {"nlp": {"tokenizer": {"@tokenizers": "ofsted.report_tokenizer.v1"}}}
SEGMENT_FIELDS = (
    "report_id",
    "index",
    "number",
    "kind",
    "section",
    "area",
    "page_start",
    "page_end",
    "char_start",
    "char_end",
    "text",
)


def make_segmenter() -> Language:
    """A blank English pipeline that reads whole reports: layout tokenizer, metadata, findings, sentences."""
    nlp = spacy.blank("en", config=TOKENIZER_CONFIG)
    nlp.add_pipe("ofsted_report_metadata_v1", name="report_metadata")
    nlp.add_pipe("ofsted_findings_v1", name="findings")
    nlp.add_pipe("ofsted_sentences_v1", name="sentences")
    return nlp


def _attach_source(doc: Doc, report: ReportText) -> Doc:
    doc._.report = {
        "report_id": report.report_id,
        "source": str(report.source) if report.source else None,
        "source_format": report.source_format,
        **(doc._.report or {}),
    }
    return doc


def segment_report(path: str | os.PathLike, nlp: Language | None = None) -> Doc:
    """Read one report file and run the pipeline on it.

    path (str | PathLike): a .pdf or a text file.
    nlp (Language | None): a pipeline made by `make_segmenter` or a loaded model; default: a new segmenter.
    RETURNS (Doc): findings in `doc.spans["findings"]`, metadata in `doc._.report`.
    RAISES (ReportInputError): when the file cannot be read as a report.
    """
    nlp = nlp or make_segmenter()
    report = read_report(path)
    return _attach_source(nlp(report.text), report)


def segment_reports(reports: Iterable[ReportText], nlp: Language, batch_size: int = 4) -> Iterator[Doc]:
    """Run the pipeline over reports already read, streaming; report ids stay attached."""
    texts = ((report.text, report) for report in reports)
    for doc, report in nlp.pipe(texts, as_tuples=True, batch_size=batch_size):
        yield _attach_source(doc, report)


def finding_records(doc: Doc, spans_key: str = DEFAULT_FINDINGS_KEY) -> list[dict]:
    """One record per finding in the `segment` output contract (see `SEGMENT_FIELDS`)."""
    report_id = (doc._.report or {}).get("report_id")
    return [
        {
            "report_id": report_id,
            **{name: getattr(span._, name) for name in SEGMENT_FIELDS[1:-1]},
            "text": text,
        }
        for span, text in spans_with_texts(doc, doc.spans[spans_key])
    ]
