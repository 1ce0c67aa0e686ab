"""Inputs a careless batch of reports holds, built in code: damaged and foreign files for the tests
of `nlp.ingest` and `nlp.batch`, and `write_hostile_batch`, a folder of good reports mixed with them
(which `training/benchmarks/bench_long_reports.py` labels as well, to measure its peak memory)."""

from __future__ import annotations

import io
import random
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

from tests.nlp.test_pdf import build_scanned_pdf

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "examples" / "reports"
STOCKPORT = SAMPLES / "stockport-2022-ilacs.txt"
NEWHAM = SAMPLES / "newham-2019-ilacs.pdf"
ENCRYPTED = Path(__file__).parent / "fixtures" / "encrypted-user-password.pdf"


def scanned_pdf(page_count: int = 2) -> bytes:
    """Pages that are one grey image each, as a scanner makes them: no text layer at all."""
    return build_scanned_pdf(page_count)


def png_image(width: int = 16, height: int = 16) -> bytes:
    """A valid RGB PNG (its header and chunk lengths have NUL bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([200, 120, 40]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def office_document(main_part: str = "word/document.xml") -> bytes:
    """An Office Open XML zip archive, as 'Save as Word' (or Excel, PowerPoint) writes one: content
    types first, then the main part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr(main_part, "<w:document>Ofsted inspection of children's services</w:document>")
    return buffer.getvalue()


def word_document() -> bytes:
    return office_document("word/document.xml")


def random_bytes_with_nuls() -> bytes:
    data = bytearray(random.Random(7).randbytes(4096))
    data[100] = 0
    return bytes(data)


RECIPE = (
    "Victoria sponge. Heat the oven to 190C and grease two 20cm sandwich tins. Cream 200g of softened "
    "butter with 200g of caster sugar until pale and fluffy, then beat in four eggs one at a time, adding "
    "a spoonful of flour with each to stop the mixture curdling. Fold in the rest of the 200g of "
    "self-raising flour and a splash of milk, divide between the tins and bake for 20 minutes until "
    "golden and springy. "
    "Leave to cool, then sandwich with raspberry jam and whipped cream and dust with icing sugar. "
)
NOVEL = (
    "It was the last week of the summer holidays, and the children ran down to the harbour every morning "
    "to watch the boats come in. Their grandmother sat on the sea wall with her knitting, calling out the "
    "names of the fishermen as they tied up, and the gulls wheeled and cried over the nets. In the evenings "
    "the council lamps came on one by one along the front, and nobody wanted to go home to bed. "
)


def about(text: str, length: int = 3000) -> str:
    """`text` repeated to `length` characters: as long as a short report, with none of its phrases."""
    return (text * (length // len(text) + 1))[:length]


def latin1_report() -> bytes:
    """The Stockport sample as a Latin-1 extractor writes it: straight quotes, and "©" as the single
    byte 0xA9, which is not UTF-8 (so the text is read as Windows-1252, which agrees with Latin-1)."""
    text = STOCKPORT.read_text(encoding="utf-8").translate({ord("’"): "'", ord("‘"): "'", ord("◼"): "-"})
    return text.encode("latin-1")


def repeated_report(size: int) -> bytes:
    """The Stockport sample repeated to `size` bytes: many reports' worth of real report text."""
    data = STOCKPORT.read_bytes()
    return (data * (size // len(data) + 1))[:size]


HOSTILE_SIZE = 40 * 2**20
# Each bad file of the hostile batch: its content, and the error_type errors.parquet must give it.
HOSTILE_BAD_FILES = {
    "empty.txt": (lambda: b"", "EmptyReportError"),
    "noise.txt": (random_bytes_with_nuls, "UnsupportedFileTypeError"),
    "random-bytes.pdf": (lambda: random.Random(11).randbytes(4096), "CorruptPdfError"),
    "truncated.pdf": (lambda: NEWHAM.read_bytes()[: NEWHAM.stat().st_size // 2], "CorruptPdfError"),
    "garbage-after-header.pdf": (lambda: NEWHAM.read_bytes()[:9] + b"\x00garbage\xff" * 50, "CorruptPdfError"),
    "word-document.pdf": (word_document, "UnsupportedFileTypeError"),
    "locked.pdf": (ENCRYPTED.read_bytes, "EncryptedPdfError"),
    "scanned.pdf": (lambda: scanned_pdf(2), "NoTextLayerError"),
    "huge-40mb.txt": (lambda: repeated_report(HOSTILE_SIZE), "ReportTooLargeError"),
    "three-reports.txt": (lambda: STOCKPORT.read_bytes() * 3, "ReportTooLargeError"),
    "recipe.txt": (lambda: about(RECIPE).encode(), "NotAnInspectionReportError"),
}


def write_hostile_batch(folder: Path) -> tuple[list[Path], dict[str, str]]:
    """A folder of good reports (text, PDF, a Latin-1 text) mixed with every kind of bad file.

    RETURNS (tuple[list[Path], dict[str, str]]): the good reports, and each bad file's name with
        the error_type it must get.
    """
    folder.mkdir(parents=True, exist_ok=True)
    good = [Path(shutil.copy(STOCKPORT, folder)), Path(shutil.copy(NEWHAM, folder))]
    latin1 = folder / "stockport-latin1.txt"
    latin1.write_bytes(latin1_report())
    for name, (content, _) in HOSTILE_BAD_FILES.items():
        (folder / name).write_bytes(content())
    return [*good, latin1], {name: error_type for name, (_, error_type) in HOSTILE_BAD_FILES.items()}
