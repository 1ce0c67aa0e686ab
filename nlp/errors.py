"""Named errors. Each says what is wrong and what to do about it.

Every error raised on bad *input* derives from `ReportInputError`, so a batch can catch that one
class, record the message against the file and carry on with the next file. The classes below it
(`NoSuchInput`, `DuplicateReportId`, `UnexpectedLabellingError`) word the other rows of a batch's
errors.parquet: an argument that matched no file, a second file with the same name, and a fault
of this package met while labelling one report.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


class InspectionThemesError(Exception):
    """Base class of every error this package raises on purpose."""


class ReportInputError(InspectionThemesError, ValueError):
    """A report file could not be turned into findings.

    path (Path | None): the file, when there is one.
    """

    code = "bad_input"

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        prefix = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"[{self.code}] {prefix}{message}")


class EmptyReportError(ReportInputError):
    code = "empty_file"

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__("the file is empty (0 bytes or whitespace only); re-download or re-extract it.", path)


class UnreadableFileError(ReportInputError):
    code = "unreadable_file"

    def __init__(self, path: str | Path | None, error: OSError) -> None:
        super().__init__(
            f"the file cannot be read ({error.strerror or error}); check that it exists and that you may read it.",
            path,
        )


class UnsupportedFileTypeError(ReportInputError):
    """A file that is neither PDF nor text. `nlp.ingest` names the formats people give by mistake
    (Office documents, web pages, images, archives) and says what to do with each (`advice`)."""

    code = "unsupported_type"
    DEFAULT_ADVICE = "give a report as .pdf, or as plain text (.txt) extracted with e.g. `pdftotext`"

    def __init__(self, path: str | Path | None = None, detail: str = "", advice: str = DEFAULT_ADVICE) -> None:
        super().__init__(f"not a PDF or a text file{detail}; {advice}.", path)


class ReportTooLargeError(ReportInputError):
    """Too much text for one report (`nlp.limits` says where the limits come from and why)."""

    code = "too_large"

    def __init__(self, path: str | Path | None = None, detail: str = "", advice: str = "") -> None:
        super().__init__(f"too large to label as one report: {detail}; {advice}.", path)


class EncryptedPdfError(ReportInputError):
    code = "encrypted_pdf"

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(
            "the PDF is encrypted and needs a password to open; with the password, save an unprotected "
            "copy (`qpdf --password=PASSWORD --decrypt in.pdf out.pdf`) and give that; without it, ask "
            "whoever sent the file for an unprotected copy.",
            path,
        )


class CorruptPdfError(ReportInputError):
    code = "corrupt_pdf"

    def __init__(self, path: str | Path | None = None, detail: str = "") -> None:
        super().__init__(
            f"the PDF could not be opened ({detail.rstrip('.')}); download the report again (a download that stopped "
            "part-way, or a file saved from something other than the PDF itself, looks like this).",
            path,
        )


class NoTextLayerError(ReportInputError):
    code = "no_text_layer"

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(
            "the PDF has no text layer (it looks scanned); run OCR first (e.g. `ocrmypdf in.pdf out.pdf`) "
            "and give the OCR'd file.",
            path,
        )


class TextEncodingError(ReportInputError):
    code = "bad_encoding"

    def __init__(self, path: str | Path | None = None, detail: str = "") -> None:
        super().__init__(
            f"the text is not UTF-8, UTF-16 with a byte-order mark, or Windows-1252{detail}; "
            "convert it to UTF-8 (e.g. `iconv -f <encoding> -t UTF-8`).",
            path,
        )


class NotAnInspectionReportError(ReportInputError):
    code = "not_a_report"

    def __init__(self, path: str | Path | None = None, detail: str = "") -> None:
        super().__init__(
            "this does not read as an Ofsted inspection report of local authority children's services"
            f"{detail}; check that the right file was given.",
            path,
        )


class NoSuchInput(InspectionThemesError):
    """A path, folder or glob pattern given to `label` that matched no report file.

    The class name is the `error_type` of its row in errors.parquet.
    """

    code = "no_such_input"

    def __init__(self, argument: str) -> None:
        super().__init__(
            f"[{self.code}] {argument}: no report file matches; check the path (a folder is searched for "
            ".pdf and .txt files, a glob pattern such as 'reports/*.pdf' is best quoted)."
        )


class DuplicateReportId(InspectionThemesError):
    """A second input file with the name (so the report id) of one already given.

    The class name is the `error_type` of its row in errors.parquet.
    """

    code = "duplicate_report_id"

    def __init__(self, path: str | os.PathLike, first: str | os.PathLike) -> None:
        super().__init__(
            f"[{self.code}] {path}: another input, {first}, has the same name; rename one so report ids "
            "stay unique."
        )


class UnexpectedLabellingError(InspectionThemesError):
    """An exception this package did not mean to raise, met while labelling one report: a fault of
    the package, which a batch records against the file (under the original exception's type) before
    it goes on with the next file."""

    code = "internal_error"

    def __init__(self, path: str | os.PathLike, error: BaseException) -> None:
        # Where in this package it went wrong: the frame a maintainer looks at first.
        frames = traceback.extract_tb(error.__traceback__)
        ours = [frame for frame in frames if Path(frame.filename).is_relative_to(_PACKAGE)]
        where = f" (at {Path(ours[-1].filename).relative_to(_PACKAGE.parent)}:{ours[-1].lineno})" if ours else ""
        super().__init__(
            f"[{self.code}] {path}: labelling it raised {type(error).__name__}: {error}{where}. This is a "
            "fault of inspection-themes, not necessarily of the file: please report it, with the file if "
            "you may share it; the other files are labelled."
        )


class ClusterSetupError(InspectionThemesError):
    """A Dask run cannot go ahead as set up: Dask is missing, the scheduler cannot be reached, or a
    worker cannot read an input the client could."""


class ModelCompatibilityError(InspectionThemesError):
    """A model artifact was made for another taxonomy or another version of this package."""


class ClassifyInputError(InspectionThemesError, ValueError):
    """A line of a `classify` input file does not follow the `{"id": ..., "text": ...}` contract."""


class DatasetColumnsError(InspectionThemesError, ValueError):
    """A `datasets.Dataset` given for labelling lacks the columns the labeller needs."""


class ReportViewError(InspectionThemesError, ValueError):
    """What `show` was given does not lead to one labelled report: not a report nor a `label` output
    folder, or a folder whose reports need `--report-id` to pick one."""


class SuggestInputError(InspectionThemesError, ValueError):
    """Findings given to `suggest` (or its settings) cannot be ranked: a bad line or column, or too few
    findings left to draw from."""
