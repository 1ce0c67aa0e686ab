"""Reading report files: PDF or text from any extractor, with a named error for each bad input.

A file is known by its content, not its name: a PDF named .txt is read as a PDF, and the formats
people give by mistake (Office documents, web pages, images, archives) are named by their first
bytes, whatever the file is called, with what to do about each. Size limits are `nlp.limits`'.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import (
    CorruptPdfError,
    EmptyReportError,
    NotAnInspectionReportError,
    TextEncodingError,
    UnreadableFileError,
    UnsupportedFileTypeError,
)
from .limits import check_file_size, check_report_size
from .pdf import extract_pdf_text
from .report_formats import REPORT_CUES

PDF_MAGIC = b"%PDF-"
# Readers (pdfium among them) accept a PDF header anywhere in the first 1024 bytes, after junk.
_PDF_HEADER_WITHIN = 1024
_SNIFF_BYTES = 8192
TEXT_SUFFIXES = frozenset({".txt", ".text", ""})
REPORT_SUFFIXES = frozenset({".pdf"}) | TEXT_SUFFIXES

MIN_REPORT_CUES = 6
MIN_REPORT_CHARS = 1500
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


@dataclass(frozen=True)
class FileFormat:
    """A format that is not a report file, as `UnsupportedFileTypeError` names it, with what to do."""

    name: str
    advice: str


_OFFICE = "open it in the program that made it and save it as PDF, or as plain text (.txt), and give that"
_IMAGE = (
    "a picture of a page has no text to read: make a searchable PDF of it with OCR "
    "(e.g. `ocrmypdf --image-dpi 300 page.png out.pdf`) and give that"
)
_ARCHIVE = "unpack it (e.g. `unzip reports.zip -d reports/`) and give the folder of reports inside"
_WEB_PAGE = (
    "a download that returned a web page (an error or sign-in page) instead of the report looks like "
    "this: download the report's PDF again"
)
# Formats told by their first bytes (zip archives and web pages need a closer look: `identify_format`).
_MAGIC_FORMATS = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", FileFormat("a Microsoft Office 97-2003 document (.doc, .xls or .ppt)", _OFFICE)),
    (b"{\\rtf", FileFormat("a Rich Text Format document (.rtf)", _OFFICE)),
    (b"\x89PNG\r\n\x1a\n", FileFormat("an image (PNG)", _IMAGE)),
    (b"\xff\xd8\xff", FileFormat("an image (JPEG)", _IMAGE)),
    (b"GIF87a", FileFormat("an image (GIF)", _IMAGE)),
    (b"GIF89a", FileFormat("an image (GIF)", _IMAGE)),
    (b"II*\x00", FileFormat("an image (TIFF)", _IMAGE)),
    (b"MM\x00*", FileFormat("an image (TIFF)", _IMAGE)),
    (b"\x1f\x8b", FileFormat("a compressed file (gzip)", "unpack it (e.g. `gunzip`) and give the report inside")),
    (b"7z\xbc\xaf\x27\x1c", FileFormat("a 7-Zip archive", _ARCHIVE)),
    (b"Rar!\x1a\x07", FileFormat("a RAR archive", _ARCHIVE)),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Office Open XML documents are zip archives; the folder of their main part says which program made them.
_OFFICE_OPEN_XML = (
    ("word/", FileFormat("a Word document (.docx)", _OFFICE)),
    ("xl/", FileFormat("an Excel workbook (.xlsx)", _OFFICE)),
    ("ppt/", FileFormat("a PowerPoint presentation (.pptx)", _OFFICE)),
)
_OPEN_DOCUMENT = FileFormat("an OpenDocument file (.odt, .ods or .odp)", _OFFICE)
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")


@dataclass(frozen=True)
class ReportText:
    """A report's text as extracted, before layout analysis.

    report_id (str): the file name without its extension.
    text (str): pages separated by form feeds where the source has pages.
    source (Path | None): the file it came from.
    source_format (str): "pdf" or "text".
    encoding (str | None): how a text file was decoded.
    """

    report_id: str
    text: str
    source: Path | None
    source_format: str
    encoding: str | None = None


def report_id_for(path: str | os.PathLike) -> str:
    return Path(path).stem


def read_report(path: str | os.PathLike, *, check_report: bool = True) -> ReportText:
    """Read a report file (.pdf, or text from any extractor) into its text.

    path (str | PathLike): the report.
    check_report (bool): raise `NotAnInspectionReportError` for text that does not read as an
        Ofsted children's services report.
    RETURNS (ReportText): the text and where it came from.
    RAISES (ReportInputError): a named subclass saying what is wrong with the file and what to do.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
            is_pdf = PDF_MAGIC in head[:_PDF_HEADER_WITHIN]
            if not is_pdf:
                refuse_other_formats(head, path)
            check_file_size(os.fstat(handle.fileno()).st_size, is_pdf, path)  # before reading it all
            data = b"" if is_pdf else head + handle.read()
        report = _pdf_report(path) if is_pdf else _text_report(data, path)
    except OSError as error:
        raise UnreadableFileError(path, error) from error
    check_report_size(report.text, path)
    if check_report:
        check_is_report(report.text, path)
    return report


def _pdf_report(path: Path) -> ReportText:
    return ReportText(report_id_for(path), extract_pdf_text(path), path, "pdf")


def _text_report(data: bytes, path: Path) -> ReportText:
    if not data.strip():
        raise EmptyReportError(path)
    text, encoding = decode_text(data, path)
    if not text.strip():  # a byte-order mark and whitespace are still an empty file
        raise EmptyReportError(path)
    return ReportText(report_id_for(path), text, path, "text", encoding)


def identify_format(head: bytes, path: str | os.PathLike | None = None) -> FileFormat | None:
    """The format of a file that is not a report file, known by its first bytes; None for others.

    head (bytes): the file's first bytes (a few kB).
    path (PathLike | None): the file, for a zip archive, whose contents say what it is.
    """
    for magic, known in _MAGIC_FORMATS:
        if head.startswith(magic):
            return known
    if head.startswith(_ZIP_MAGIC):
        return _zip_format(path)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(_HTML_STARTS) or (start.startswith(b"<?xml") and b"<html" in start):
        return FileFormat("a web page (HTML)", _WEB_PAGE)
    return None


def _zip_format(path: str | os.PathLike | None) -> FileFormat:
    archive = FileFormat("a zip archive", _ARCHIVE)
    if path is None:
        return archive
    try:
        with zipfile.ZipFile(path) as opened:
            names = opened.namelist()
            mimetype = opened.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError):
        return archive  # a damaged archive: unpacking it says more than we can
    for folder, known in _OFFICE_OPEN_XML:
        if any(name.startswith(folder) for name in names):
            return known
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return _OPEN_DOCUMENT
    return archive


def refuse_other_formats(head: bytes, path: Path) -> None:
    """Refuse a file without a PDF header whose first bytes show it is no report file either.

    RAISES (UnsupportedFileTypeError): a format `identify_format` knows, named with what to do.
    RAISES (CorruptPdfError): any other file named .pdf (text files are named anything).
    """
    known = identify_format(head, path)
    if known is not None:
        named = f", though its name ends {path.suffix}" if path.suffix.lower() in REPORT_SUFFIXES - {""} else ""
        raise UnsupportedFileTypeError(path, f" (it is {known.name}{named})", known.advice)
    if path.suffix.lower() == ".pdf" and head.strip():
        raise CorruptPdfError(path, f"it does not start with {PDF_MAGIC.decode()} as every PDF does")


def decode_text(data: bytes, path: str | os.PathLike | None = None) -> tuple[str, str]:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252.

    Windows-1252 is what older extractors on Windows write; it cannot be told apart from Latin-1
    for most reports, and it decodes the curly quotes and dashes these reports are full of.
    RETURNS (tuple[str, str]): the text and the encoding used.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise TextEncodingError(path, f" (it starts as UTF-16 but breaks at byte {error.start})") from error
    elif b"\x00" in data[:8192]:
        raise UnsupportedFileTypeError(path, " (it contains NUL bytes: a binary file)")
    else:
        try:
            text, encoding = data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError as utf8_error:
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                raise TextEncodingError(path, f" (first bad byte at offset {utf8_error.start})") from utf8_error
    if len(_CONTROL.findall(text[:8192])) > 0.01 * min(len(text), 8192):
        raise UnsupportedFileTypeError(path, " (it is mostly control characters: a binary file)")
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def check_is_report(text: str, path: str | os.PathLike | None = None) -> None:
    """Raise `NotAnInspectionReportError` unless the text reads as a children's services report."""
    if len(text.strip()) < MIN_REPORT_CHARS:
        raise NotAnInspectionReportError(path, f" (only {len(text.strip())} characters of text)")
    found = sum(1 for cue in REPORT_CUES if cue.search(text))
    if found < MIN_REPORT_CUES:
        raise NotAnInspectionReportError(path, f" (it uses {found} of the {len(REPORT_CUES)} phrases every report uses)")
