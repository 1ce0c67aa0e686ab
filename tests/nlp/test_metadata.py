"""Report metadata: hand-written snippets of every report shape, arbitrary text, and the corpus.

The corpus tests parse all reports of `../shared/corpus` and compare with `reports.jsonl`; they skip
when the corpus is not beside the repository.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.metadata import ReportMetadata, parse_report_metadata

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
SEED = CORPUS.parent / "seed" / "wigan-2017-sif.seed.txt"

GRADES = {
    "outstanding",
    "good",
    "requires improvement to be good",
    "inadequate",
    "not judged",
    "adequate",
}
NOT_REPORTED = "not reported (post-April 2026 framework)"

RI = "requires improvement to be good"

# --------------------------------------------------------------------------------------------
# Hand-written snippets
# --------------------------------------------------------------------------------------------

SIF_SCRAMBLED = """London Borough of Barking and
Dagenham
Inspection of services for children in need of help and
protection, children looked after and care leavers
and
Review of the effectiveness of the local safeguarding children
board1
Inspection date: 29 April – 22 May 2014
Report published: 7 July 2014
The overall judgement is requires improvement

There are no widespread or serious failures that create or leave children being
harmed or at risk of harm.
1. Children who need help and protection

requires
improvement

2. Children looked after and achieving permanence

good

2.1 Adoption performance
2.2 Experiences and progress of care leavers
3. Leadership, management and governance

outstanding
inadequate
requires
improvement

The effectiveness of the Local Safeguarding Children Board (LSCB) is
good
The LSCB is not yet demonstrating the characteristics of outstanding.
\f
Summary of key findings
"""

SIF_WITH_LSCB_IN_BODY = """Wigan
Inspection of services for children in need of help and protection, children
looked after and care leavers
and
Review of the effectiveness of the Local Safeguarding Children Board1
Inspection date: 16 January 2017–9 February 2017
Report published: 31 March 2017

Children’s services in Wigan are good
1. Children who need help and protection

Requires improvement

2. Children looked after and achieving
permanence

Good

2.1 Adoption performance

Outstanding

2.2 Experiences and progress of care leavers

Good

3. Leadership, management and governance

Good
\f
Executive summary
Services for children have significantly improved.
\f
The Local Safeguarding Children Board (LSCB)
The Local Safeguarding Children Board requires improvement
Executive summary
"""

# A PDF library that writes a table row on one line, with CRLF line ends and a page number first.
SIF_ROW_PER_LINE = (
    "1\r\nEast Sussex County Council\r\n"
    "Inspection of services for children in need of help and \r\n"
    "protection, children looked after and care leavers\r\nand\r\n"
    "Review of the effectiveness of the local safeguarding children \r\nboard1\r\n"
    "Inspection date: 14 January 2014- 5 February 2014\r\n"
    "The overall judgement is good \r\n"
    "1. Children who need help and protection Good\r\n"
    "2. Children looked after and achieving permanence Good\r\n"
    "2.1 Adoption performance Outstanding\r\n"
    "2.2 Experiences and progress of care leavers\r\nRequires \r\nImprovement\r\n"
    "3. Leadership, management and governance Good\r\n"
    "The effectiveness of the Local Safeguarding Children Board (LSCB) is \r\ngood.\r\n"
    "The LSCB coordinates the activity of statutory partners.\r\n"
)

SIF_REINSPECTION = """Surrey County Council
Re-inspection of services for children in need of help and
protection, children looked after and care leavers
Inspection date: 26 February 2018–22 March 2018
Report published: 16 May 2018

Children’s services in Surrey are inadequate
1. Children who need help and protection

Inadequate

2. Children looked after and achieving
permanence

Requires Improvement

2.1 Adoption performance

Good

2.2 Experiences and progress of care leavers

Requires Improvement

3. Leadership, management and governance

Inadequate
\f
At the last inspection the Local Safeguarding Children Board is inadequate was reported.
"""

ILACS_2019 = """London Borough of Newham
Inspection of children’s social care services
Inspection dates: 11 February 2019 to 22 February 2019
Lead inspector: Dawn Godfrey
Her Majesty’s Inspector
Judgement

Grade

The impact of leaders on social work practice with children
and families

Inadequate

The experiences and progress of children who need help and
protection

Requires improvement

The experiences and progress of children in care and care
leavers

Inadequate

Overall effectiveness

Inadequate

There has been a significant deterioration in children’s services since the
previous inspection in 2014.
"""

ILACS_2025 = """Inspection of Kent County Council
children’s services
Inspection dates: 3 to 7 November 2025
Lead inspector: Steve Lowe, His Majesty’s Inspector
Judgement

Grade

The impact of leaders on social work
practice with children and families

Good

The experiences and progress of
children who need help and protection

Good

The experiences and progress of
children in care

Outstanding

The experiences and progress of
children care leavers

Requires improvement to be good

Overall effectiveness

Good

Good practice is seen across the service.
"""

ILACS_2026 = """Inspection of Trafford local authority
children’s services
Inspection dates: 8 June 2026 to 19 June 2026
Lead inspector: Leanne Cooper, His Majesty’s Inspector
Judgement

Grade

The impact of leaders on social work
practice with children and families

Inadequate

The experiences and progress of
children who need help and protection

Inadequate

The experiences and progress of
children in care

Good

The experiences and progress of care
leavers

Requires improvement to be good

Since the previous inspection in 2022, leaders have been ineffective.
"""

LAC_2013 = """Inspection of looked after children
services
Norfolk County Council

Inspection dates:

8 – 12 July 2013

Reporting inspector Gary Lamb HMI

Age group:
Published:

All
16 August 2013
\f
All inspection judgements are made using the following four point scale.
Outstanding (Grade 1) A service that significantly exceeds
minimum requirements
\f
Overall effectiveness of services for looked
after children and young people
Grade 4 (inadequate)
8.
Capacity to improve
Grade 3 (adequate)
11. The local authority does not have a track record of improving services.
Outcomes for looked after children and young
people
Grade 4 (inadequate)
16. Overall outcomes for looked after children are inadequate.
Quality of provision
Grade 2 (good)
50. The quality of provision is good.
Leadership and management
Grade 4 (inadequate)
61. Leadership and management are inadequate.
"""

LSCB_REVIEW = """Surrey Safeguarding Children Board
Review of the effectiveness of the Local Safeguarding Children
Board
Inspection date: 15 June 2015 – 17 June 2015
Report published: 3 August 2015
The Local Safeguarding Children Board requires improvement
The arrangements in place to evaluate the effectiveness of what is done by the
authority and board partners require improvement.
"""

# The lossy extraction dropped the numbered table labels; the section headings in the body remain.
# Earlier grades are recalled as a list in the body, past the summary page.
SIF_WITHOUT_TABLE_LABELS = """Wigan
Inspection of services for children in need of help and protection, children
looked after and care leavers
Inspection date: 16 January 20179 February 2017
Report published: 31 March 2017

Childrens services in Wigan are good

Requires improvement

permanence

Good

Outstanding

Good

Good

Executive summary
{summary}
At the last inspection the judgements were: children who need help and protection: inadequate
children looked after and achieving permanence: inadequate adoption performance: good.

The experiences and progress of children
who need help and protection

Requires improvement

Summary
Services for children who are in need of help and protection are improving.

The experiences and progress of children
looked after and achieving permanence

Good

Summary
The graded judgement for adoption performance is that it is outstanding
Children are matched with adopters quickly.

The graded judgement about the experience and progress of care leavers is that it is good
Care leavers are supported well.

Leadership, management and governance

Good

Summary
""".format(summary="Services for children have improved since the last inspection.\n" * 100)


def test_sif_scrambled_columns_pair_labels_and_grades_in_order():
    report = parse_report_metadata(SIF_SCRAMBLED)
    assert report.framework == "SIF"
    assert report.local_authority == "Barking and Dagenham"
    assert report.overall_judgement == RI
    assert report.judgements == {
        "help_and_protection": RI,
        "looked_after_and_permanence": "good",
        "adoption": "outstanding",
        "care_leavers": "inadequate",
        "leadership_management_governance": RI,
        "lscb": "good",
    }


def test_sif_dates_and_publication():
    report = parse_report_metadata(SIF_SCRAMBLED)
    assert report.inspection_dates == "29 April – 22 May 2014"
    assert report.inspection_start == datetime.date(2014, 4, 29)
    assert report.inspection_end == datetime.date(2014, 5, 22)
    assert report.published == datetime.date(2014, 7, 7)


def test_sif_lscb_sentence_far_into_the_report():
    report = parse_report_metadata(SIF_WITH_LSCB_IN_BODY)
    assert report.local_authority == "Wigan"
    assert report.overall_judgement == "good"
    assert report.judgements == {
        "help_and_protection": RI,
        "looked_after_and_permanence": "good",
        "adoption": "outstanding",
        "care_leavers": "good",
        "leadership_management_governance": "good",
        "lscb": RI,
    }
    assert report.inspection_dates == "16 January 2017–9 February 2017"


def test_sif_row_per_line_layout_with_crlf_and_split_grade():
    report = parse_report_metadata(SIF_ROW_PER_LINE)
    assert report.local_authority == "East Sussex"
    assert report.overall_judgement == "good"
    assert report.published is None
    assert report.judgements == {
        "help_and_protection": "good",
        "looked_after_and_permanence": "good",
        "adoption": "outstanding",
        "care_leavers": RI,
        "leadership_management_governance": "good",
        "lscb": "good",
    }


def test_sif_reinspection_has_no_lscb_grade():
    report = parse_report_metadata(SIF_REINSPECTION)
    assert report.framework == "SIF"
    assert report.overall_judgement == "inadequate"
    assert "lscb" not in report.judgements
    assert report.judgements["looked_after_and_permanence"] == RI


def test_ilacs_joint_children_in_care_and_care_leavers():
    report = parse_report_metadata(ILACS_2019)
    assert report.framework == "ILACS"
    assert report.local_authority == "Newham"
    assert report.overall_judgement == "inadequate"
    assert report.judgements == {
        "impact_of_leaders": "inadequate",
        "help_and_protection": RI,
        "children_in_care_and_care_leavers": "inadequate",
        "overall_effectiveness": "inadequate",
    }
    assert report.inspection_start == datetime.date(2019, 2, 11)
    assert report.inspection_end == datetime.date(2019, 2, 22)
    assert report.published is None


def test_ilacs_separate_children_in_care_and_care_leavers_and_prose_opening_with_a_grade_word():
    report = parse_report_metadata(ILACS_2025)
    assert report.local_authority == "Kent"
    assert report.judgements == {
        "impact_of_leaders": "good",
        "help_and_protection": "good",
        "children_in_care": "outstanding",
        "care_leavers": RI,
        "overall_effectiveness": "good",
    }
    assert report.overall_judgement == "good"


def test_ilacs_2026_without_overall_grade():
    report = parse_report_metadata(ILACS_2026)
    assert report.overall_judgement == NOT_REPORTED
    assert "overall_effectiveness" not in report.judgements
    assert report.judgements["care_leavers"] == RI


def test_ilacs_without_overall_row_before_2026_is_unknown_not_post_2026():
    text = ILACS_2026.replace("8 June 2026 to 19 June 2026", "8 June 2024 to 19 June 2024")
    assert parse_report_metadata(text).overall_judgement is None


def test_lac_2013_inspection():
    report = parse_report_metadata(LAC_2013)
    assert report.framework == "other"
    assert report.local_authority == "Norfolk"
    assert report.inspection_dates == "8 – 12 July 2013"
    assert report.published == datetime.date(2013, 8, 16)
    assert report.overall_judgement == "inadequate"
    assert report.judgements == {
        "overall_effectiveness_of_services_for_looked_after_children_and_young_people": "inadequate",
        "capacity_to_improve": "adequate",
        "outcomes_for_looked_after_children_and_young_people": "inadequate",
        "quality_of_provision": "good",
        "leadership_and_management": "inadequate",
    }


def test_lscb_only_review():
    report = parse_report_metadata(LSCB_REVIEW)
    assert report.framework == "other"
    assert report.local_authority == "Surrey"
    assert report.judgements == {"lscb": RI}
    assert report.overall_judgement == RI


def test_lossy_text_falls_back_to_body_headings_and_ignores_lists_of_earlier_grades():
    report = parse_report_metadata(SIF_WITHOUT_TABLE_LABELS)
    assert report.overall_judgement == "good"
    assert report.judgements == {
        "help_and_protection": RI,
        "looked_after_and_permanence": "good",
        "adoption": "outstanding",
        "care_leavers": "good",
        "leadership_management_governance": "good",
    }
    assert report.inspection_start == datetime.date(2017, 1, 16)
    assert report.inspection_end == datetime.date(2017, 2, 9)


def test_hyphenated_line_breaks_are_rejoined():
    text = ILACS_2019.replace("Requires improvement", "Requires improve-\nment").replace(
        "Overall effectiveness", "Overall effective-\nness"
    )
    assert parse_report_metadata(text).judgements == parse_report_metadata(ILACS_2019).judgements


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("London Borough of Newham\nInspection of children’s social care services", "Newham"),
        (
            "Royal Borough of Kensington and\nChelsea\nInspection of children’s social care services",
            "Kensington and Chelsea",
        ),
        (
            "City of Bradford Metropolitan District\nCouncil\nInspection of children’s social care services",
            "Bradford",
        ),
        ("City of London\nInspection of children’s social care services", "City of London"),
        ("Inspection of City of York Council local\nauthority children’s services", "York"),
        ("Inspection of Stockton-on-Tees local\nauthority children’s services", "Stockton-on-Tees"),
        (
            "Inspection of the Royal Borough of\nWindsor and Maidenhead local\nauthority children’s services",
            "Windsor & Maidenhead",
        ),
        ("Inspection of Hull local authority\nchildren’s services", "Kingston upon Hull"),
        ("Newcastle Upon Tyne\nInspection of children’s social care services", "Newcastle upon Tyne"),
        (
            "St. Helens Metropolitan Borough\nCouncil\nInspection of children’s social care services",
            "St Helens",
        ),
        ("Council of the Isles of Scilly\nInspection of children’s social care services", "Isles of Scilly"),
        ("Derby City\nInspection of children’s social care services", "Derby"),
        ("Inspection of Bradford Children and\nFamilies Trust", "Bradford"),
    ],
)
def test_local_authority_names_follow_the_register(heading, expected):
    report = parse_report_metadata(f"{heading}\nInspection dates: 3 to 7 June 2024\n")
    assert report.local_authority == expected


@pytest.mark.parametrize(
    ("printed", "start", "end"),
    [
        ("29 April – 22 May 2014", (2014, 4, 29), (2014, 5, 22)),
        ("5 to 9 December 2022 and 14 to 15 February 2023", (2022, 12, 5), (2023, 2, 15)),
        ("12/09/2016 to 06/10/2016", (2016, 9, 12), (2016, 10, 6)),
        ("18 Feb 2014 – 12 March 2014", (2014, 2, 18), (2014, 3, 12)),
        ("28 July 2016", (2016, 7, 28), (2016, 7, 28)),
        # The lossy seed extraction dropped the dash between the two dates.
        ("16 January 20179 February 2017", (2017, 1, 16), (2017, 2, 9)),
    ],
)
def test_inspection_date_ranges(printed, start, end):
    report = parse_report_metadata(f"Inspection dates: {printed}\nLead inspector: A Person\n")
    assert report.inspection_dates == printed
    assert report.inspection_start == datetime.date(*start)
    assert report.inspection_end == datetime.date(*end)


def test_impossible_dates_give_none():
    report = parse_report_metadata(
        "Inspection dates: 31 February 2020 to 45/13/2020\nReport published: 30/02/2015"
    )
    assert report.inspection_start is None
    assert report.inspection_end is None
    assert report.published is None


def test_to_dict_is_json_serialisable_with_iso_dates():
    record = parse_report_metadata(SIF_SCRAMBLED).to_dict()
    assert json.loads(json.dumps(record)) == record
    assert record["inspection_start"] == "2014-04-29"
    assert record["published"] == "2014-07-07"
    assert set(record) == {
        "local_authority",
        "framework",
        "inspection_dates",
        "inspection_start",
        "inspection_end",
        "published",
        "overall_judgement",
        "judgements",
    }


@pytest.mark.parametrize("text", ["", "   \n\f\n", "Good good good. Requires improvement.", "\x00\ufffd"])
def test_text_that_is_no_report_gives_nothing(text):
    assert parse_report_metadata(text) == ReportMetadata(
        local_authority=None,
        framework="other",
        inspection_dates=None,
        inspection_start=None,
        inspection_end=None,
        published=None,
        overall_judgement=None,
        judgements={},
    )


REPORT_FRAGMENTS = st.sampled_from(
    [
        "Inspection of services for children in need of help and protection",
        "Inspection of children's social care services",
        "Inspection of looked after children services",
        "Review of the effectiveness of the Local Safeguarding Children Board",
        "Inspection dates: ",
        "Inspection date:",
        "Report published: ",
        "Published:",
        "1. Children who need help and protection",
        "2.1 Adoption performance",
        "The experiences and progress of children in care",
        "The impact of leaders on social work practice",
        "Overall effectiveness",
        "Grade 4 (",
        "Requires\nimprovement",
        "Good",
        "outstanding",
        "not judged",
        "Children’s services in ",
        "The overall judgement is",
        "London Borough of ",
        " to ",
        "–",
        "-\n",
        "29",
        "2026",
        "/",
        "February",
        "\f",
        "\n",
        ". ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text):
    assert isinstance(parse_report_metadata(text), ReportMetadata)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(REPORT_FRAGMENTS, st.text(max_size=8)), max_size=40).map("".join))
def test_report_like_text_never_raises_and_gives_known_values(text):
    report = parse_report_metadata(text)
    assert report.framework in {"SIF", "ILACS", "other"}
    assert set(report.judgements.values()) <= GRADES
    assert report.overall_judgement in GRADES | {NOT_REPORTED, None}
    json.dumps(report.to_dict())


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_records() -> list[dict]:
    if not (CORPUS / "reports.jsonl").exists():
        pytest.skip(f"report corpus not found at {CORPUS}")
    with open(CORPUS / "reports.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def corpus_texts(corpus_records) -> dict[str, str]:
    return {
        record["id"]: (CORPUS / "text" / f"{record['id']}.txt").read_text(encoding="utf-8")
        for record in corpus_records
    }


@pytest.fixture(scope="module")
def corpus_parsed(corpus_texts) -> dict[str, ReportMetadata]:
    return {report_id: parse_report_metadata(text) for report_id, text in corpus_texts.items()}


def _mismatches(records, parsed, field_name):
    return [
        (record["id"], record[field_name], getattr(parsed[record["id"]], field_name))
        for record in records
        if getattr(parsed[record["id"]], field_name) != record[field_name]
    ]


@pytest.mark.corpus
@pytest.mark.parametrize("field_name", ["judgements", "overall_judgement", "local_authority", "framework"])
def test_corpus_matches_reports_jsonl(corpus_records, corpus_parsed, field_name):
    assert len(corpus_records) == 391
    assert _mismatches(corpus_records, corpus_parsed, field_name) == []


@pytest.mark.corpus
def test_corpus_inspection_dates_as_printed(corpus_records, corpus_texts, corpus_parsed):
    """reports.jsonl keeps only the first line of a range printed over two lines; the parser keeps all."""
    wrong = []
    for record in corpus_records:
        expected, parsed = record["inspection_dates"], corpus_parsed[record["id"]].inspection_dates
        continued = parsed is not None and parsed.startswith(expected)
        continuation = f"{expected}\n{parsed[len(expected) :].lstrip()}" if continued else None
        if parsed != expected and (continuation is None or continuation not in corpus_texts[record["id"]]):
            wrong.append((record["id"], expected, parsed))
    assert wrong == []


@pytest.mark.corpus
def test_corpus_dates_are_consistent(corpus_records, corpus_parsed):
    for record in corpus_records:
        report = corpus_parsed[record["id"]]
        published = datetime.date.fromisoformat(record["published"])
        assert report.inspection_start <= report.inspection_end <= published, record["id"]
        assert report.published in (None, published), record["id"]


@pytest.mark.corpus
def test_corpus_publication_dates_where_printed(corpus_records, corpus_parsed):
    printed = [record for record in corpus_records if corpus_parsed[record["id"]].published is not None]
    # Every SIF, 2013 and LSCB report prints it on its cover except 11 early SIF reports and Slough
    # 2013, whose cover gives an earlier partial publication instead.
    assert len(printed) == 123
    assert all(corpus_parsed[record["id"]].published.isoformat() == record["published"] for record in printed)


def _layout_variants(text: str) -> dict[str, str]:
    return {
        "crlf": text.replace("\n", "\r\n"),
        "one line": text.replace("\n", " "),
        "no blank lines": re.sub(r"\n\s*\n", "\n", text),
        "ascii only": text.encode("ascii", "ignore").decode(),
        # Words broken at the end of a line, as a justified layout would.
        "hyphenated": re.sub(r"(?m)\b([a-z]{3,})([a-z]{3,})$", "\\1-\n\\2", text),
    }


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_layout_variants_parse_the_same(corpus_records, corpus_texts):
    wrong = []
    for record in corpus_records:
        for variant, text in _layout_variants(corpus_texts[record["id"]]).items():
            report = parse_report_metadata(text)
            for field_name in ("judgements", "overall_judgement", "local_authority", "framework"):
                if getattr(report, field_name) != record[field_name]:
                    wrong.append((record["id"], variant, field_name))
    assert wrong == []


@pytest.mark.corpus
def test_seed_extraction_matches_the_full_text(corpus_records):
    if not SEED.exists():
        pytest.skip(f"seed text not found at {SEED}")
    record = next(record for record in corpus_records if record["id"] == "wigan-2017-sif")
    report = parse_report_metadata(SEED.read_text(encoding="utf-8"))
    for field_name in ("judgements", "overall_judgement", "local_authority", "framework"):
        assert getattr(report, field_name) == record[field_name]
    assert report.inspection_start == datetime.date(2017, 1, 16)
    assert report.inspection_end == datetime.date(2017, 2, 9)
    assert report.published == datetime.date(2017, 3, 31)


@pytest.mark.corpus
def test_pdf_library_text_matches(corpus_records):
    pdfium = pytest.importorskip("pypdfium2")
    pdfs = sorted((CORPUS / "pdf").glob("*.pdf"))
    if not pdfs:
        pytest.skip("no PDFs in the corpus")
    records = {record["id"]: record for record in corpus_records}
    for path in pdfs:
        document = pdfium.PdfDocument(path)
        try:
            text = "\f".join(page.get_textpage().get_text_range() for page in document)
        finally:
            document.close()
        report = parse_report_metadata(text)
        record = records[path.stem]
        for field_name in (
            "judgements",
            "overall_judgement",
            "local_authority",
            "framework",
            "inspection_dates",
        ):
            assert getattr(report, field_name) == record[field_name], (path.stem, field_name)
