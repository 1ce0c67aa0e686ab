"""Reading report files: PDF or text from any extractor, with a named error for each bad input."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import (
    EmptyReportError,
    NotAnInspectionReportError,
    TextEncodingError,
    UnsupportedFileTypeError,
)
from .pdf import extract_pdf_text
from .report_formats import REPORT_CUES

PDF_MAGIC = b"%PDF-"
TEXT_SUFFIXES = frozenset({".txt", ".text", ""})
REPORT_SUFFIXES = frozenset({".pdf"}) | TEXT_SUFFIXES

MIN_REPORT_CUES = 6
MIN_REPORT_CHARS = 1500
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


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
    data = path.read_bytes()
    if not data.strip():
        raise EmptyReportError(path)
    if data.startswith(PDF_MAGIC) or path.suffix.lower() == ".pdf":
        report = ReportText(report_id_for(path), extract_pdf_text(path), path, "pdf")
    else:
        text, encoding = decode_text(data, path)
        if not text.strip():  # a byte-order mark and whitespace are still an empty file
            raise EmptyReportError(path)
        report = ReportText(report_id_for(path), text, path, "text", encoding)
    if check_report:
        check_is_report(report.text, path)
    return report


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
