"""How much one report file may hold: the size limits, and what tells many reports joined into one
file apart from one long report. The one place both live; `nlp.ingest` and `nlp.pdf` apply them.

A report is labelled whole: its Doc, its layout and the classifier's features are in memory at once.
Measured with the committed model (`python -m training.benchmarks.bench_long_reports`, results in
training/benchmarks/results/long_reports.json), labelling costs about 150 MB above the loaded model
and 9 s of one core per million characters, and grows linearly with the text.

- `MAX_REPORT_CHARS`: 2,000,000 characters, 13 times the longest report of the corpus
  (leeds-2015-sif, an inspection with its LSCB review: 145,878 characters on 58 pages), so that
  joint inspections and reports bundled with their annexes are labelled; a text at the limit takes
  about 20 s and 300 MB above the model (620 MB in all), which two workers on a small machine can
  afford. spaCy's own default (1,000,000) guards pipelines with a parser or NER, which take about
  1 GB per 100,000 characters; the report pipeline runs neither, and its tokenizer sets
  `max_length` to this limit.
- `MAX_TEXT_FILE_BYTES`: no text of `MAX_REPORT_CHARS` characters takes more than 4 bytes a
  character in the encodings `nlp.ingest` reads, so a larger text file is refused before it is read:
  a 40 MB file costs its first 8 kB, not 40 MB (or, decoded, up to 160 MB) per worker.
- `MAX_PDF_PAGES`: 1,000 pages, 17 times the longest report; extraction holds the lines of every
  page (about 0.2 MB a page) until the text is complete.
- `MAX_PDF_FILE_BYTES`: 100 MB, 200 times the largest PDF of the corpus (459 kB); pdfium reads the
  whole file. PDFs of photographs or scanned pages reach tens of MB; they have no text layer anyway.
- `MAX_CLOSING_NOTICES`: every published report closes with one "© Crown copyright YYYY" line: 389
  of the 391 corpus reports have one, and two have two (Peterborough 2015 prints it twice; Kingston
  upon Hull 2014 is the inspection followed by its LSCB review, published apart). A file with more
  is many reports joined together: labelled as one, it would give every finding the first report's
  authority and dates, and the layout stops at the first report's closing page, so the rest would
  be lost.
"""

from __future__ import annotations

import os
import re

from .errors import ReportTooLargeError

MAX_REPORT_CHARS = 2_000_000
MAX_TEXT_FILE_BYTES = 4 * MAX_REPORT_CHARS
MAX_PDF_PAGES = 1_000
MAX_PDF_FILE_BYTES = 100 * 2**20
MAX_CLOSING_NOTICES = 2

_CLOSING_NOTICE = re.compile(r"^\s*(?:©|\(c\))\s*crown copyright\b", re.IGNORECASE | re.MULTILINE)

# What ReportTooLargeError says to do, by what made the file too large.
_SPLIT = "split it into one file per report"
_ONE_REPORT = (
    f"one report is at most a few hundred thousand characters; check that this file is the report, and {_SPLIT}"
)


def check_file_size(size: int, is_pdf: bool, path: str | os.PathLike | None = None) -> None:
    """Refuse a file too large to be one report, before it is read.

    size (int): the file's size in bytes.
    is_pdf (bool): whether it is a PDF (else text).
    RAISES (ReportTooLargeError): the file is over `MAX_PDF_FILE_BYTES` or `MAX_TEXT_FILE_BYTES`.
    """
    limit = MAX_PDF_FILE_BYTES if is_pdf else MAX_TEXT_FILE_BYTES
    if size > limit:
        kind = "PDF" if is_pdf else "text file"
        raise ReportTooLargeError(path, f"the {kind} is {size / 2**20:,.1f} MB, over the limit of {limit / 2**20:,.0f} MB", _ONE_REPORT)


def check_page_count(pages: int, path: str | os.PathLike | None = None) -> None:
    """Refuse a PDF of more than `MAX_PDF_PAGES` pages, before its pages are read."""
    if pages > MAX_PDF_PAGES:
        raise ReportTooLargeError(path, f"the PDF has {pages:,} pages, over the limit of {MAX_PDF_PAGES:,}", _ONE_REPORT)


def check_report_size(text: str, path: str | os.PathLike | None = None) -> None:
    """Refuse a text too long to label as one report, or made of many reports joined together.

    RAISES (ReportTooLargeError): over `MAX_REPORT_CHARS`, or more than `MAX_CLOSING_NOTICES`
        closing notices.
    """
    if len(text) > MAX_REPORT_CHARS:
        raise ReportTooLargeError(
            path, f"its text is {len(text):,} characters, over the limit of {MAX_REPORT_CHARS:,}", _ONE_REPORT
        )
    notices = len(_CLOSING_NOTICE.findall(text))
    if notices > MAX_CLOSING_NOTICES:
        raise ReportTooLargeError(
            path,
            f"it holds {notices} reports' closing notices (© Crown copyright): many reports joined into one file",
            f"{_SPLIT} (each report ends at its copyright line)",
        )
