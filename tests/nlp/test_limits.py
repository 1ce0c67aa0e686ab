"""The size limits of one report: files too large to be a report are refused by name before they are
read, text under the limit is read whole, many reports joined into one file are told apart from one
long report, and the report pipeline accepts every text the limits let through."""

from __future__ import annotations

import tracemalloc

import pytest

from nlp import limits
from nlp.errors import ReportTooLargeError
from nlp.ingest import read_report
from nlp.limits import MAX_CLOSING_NOTICES, MAX_REPORT_CHARS, MAX_TEXT_FILE_BYTES, check_report_size
from tests.nlp.bad_inputs import NEWHAM, STOCKPORT, repeated_report


def report_body() -> str:
    """The Stockport sample without its closing page: text that can be repeated into one long report."""
    text = STOCKPORT.read_text(encoding="utf-8")
    return text[: text.index("The Office for Standards in Education")]


def test_limits_text_file_over_the_limit_is_refused_without_being_read(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes(repeated_report(40 * 2**20))

    tracemalloc.start()
    try:
        with pytest.raises(ReportTooLargeError) as raised:
            read_report(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 2**20, f"{peak / 2**20:.1f} MB allocated: the file was read"
    message = str(raised.value)
    assert message.startswith(f"[too_large] {path}: ")
    assert "40.0 MB, over the limit of 8 MB" in message and "split it into one file per report" in message


def test_limits_text_over_the_character_limit_is_refused(tmp_path):
    body = report_body()
    path = tmp_path / "long.txt"
    path.write_text((body * (MAX_REPORT_CHARS // len(body) + 1))[: MAX_REPORT_CHARS + 1], encoding="utf-8")
    assert path.stat().st_size <= MAX_TEXT_FILE_BYTES  # read, then refused by its length

    with pytest.raises(ReportTooLargeError, match=f"{MAX_REPORT_CHARS + 1:,} characters, over the limit"):
        read_report(path)


def test_limits_a_long_report_under_the_limit_is_read_whole(tmp_path):
    body = report_body()
    text = (body * (1_500_000 // len(body) + 1))[:1_500_000]
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")

    assert read_report(path).text == text


def test_limits_many_reports_joined_into_one_file_are_refused(tmp_path):
    joined = tmp_path / "joined.txt"
    joined.write_bytes(STOCKPORT.read_bytes() * (MAX_CLOSING_NOTICES + 1))

    with pytest.raises(ReportTooLargeError) as raised:
        read_report(joined)

    assert f"it holds {MAX_CLOSING_NOTICES + 1} reports' closing notices" in str(raised.value)
    assert "split it into one file per report" in str(raised.value)


def test_limits_a_report_with_its_addendum_is_not_many_reports(tmp_path):
    # As kingston-upon-hull-2014-sif in the corpus: two closing notices in one file.
    two = tmp_path / "two.txt"
    two.write_bytes(STOCKPORT.read_bytes() * MAX_CLOSING_NOTICES)

    assert len(read_report(two).text) == MAX_CLOSING_NOTICES * len(STOCKPORT.read_text(encoding="utf-8"))


def test_limits_closing_notice_after_a_page_break_counts(tmp_path):
    # pdftotext puts the closing page's form feed right before the notice in 2013 reports.
    notice = "\f© Crown copyright 2013\n"
    with pytest.raises(ReportTooLargeError):
        check_report_size(("A paragraph.\n" + notice) * (MAX_CLOSING_NOTICES + 1))
    check_report_size(("A paragraph.\n" + notice) * MAX_CLOSING_NOTICES)


def test_limits_pdf_with_too_many_pages_is_refused_before_its_pages_are_read(monkeypatch):
    monkeypatch.setattr(limits, "MAX_PDF_PAGES", 12)  # the Newham sample has 13

    with pytest.raises(ReportTooLargeError, match="the PDF has 13 pages, over the limit of 12"):
        read_report(NEWHAM)


def test_limits_pdf_file_over_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "MAX_PDF_FILE_BYTES", NEWHAM.stat().st_size - 1)

    with pytest.raises(ReportTooLargeError, match="the PDF is 0.1 MB, over the limit"):
        read_report(NEWHAM)


def test_limits_report_pipelines_accept_every_text_the_limits_let_through(tiny_pipeline_dir):
    from nlp.classify import load_pipeline
    from nlp.pipeline import make_segmenter

    assert make_segmenter().max_length == MAX_REPORT_CHARS
    assert load_pipeline(str(tiny_pipeline_dir)).max_length == MAX_REPORT_CHARS  # spacy.load of a saved model


@pytest.mark.corpus
def test_limits_every_corpus_report_is_well_within_them(corpus):
    for path in sorted((corpus / "text").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        check_report_size(text, path)
        assert len(text) < MAX_REPORT_CHARS / 10
