"""Named errors. Each says what is wrong and what to do about it.

Every error raised on bad *input* derives from `ReportInputError`, so a batch can catch that one
class, record the message against the file and carry on with the next file.
"""

from __future__ import annotations

from pathlib import Path


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


class UnsupportedFileTypeError(ReportInputError):
    code = "unsupported_type"

    def __init__(self, path: str | Path | None = None, detail: str = "") -> None:
        super().__init__(
            f"not a PDF or a text file{detail}; give a report as .pdf, or as plain text (.txt) "
            "extracted with e.g. `pdftotext`.",
            path,
        )


class EncryptedPdfError(ReportInputError):
    code = "encrypted_pdf"

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(
            "the PDF is encrypted or password-protected; save an unprotected copy "
            "(e.g. `qpdf --decrypt in.pdf out.pdf`) and try again.",
            path,
        )


class CorruptPdfError(ReportInputError):
    code = "corrupt_pdf"

    def __init__(self, path: str | Path | None = None, detail: str = "") -> None:
        super().__init__(f"the PDF could not be opened ({detail}); re-download the file.", path)


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


class ClusterSetupError(InspectionThemesError):
    """A Dask run cannot go ahead as set up: Dask is missing, the scheduler cannot be reached, or a
    worker cannot read an input the client could."""


class ModelCompatibilityError(InspectionThemesError):
    """A model artifact was made for another taxonomy or another version of this package."""


class ClassifyInputError(InspectionThemesError, ValueError):
    """A line of a `classify` input file does not follow the `{"id": ..., "text": ...}` contract."""


class DatasetColumnsError(InspectionThemesError, ValueError):
    """A `datasets.Dataset` given for labelling lacks the columns the labeller needs."""


class SuggestInputError(InspectionThemesError, ValueError):
    """Findings given to `suggest` (or its settings) cannot be ranked: a bad line or column, or too few
    findings left to draw from."""
