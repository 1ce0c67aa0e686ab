"""Reading report files: each bad input gets its named error, saying what is wrong and what to do.

Every input is built in code from the bundled samples in examples/reports (the Stockport text in
each encoding, a truncated copy of the Newham PDF), here or in bad_inputs.py (a scanned PDF, an
image, Office documents, random bytes); the encrypted PDF is a committed fixture (fixtures/README.md). Every error must be a `ReportInputError`, the one
class a batch catches to record the file and go on with the next.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from nlp.errors import (
    CorruptPdfError,
    EmptyReportError,
    EncryptedPdfError,
    NotAnInspectionReportError,
    NoTextLayerError,
    ReportInputError,
    ReportTooLargeError,
    TextEncodingError,
    UnreadableFileError,
    UnsupportedFileTypeError,
)
from nlp.ingest import MIN_REPORT_CHARS, check_is_report, decode_text, read_report
from tests.nlp.bad_inputs import (
    NOVEL,
    RECIPE,
    about,
    office_document,
    png_image,
    random_bytes_with_nuls,
    scanned_pdf,
    word_document,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "examples" / "reports"
STOCKPORT = SAMPLES / "stockport-2022-ilacs.txt"
NEWHAM = SAMPLES / "newham-2019-ilacs.pdf"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def report_text() -> str:
    """The Stockport sample as text: UTF-8, LF line endings, curly quotes."""
    return STOCKPORT.read_text(encoding="utf-8")


def assert_named_error(error: ReportInputError, path: Path, code: str, *phrases: str) -> None:
    """A named input error for `path` whose message says what is wrong and what to do."""
    message = str(error)
    assert isinstance(error, ReportInputError)
    assert error.path == path
    assert message.startswith(f"[{code}] {path}: ")
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


# -- good inputs ------------------------------------------------------------------------------------


def test_ingest_reads_the_bundled_text_sample_as_written(report_text):
    report = read_report(STOCKPORT)

    assert report.report_id == "stockport-2022-ilacs"
    assert report.source == STOCKPORT
    assert (report.source_format, report.encoding) == ("text", "utf-8")
    assert report.text == report_text


def test_ingest_reads_the_bundled_pdf_sample_page_by_page():
    report = read_report(NEWHAM)

    assert report.report_id == "newham-2019-ilacs"
    assert report.source == NEWHAM
    assert (report.source_format, report.encoding) == ("pdf", None)
    pages = report.text.split("\f")
    assert len(pages) == 14 and pages[-1] == ""  # 13 pages, each followed by a form feed
    assert pages[0].startswith("London Borough of Newham\nInspection of children’s social care services\n")


def test_ingest_report_id_is_the_file_name_without_its_extension(tmp_path, report_text):
    path = tmp_path / "Trafford 2026 (final).TXT"
    path.write_text(report_text, encoding="utf-8")

    assert read_report(path).report_id == "Trafford 2026 (final)"
    assert read_report(str(path)).report_id == "Trafford 2026 (final)"


def test_ingest_pdf_is_recognised_by_its_content_whatever_its_name(tmp_path):
    misnamed = tmp_path / "newham-2019-ilacs.txt"
    misnamed.write_bytes(NEWHAM.read_bytes())

    report = read_report(misnamed)

    assert report.source_format == "pdf"
    assert report.text == read_report(NEWHAM).text


def test_ingest_windows_1252_text_decodes_and_reads_as_a_report(tmp_path, report_text):
    # "◼" has no Windows-1252 byte; a Windows extractor would have written a bullet instead.
    text = report_text.replace("◼", "•")
    data = text.encode("cp1252")
    assert b"\x92" in data  # the curly apostrophe of "children’s", not valid UTF-8
    path = tmp_path / "stockport-2022-ilacs.txt"
    path.write_bytes(data)

    report = read_report(path)

    assert report.encoding == "cp1252"
    assert report.text == text
    assert "children’s services" in report.text


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr-only"])
def test_ingest_utf8_with_bom_and_windows_line_endings_reads_like_plain_utf8(tmp_path, report_text, newline):
    path = tmp_path / "stockport.txt"
    path.write_bytes(b"\xef\xbb\xbf" + report_text.replace("\n", newline).encode("utf-8"))

    report = read_report(path)

    assert report.encoding == "utf-8"
    assert report.text == report_text  # no BOM, no carriage returns


def test_ingest_utf16_with_bom_decodes(tmp_path, report_text):
    path = tmp_path / "stockport.txt"
    path.write_bytes(report_text.encode("utf-16"))  # with BOM

    report = read_report(path)

    assert report.encoding == "utf-16"
    assert report.text == report_text


def test_ingest_utf16_with_crlf_reads_like_plain_utf8(tmp_path, report_text):
    # What Notepad's "Unicode" encoding writes on Windows.
    path = tmp_path / "stockport.txt"
    path.write_bytes(report_text.replace("\n", "\r\n").encode("utf-16"))

    assert read_report(path).text == report_text


# -- empty files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".txt", ".pdf"])
@pytest.mark.parametrize("content", [b"", b" \n\t\r\n  \n"], ids=["zero-bytes", "whitespace-only"])
def test_ingest_empty_file_is_refused_by_name(tmp_path, content, suffix):
    path = tmp_path / f"report{suffix}"
    path.write_bytes(content)

    with pytest.raises(EmptyReportError) as raised:
        read_report(path)

    assert_named_error(raised.value, path, "empty_file", "empty", "re-download or re-extract")


def test_ingest_whitespace_only_file_with_a_byte_order_mark_is_empty(tmp_path):
    path = tmp_path / "report.txt"
    path.write_bytes(b"\xef\xbb\xbf \r\n\t\r\n")

    with pytest.raises(EmptyReportError):
        read_report(path)


# -- binary files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["noise.bin", "noise.txt", "noise"],
    ids=["random-bytes", "random-bytes-named-txt", "random-bytes-without-suffix"],
)
def test_ingest_binary_file_is_an_unsupported_file_type(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(random_bytes_with_nuls())

    with pytest.raises(UnsupportedFileTypeError) as raised:
        read_report(path)

    assert_named_error(
        raised.value, path, "unsupported_type", "not a PDF or a text file", "binary", "give a report as .pdf"
    )


WEB_PAGE = b"\xef\xbb\xbf\n  <!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Ofsted</body></html>"
ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"


def zip_archive(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, data, what, advice",
    [
        ("report.pdf", word_document(), "a Word document (.docx), though its name ends .pdf", "save it as PDF"),
        ("report.docx", word_document(), "a Word document (.docx))", "save it as PDF"),
        ("grades.txt", office_document("xl/workbook.xml"), "an Excel workbook (.xlsx)", "save it as PDF"),
        ("report.odt", zip_archive({"mimetype": ODT_MIMETYPE, "content.xml": "<office/>"}), "an OpenDocument file", "save it as PDF"),
        ("report.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "a Microsoft Office 97-2003 document", "save it as PDF"),
        ("report.pdf", WEB_PAGE, "a web page (HTML), though its name ends .pdf", "download the report's PDF again"),
        ("report.txt", b"<html><body>" + b"children " * 300 + b"</body></html>", "a web page (HTML)", "download"),
        ("picture.png", png_image(), "an image (PNG))", "OCR"),
        ("picture.txt", png_image(), "an image (PNG), though its name ends .txt", "ocrmypdf --image-dpi"),
        ("scan.pdf", b"\xff\xd8\xff\xe0" + bytes(100), "an image (JPEG), though its name ends .pdf", "OCR"),
        ("reports.zip", zip_archive({"a.pdf": "x", "b.pdf": "y"}), "a zip archive", "unzip"),
        ("reports.pdf", zip_archive({"a.pdf": "x"}), "a zip archive, though its name ends .pdf", "unzip"),
        ("report.txt.gz", b"\x1f\x8b\x08\x00" + bytes(50), "a compressed file (gzip)", "gunzip"),
    ],
    ids=[
        "docx-named-pdf",
        "docx",
        "xlsx-named-txt",
        "odt",
        "doc-97",
        "html-named-pdf",
        "html-named-txt",
        "png",
        "png-named-txt",
        "jpeg-named-pdf",
        "zip",
        "zip-named-pdf",
        "gzip",
    ],
)
def test_ingest_known_formats_are_named_with_what_to_do(tmp_path, name, data, what, advice):
    path = tmp_path / name
    path.write_bytes(data)

    with pytest.raises(UnsupportedFileTypeError) as raised:
        read_report(path)

    assert_named_error(raised.value, path, "unsupported_type", f"(it is {what}", advice)


def test_ingest_control_characters_without_nuls_are_an_unsupported_file_type(tmp_path):
    path = tmp_path / "dump.txt"
    path.write_bytes(bytes(range(1, 9)) * 300 + b"children's services inspection")

    with pytest.raises(UnsupportedFileTypeError) as raised:
        read_report(path)

    assert_named_error(raised.value, path, "unsupported_type", "control characters")


# -- PDFs that cannot be read -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["locked.pdf", "locked.txt"])
def test_ingest_encrypted_pdf_is_refused_by_name(tmp_path, name):
    path = tmp_path / name
    path.write_bytes((FIXTURES / "encrypted-user-password.pdf").read_bytes())

    with pytest.raises(EncryptedPdfError) as raised:
        read_report(path)

    # qpdf needs the password to decrypt a PDF that has a user password: without it, it fails.
    assert_named_error(raised.value, path, "encrypted_pdf", "password", "qpdf --password=PASSWORD --decrypt in.pdf out.pdf")


def test_ingest_scanned_pdf_has_no_text_layer(tmp_path):
    path = tmp_path / "scanned.pdf"
    path.write_bytes(scanned_pdf(3))

    with pytest.raises(NoTextLayerError) as raised:
        read_report(path)

    assert_named_error(raised.value, path, "no_text_layer", "no text layer", "OCR", "ocrmypdf")


@pytest.mark.parametrize(
    "cut, detail",
    [
        (lambda data: data[: len(data) // 2], "PDFium: Data format error"),
        (lambda data: data[:4096], "PDFium: Data format error"),
        (lambda data: data[:9] + b"\x00garbage\xff" * 50, "PDFium: Data format error"),
        (lambda data: random_bytes_with_nuls(), "it does not start with %PDF- as every PDF does"),
        (lambda data: b"Ofsted inspection of children's services\n" * 80, "it does not start with %PDF-"),
    ],
    ids=["half-downloaded", "first-4kb", "header-then-garbage", "no-header-random-bytes", "no-header-text"],
)
def test_ingest_truncated_or_corrupt_pdf_is_corrupt(tmp_path, cut, detail):
    path = tmp_path / "newham-2019-ilacs.pdf"
    path.write_bytes(cut(NEWHAM.read_bytes()))

    with pytest.raises(CorruptPdfError) as raised:
        read_report(path)

    assert_named_error(raised.value, path, "corrupt_pdf", "could not be opened", detail, "download the report again")


def test_ingest_pdf_header_after_leading_bytes_is_still_a_pdf(tmp_path):
    # Some generators write a line before the header; PDF readers accept it within the first 1024 bytes.
    path = tmp_path / "newham.pdf"
    path.write_bytes(b"\n" * 20 + NEWHAM.read_bytes())

    assert read_report(path).text == read_report(NEWHAM).text


def test_ingest_a_file_that_cannot_be_read_is_named(tmp_path):
    missing = tmp_path / "gone.txt"

    with pytest.raises(UnreadableFileError) as raised:
        read_report(missing)

    assert_named_error(raised.value, missing, "unreadable_file", "cannot be read", "No such file", "that you may read it")


# -- text that cannot be decoded --------------------------------------------------------------------


def test_ingest_bytes_invalid_even_as_windows_1252_are_an_encoding_error(tmp_path, report_text):
    head = report_text[:2000].encode("utf-8")
    path = tmp_path / "stockport.txt"
    path.write_bytes(head + b"\x81\x8d" + report_text[2000:].encode("utf-8"))

    with pytest.raises(TextEncodingError) as raised:
        read_report(path)

    assert_named_error(
        raised.value,
        path,
        "bad_encoding",
        "not UTF-8",
        "Windows-1252",
        f"first bad byte at offset {len(head)}",
        "convert it to UTF-8",
        "iconv",
    )


def test_ingest_decode_text_names_no_file_for_bytes():
    with pytest.raises(TextEncodingError) as raised:
        decode_text(b"caf\x81 \x8d")

    assert raised.value.path is None
    assert str(raised.value).startswith("[bad_encoding] the text is not UTF-8")


def test_ingest_truncated_utf16_text_is_an_encoding_error(tmp_path, report_text):
    path = tmp_path / "stockport.txt"
    path.write_bytes(report_text.encode("utf-16")[:-1])

    with pytest.raises(TextEncodingError):
        read_report(path)


# -- text that is not a report ----------------------------------------------------------------------


@pytest.mark.parametrize("text", [about(RECIPE), about(NOVEL)], ids=["recipe", "novel"])
def test_ingest_text_that_is_not_an_inspection_report_is_refused(tmp_path, text):
    path = tmp_path / "report.txt"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(NotAnInspectionReportError) as raised:
        read_report(path)

    assert_named_error(
        raised.value,
        path,
        "not_a_report",
        "does not read as an Ofsted inspection report",
        "phrases every report uses",
        "check that the right file was given",
    )
    # The check is what refuses it: the text itself decodes fine.
    assert read_report(path, check_report=False).text == text


def test_ingest_a_fragment_of_a_report_is_too_short_to_be_one(tmp_path, report_text):
    fragment = report_text[: MIN_REPORT_CHARS - 100]
    path = tmp_path / "fragment.txt"
    path.write_text(fragment, encoding="utf-8")

    with pytest.raises(NotAnInspectionReportError) as raised:
        read_report(path)

    assert_named_error(raised.value, path, "not_a_report", f"only {len(fragment.strip())} characters")


def test_ingest_a_pdf_that_is_not_a_report_is_refused(tmp_path):
    # Opens with an empty user password and reads one line of text.
    path = tmp_path / "letter.pdf"
    path.write_bytes((FIXTURES / "encrypted-owner-password-only.pdf").read_bytes())

    with pytest.raises(NotAnInspectionReportError) as raised:
        read_report(path)

    assert_named_error(raised.value, path, "not_a_report", "check that the right file was given")


def test_ingest_check_is_report_accepts_the_samples_and_names_no_file_for_bare_text(report_text):
    check_is_report(report_text)
    check_is_report(read_report(NEWHAM).text)

    with pytest.raises(NotAnInspectionReportError) as raised:
        check_is_report(about(RECIPE))
    assert raised.value.path is None


# -- one class for the batch to catch ---------------------------------------------------------------


INPUT_ERRORS = [
    EmptyReportError,
    UnsupportedFileTypeError,
    EncryptedPdfError,
    CorruptPdfError,
    NoTextLayerError,
    TextEncodingError,
    NotAnInspectionReportError,
    UnreadableFileError,
    ReportTooLargeError,
]


@pytest.mark.parametrize("error", INPUT_ERRORS)
def test_ingest_every_input_error_is_a_report_input_error(error):
    raised = error(Path("x.pdf"), OSError(2, "No such file")) if error is UnreadableFileError else error(Path("x.pdf"))

    assert isinstance(raised, ReportInputError) and isinstance(raised, ValueError)
    assert str(raised).startswith(f"[{error.code}] x.pdf: ")


def test_ingest_every_input_error_has_its_own_code():
    codes = [error.code for error in INPUT_ERRORS]

    assert len(set(codes)) == len(codes)
    assert ReportInputError.code not in codes
