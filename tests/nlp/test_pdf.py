"""PDF text extraction: output in pdftotext's shape, empty lines included, and the named input errors.

Small PDFs are built here with pypdfium2 itself (text in the standard Helvetica font at known
positions), so each layout rule is tested on geometry that is known exactly; the expected texts are
what poppler's `pdftotext` (22.12) prints for the same PDFs. The two encrypted PDFs are committed
fixtures (see fixtures/README.md). The corpus tests compare the output for the report PDFs in
../shared/corpus/pdf with their `pdftotext` twins in ../shared/corpus/text.
"""

from __future__ import annotations

import ctypes
import difflib
import functools
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from nlp.errors import CorruptPdfError, EmptyReportError, EncryptedPdfError, NoTextLayerError
from nlp.layout import parse_layout
from nlp.pdf import PDFIUM_LOCK, extract_pdf_text

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
CORPUS_REPORTS = [
    "east-sussex-2014-sif",
    "newham-2019-ilacs",
    "norfolk-2013-lac",
    "stockport-2022-ilacs",
    "trafford-2026-ilacs",
    "wigan-2017-sif",
    "windsor-and-maidenhead-2024-ilacs",
]
PITCH = 14  # baseline to baseline, for 12 pt text


@dataclass(frozen=True)
class Text:
    """One text object: its string drawn from (x, y), in points, rotated `angle` degrees anticlockwise."""

    x: float
    y: float
    string: str
    size: float = 12
    angle: float = 0


def build_pdf(*pages: list[Text], rotation: int = 0) -> bytes:
    """A PDF with one A4 page per list of texts, in Helvetica, each page turned by `rotation`."""
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument.new()
        font = pdfium.PdfFont.load_standard(pdf, "Helvetica")
        for texts in pages:
            page = pdf.new_page(595, 842)
            for text in texts:
                page.insert_obj(_text_object(pdf, font, text))
            page.gen_content()
            page.set_rotation(rotation)
            page.close()
        return _saved(pdf)


def _text_object(pdf: pdfium.PdfDocument, font: pdfium.PdfFont, text: Text) -> pdfium.PdfObject:
    raw = pdfium_c.FPDFPageObj_CreateTextObj(pdf, font, text.size)
    encoded = (text.string + "\0").encode("utf-16-le")
    pdfium_c.FPDFText_SetText(raw, ctypes.cast(encoded, ctypes.POINTER(ctypes.c_ushort)))
    text_object = pdfium.PdfObject(raw, pdf=pdf)
    text_object.set_matrix(pdfium.PdfMatrix().rotate(text.angle, ccw=True).translate(text.x, text.y))
    return text_object


def build_scanned_pdf(page_count: int, stamp: str | None = None) -> bytes:
    """Pages that are one grey image each, as a scanner makes them, with at most a short stamp of text."""
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument.new()
        font = pdfium.PdfFont.load_standard(pdf, "Helvetica")
        for _ in range(page_count):
            page = pdf.new_page(595, 842)
            bitmap = pdfium.PdfBitmap.new_native(60, 80, pdfium_c.FPDFBitmap_BGR)
            bitmap.fill_rect((200, 200, 200, 255), 0, 0, 60, 80)
            bitmap.fill_rect((20, 20, 20, 255), 10, 10, 40, 4)
            image = pdfium.PdfImage.new(pdf)
            image.set_bitmap(bitmap)
            image.set_matrix(pdfium.PdfMatrix().scale(595, 842))
            page.insert_obj(image)
            if stamp:
                page.insert_obj(_text_object(pdf, font, Text(500, 20, stamp, size=8)))
            page.gen_content()
            page.close()
        return _saved(pdf)


def _saved(pdf: pdfium.PdfDocument) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


def paragraphs_of(text: str) -> list[str]:
    """The paragraphs of a one-page extraction, each with its lines joined by newlines."""
    page, trailer = text.split("\f")
    assert trailer == ""
    return [paragraph for paragraph in page.split("\n\n") if paragraph]


def lines_at(x: float, top: float, *strings: str) -> list[Text]:
    """Lines of 12 pt text one under the other, the first with its baseline at `top`."""
    return [Text(x, top - index * PITCH, string) for index, string in enumerate(strings)]


# -- page shape ------------------------------------------------------------------------------------


def test_each_page_is_followed_by_one_form_feed_even_when_empty():
    text = extract_pdf_text(
        build_pdf([Text(72, 770, "First page of three.")], [], [Text(72, 770, "Third page of three.")])
    )

    assert text == "First page of three.\n\n\f\fThird page of three.\n\n\f"
    assert text.split("\f")[2] == "Third page of three.\n\n"


def test_characters_are_kept_as_in_the_pdf():
    line = "Quotes ‘single’ and “double” – en dash — em dash £5 café"

    assert paragraphs_of(extract_pdf_text(build_pdf([Text(72, 770, line)]))) == [line]


def test_reads_a_path_as_well_as_bytes(tmp_path):
    report = tmp_path / "report.pdf"
    report.write_bytes(build_pdf([Text(72, 770, "From a file.")]))

    assert extract_pdf_text(report) == extract_pdf_text(str(report)) == "From a file.\n\n\f"


def test_text_is_read_top_down_whatever_the_content_order():
    page = [Text(290, 40, "7"), *lines_at(72, 770, "Heading"), *lines_at(72, 740, "Body text of the page.")]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == ["Heading\nBody text of the page.", "7"]


def test_text_on_a_rotated_page_reads_as_displayed():
    upright_lines = [
        Text(300, 300, "Hello world, this line is first."),
        Text(314, 300, "And this one second."),
    ]
    turned = [Text(text.x, text.y, text.string, angle=90) for text in upright_lines]

    text = extract_pdf_text(build_pdf(turned, rotation=90))

    assert paragraphs_of(text) == ["Hello world, this line is first.\nAnd this one second."]


# -- lines -----------------------------------------------------------------------------------------


def test_cells_side_by_side_are_read_row_by_row():
    table = [
        Text(72, 770, "Judgement"),
        Text(400, 770, "Grade"),
        *lines_at(72, 740, "The impact of leaders on social work", "practice with children and families"),
        Text(400, 740, "Good"),
        Text(72, 700, "Overall effectiveness"),
        Text(400, 700, "Requires improvement to be good"),
    ]

    assert paragraphs_of(extract_pdf_text(build_pdf(table))) == [
        "Judgement",
        "Grade",
        "The impact of leaders on social work\npractice with children and families",
        "Good",
        "Overall effectiveness",
        "Requires improvement to be good",
    ]


CONTENTS = ["Executive summary", "Recommendations", "Inspection findings"]


def test_a_spaced_out_contents_list_is_read_entry_by_entry():
    # 23 pt apart, as in the reports: too far for one block, so each entry is read with its page.
    contents = [
        *[Text(72, 770 - 23 * index, entry) for index, entry in enumerate(CONTENTS)],
        *[Text(500, 770 - 23 * index, page) for index, page in enumerate(["30", "31", "32"])],
    ]

    assert paragraphs_of(extract_pdf_text(build_pdf(contents))) == [
        "Executive summary",
        "30",
        "Recommendations",
        "31",
        "Inspection findings",
        "32",
    ]


def test_a_closely_set_contents_list_is_read_column_by_column():
    contents = [*lines_at(72, 770, *CONTENTS), *lines_at(500, 770, "30", "31", "32")]

    assert paragraphs_of(extract_pdf_text(build_pdf(contents))) == ["\n".join(CONTENTS), "30\n31\n32"]


def test_a_hyphenated_line_end_is_joined_as_pdftotext_joins_it():
    page = lines_at(
        72, 770, "there are many examples of good-quality, sensitive, child-", "centred work with them."
    )

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == [
        "there are many examples of good-quality, sensitive, childcentred work with them."
    ]


def test_a_hyphen_before_a_footnote_is_kept():
    # pdfium joins the last body line to the footnote as if the word went on there.
    last_line = "has been provided by agencies, this is not routinely considered in decision-"
    page = [
        Text(72, 200, last_line),
        Text(72, 80, "1 The areas for improvement are cross-referenced.", size=10),
    ]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == [
        last_line,
        "1 The areas for improvement are cross-referenced.",
    ]


def test_a_footnote_mark_stays_on_its_line():
    # The heading is 151.7 pt wide: the mark starts right where it ends, raised and smaller.
    page = [Text(72, 770, "What needs to improve?", size=14), Text(223.7, 776, "1", size=9)]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == ["What needs to improve?1"]


# -- paragraphs ------------------------------------------------------------------------------------

LONG = [
    "Services for children have significantly improved over the last eighteen months as",
    "a result of an ambitious programme of change. Strong and effective leadership has",
    "identified a decline in the quality of services since the last inspection in 2012 and",
]
NEXT = "The need to improve services is clear."


def test_paragraphs_of_one_font_run_together_as_in_pdftotext():
    # A short last line, a first-line indent and a gap of a line are no breaks to pdftotext.
    page = [
        *lines_at(72, 770, *LONG, "has planned effective action."),
        Text(90, 770 - 4 * PITCH, NEXT),
        Text(72, 770 - 6 * PITCH, "It is well understood."),
    ]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == [
        "\n".join([*LONG, "has planned effective action.", NEXT, "It is well understood."])
    ]


def test_a_gap_of_more_than_two_and_a_half_font_sizes_ends_a_paragraph():
    page = [*lines_at(72, 770, *LONG), Text(72, 770 - 3 * PITCH - 36, NEXT)]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == ["\n".join(LONG), NEXT]


def test_a_larger_font_starts_a_paragraph_and_a_smaller_one_goes_on_with_it():
    heading_baseline = 770 - 3 * PITCH - 14
    page = [
        *lines_at(72, 770, *LONG),
        Text(72, heading_baseline, "Executive summary", size=14),
        *lines_at(72, heading_baseline - 24, NEXT, "It is well understood."),
    ]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == [
        "\n".join(LONG),
        f"Executive summary\n{NEXT}\nIt is well understood.",
    ]


def test_text_beside_other_text_is_a_paragraph_of_its_own():
    page = [*lines_at(72, 770, "Judgement", "Overall"), *lines_at(300, 770, "Good", "Outstanding")]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == ["Judgement\nOverall", "Good\nOutstanding"]


def test_a_hyphenated_line_end_keeps_the_next_line_in_the_paragraph():
    # pdfium reads the three rows joined at the hyphens as one line; the row after it still follows on.
    page = lines_at(
        72,
        770,
        "numerous changes of placements. There are no dedicated in-",
        "house foster carers for emergency placements, and often in-",
        "house carers take children up to two years old.",
        "Assessments of brothers and sisters were rarely found.",
    )

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == [
        (
            "numerous changes of placements. There are no dedicated inhouse foster carers for emergency "
            "placements, and often inhouse carers take children up to two years old.\n"
            "Assessments of brothers and sisters were rarely found."
        )
    ]


def test_a_paragraph_number_far_from_its_text_is_a_paragraph_of_its_own():
    # "1." ends 18 pt short of its text, more than a font size; "10." all but touches its text, where
    # pdftotext prints "10.Contacts" and this module a space (see _is_word_gap).
    page = [
        Text(72, 770, "1."),
        *lines_at(
            100, 770, "A wide range of community-based resources are available to", "support families."
        ),
        Text(72, 770 - 2 * PITCH, "10."),
        Text(89, 770 - 2 * PITCH, "Contacts receive an appropriate and timely response."),
    ]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == [
        "1.",
        (
            "A wide range of community-based resources are available to\nsupport families.\n"
            "10. Contacts receive an appropriate and timely response."
        ),
    ]


def test_bullets_close_to_their_items_stay_on_their_lines():
    page = [
        *lines_at(72, 770, "•", "•"),
        *lines_at(84, 770, "The stability of the workforce.", "Permanence planning."),
    ]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == [
        "• The stability of the workforce.\n• Permanence planning."
    ]


def test_bullets_far_from_their_items_are_read_as_a_column_of_their_own():
    items = ["The stability of the workforce.", "The consistency of practice.", "Permanence planning."]
    page = [*lines_at(72, 770, "•", "•", "•"), *lines_at(90, 770, *items)]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == ["•\n•\n•", "\n".join(items)]


def test_a_raised_note_number_at_the_start_of_a_line_is_a_paragraph_of_its_own():
    page = [
        Text(72, 200, "Body text ends here."),
        Text(72, 84, "3", size=6.5),
        Text(77, 80, "These are residential special schools.", size=10),
    ]

    assert paragraphs_of(extract_pdf_text(build_pdf(page))) == [
        "Body text ends here.",
        "3",
        "These are residential special schools.",
    ]


# -- errors ----------------------------------------------------------------------------------------


def test_a_pdf_that_needs_a_password_is_refused_by_name():
    fixture = FIXTURES / "encrypted-user-password.pdf"

    with pytest.raises(EncryptedPdfError) as raised:
        extract_pdf_text(fixture)
    assert raised.value.path == fixture
    with pytest.raises(EncryptedPdfError) as raised:
        extract_pdf_text(fixture.read_bytes())
    assert raised.value.path is None


def test_a_pdf_with_only_an_owner_password_reads_like_any_other():
    text = extract_pdf_text(FIXTURES / "encrypted-owner-password-only.pdf")

    assert text == "Copying is restricted, but the text still reads.\n\n\f"


@pytest.mark.parametrize("stamp", [None, "p. 1"], ids=["image-only", "image-and-stamp"])
def test_a_scanned_pdf_has_no_text_layer(tmp_path, stamp):
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(build_scanned_pdf(3, stamp))

    with pytest.raises(NoTextLayerError) as raised:
        extract_pdf_text(scan)
    assert raised.value.path == scan


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        b"%PDF-1.7\n" + b"\x00garbage\xff" * 50,
        b"<html>not a pdf</html>",
    ],
    ids=["png", "pdf-header-then-garbage", "html"],
)
def test_data_that_is_not_a_pdf_is_corrupt(tmp_path, data):
    not_pdf = tmp_path / "report.pdf"
    not_pdf.write_bytes(data)

    with pytest.raises(CorruptPdfError) as raised:
        extract_pdf_text(not_pdf)
    assert raised.value.path == not_pdf
    with pytest.raises(CorruptPdfError):
        extract_pdf_text(data)


def test_a_truncated_pdf_is_corrupt():
    whole = build_pdf([Text(72, 770, "A page that will be cut off.")])

    with pytest.raises(CorruptPdfError):
        extract_pdf_text(whole[: len(whole) // 3])


@pytest.mark.parametrize("content", [b"", b" \n\t\r\n"], ids=["zero-bytes", "whitespace"])
def test_an_empty_file_is_refused_by_name(tmp_path, content):
    empty = tmp_path / "report.pdf"
    empty.write_bytes(content)

    with pytest.raises(EmptyReportError) as raised:
        extract_pdf_text(empty)
    assert raised.value.path == empty
    with pytest.raises(EmptyReportError) as raised:
        extract_pdf_text(content)
    assert raised.value.path is None


def test_threads_can_extract_at_the_same_time():
    documents = [
        build_pdf(*[[Text(72, 770, f"Document {number}, page {page}.")] for page in range(4)])
        for number in range(8)
    ]
    expected = [extract_pdf_text(document) for document in documents]

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(extract_pdf_text, documents * 3)) == expected * 3


# -- the report corpus -----------------------------------------------------------------------------

# A paragraph number or bullet at the start of a line. Lines are compared without them, so that a
# marker on a line of its own and one at the start of its paragraph's first line compare alike.
LIST_MARKER = re.compile(r"^\s*(?:\d{1,3}(?:\.\d{1,3})*\.?|[\ue000-\uf8ff•◼▪●■–-])(?:\s+|$)")
needs_corpus = pytest.mark.skipif(not (CORPUS / "pdf").is_dir(), reason=f"no report corpus at {CORPUS}")


@dataclass(frozen=True)
class Line:
    key: str  # letters and digits only
    after_break: bool  # an empty line (or the page start) comes before it
    page: int


def comparable_lines(text: str) -> list[Line]:
    """The lines of a text that have letters or digits once a leading list marker is taken off."""
    lines = []
    for page_number, page in enumerate(text.split("\f"), start=1):
        after_break = True
        for line in page.split("\n"):
            key = "".join(char for char in LIST_MARKER.sub("", line) if char.isalnum())
            if not line.strip():
                after_break = True
            elif key:
                lines.append(Line(key, after_break, page_number))
                after_break = False
    return lines


def paragraph_breaks_found(text: list[Line], reference: list[Line]) -> tuple[int, int]:
    """How many of `reference`'s paragraph breaks inside a page, before lines both have, `text` has too."""
    matcher = difflib.SequenceMatcher(
        None, [line.key for line in text], [line.key for line in reference], autojunk=False
    )
    found = total = 0
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            text_index, reference_index = block.a + offset, block.b + offset
            if (
                reference_index
                and reference[reference_index].after_break
                and reference[reference_index - 1].page == reference[reference_index].page
            ):
                total += 1
                found += text[text_index].after_break
    return found, total


def findings(text: str) -> list[str]:
    """The paragraphs the layout parser finds in a report's text, letters and digits only, lowercased."""
    paragraphs = [block for block in parse_layout(text).blocks if block.role == "paragraph"]
    return ["".join(char for char in block.text.lower() if char.isalnum()) for block in paragraphs]


@functools.cache
def corpus_extraction(report: str) -> tuple[str, str]:
    """Our text of a corpus report and its pdftotext twin (extracted once); speed is bench_segmentation's."""
    ours = extract_pdf_text(CORPUS / "pdf" / f"{report}.pdf")
    return ours, (CORPUS / "text" / f"{report}.txt").read_text(encoding="utf-8")


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("report", CORPUS_REPORTS)
def test_corpus_page_count_matches_pdftotext(report):
    ours, twin = corpus_extraction(report)

    assert ours.count("\f") == twin.count("\f")


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("report", CORPUS_REPORTS)
def test_corpus_lines_agree_with_pdftotext(report):
    ours, twin = corpus_extraction(report)
    our_keys = [line.key for line in comparable_lines(ours)]
    twin_keys = [line.key for line in comparable_lines(twin)]

    assert difflib.SequenceMatcher(None, our_keys, twin_keys, autojunk=False).ratio() >= 0.98


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("report", CORPUS_REPORTS)
def test_corpus_has_pdftotexts_paragraph_breaks_and_no_others(report):
    ours, twin = (comparable_lines(text) for text in corpus_extraction(report))
    twins_found, twins_total = paragraph_breaks_found(ours, twin)
    ours_found, ours_total = paragraph_breaks_found(twin, ours)

    assert twins_found >= 0.98 * twins_total
    assert ours_found >= 0.98 * ours_total


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("report", CORPUS_REPORTS)
def test_corpus_findings_agree_with_pdftotexts(report):
    """The layout parser finds as many findings in our text as in pdftotext's, nearly all the same."""
    ours, twin = (findings(text) for text in corpus_extraction(report))

    assert len(ours) == len(twin)
    assert sum(our == their for our, their in zip(ours, twin)) >= 0.97 * len(twin)


