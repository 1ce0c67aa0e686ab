"""Report metadata read from the text of an Ofsted children's services inspection report.

`parse_report_metadata` turns the whole extracted text of one report (pages separated by form
feeds) into a `ReportMetadata`: local authority, inspection framework, inspection dates, the
publication date when the report prints it, the overall judgement and the graded judgement areas,
keyed and worded as in the corpus metadata (`reports.jsonl`; area ids as in `nlp.taxonomy`).

The reports come in four shapes, each with its own grade table:

* SIF (2013-2018): "1. Children who need help and protection ... 2.1 Adoption performance ...",
  an overall sentence ("Children's services in Wigan are good") and, when the Local Safeguarding
  Children Board was reviewed, an LSCB sentence ("The Local Safeguarding Children Board is good"),
  often far into the report;
* ILACS (2018-): a "Judgement / Grade" table, with an "Overall effectiveness" row until the
  framework of April 2026 dropped the overall grade;
* the 2013 inspections of looked-after children services ("Record of main findings");
* the one stand-alone LSCB review.

Extractors lay these tables out differently: pdftotext may print every label first and every grade
after ("scrambled" columns), other libraries put a row on one line, split "Requires / improvement"
over two lines or hyphenate. So the parser does not rely on lines. It flattens the text and, near
the top, reads runs of labels and grades that follow each other with only numbering and punctuation
between them, pairing the n-th label of a run with its n-th grade. Areas still missing are then
taken from statements in the body ("The experiences and progress of children in care: Good",
"The graded judgement for adoption performance is that it is outstanding"), which also carries
lossy extractions that dropped the table labels. Nothing here raises: text that is no report gives
`None`s and an empty `judgements`.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from .report_formats import (
    GRADE_TOKEN,
    GRADE_WORDS_IN_SENTENCE,
    HEAD_CHARACTERS,
    OTHER,
    ReportFormat,
    flatten,
    grade_id,
    identify_format,
)

NOT_REPORTED = "not reported (post-April 2026 framework)"

# ---------------------------------------------------------------------------------------------
# Grade tables (labels per kind of report: `nlp.report_formats`)
# ---------------------------------------------------------------------------------------------

_GRADE_WORD = re.compile(rf"\b({GRADE_WORDS_IN_SENTENCE})\b", re.IGNORECASE)


def _grade_in(token: str) -> str:
    match = _GRADE_WORD.search(token)
    return grade_id(match.group(1)) if match else ""


# Between the cells of one table run: whitespace, numbering ("2.", "2.1"), footnote marks and
# punctuation. A full stop may end a label ("children and families."), but after a grade it ends a
# sentence ("The LSCB is good. The LSCB coordinates ..."), and the table with it.
_GAP_AFTER_LABEL = re.compile(r"(?:[\s:;,.|()\-\u2013]++|\d++)*+")
_GAP_AFTER_GRADE = re.compile(r"(?:[\s:;,|()\-\u2013]++|\d++(?:\.\d+)*+\.?)*+")
_LONGEST_TABLE_GAP = 16
# A statement in the body puts its grade straight after the label, in the same sentence.
_GRADE_AFTER_LABEL = re.compile(rf"[\s:\-\u2013]{{0,4}}({GRADE_TOKEN})(?!\w)")
# A grade just before a statement's label makes it part of a list.
_ENDS_WITH_GRADE = re.compile(rf"(?<!\w)(?:{GRADE_TOKEN})[\s:;,|()\-\u2013\d]{{0,{_LONGEST_TABLE_GAP}}}$")


def _alternatives(labels: dict[str, str], with_grade: bool) -> re.Pattern[str]:
    """One pattern for the labels (group `a<i>` for the i-th area) and optionally the grade.

    The word-boundary checks sit outside the alternation so that most positions fail at once.
    """
    groups = [rf"(?P<a{index}>{pattern})" for index, pattern in enumerate(labels.values())]
    if with_grade:
        groups.append(rf"(?P<grade>{GRADE_TOKEN})")
    return re.compile(rf"(?<!\w)(?:{'|'.join(groups)})(?!\w)")


@functools.cache
def _table_tokens(report_format: ReportFormat) -> re.Pattern[str]:
    return _alternatives(report_format.grade_table, with_grade=True)


@functools.cache
def _next_pair(report_format: ReportFormat) -> re.Pattern[str]:
    """A grade, or a label and its grade, straight after a statement: the next item of a list."""
    label = "|".join(f"(?:{pattern})" for pattern in report_format.grade_table.values())
    grade_after_label = rf"(?:{label})(?!\w){_GAP_AFTER_LABEL.pattern}{GRADE_TOKEN}"
    return re.compile(rf"{_GAP_AFTER_GRADE.pattern}(?:{GRADE_TOKEN}|{grade_after_label})(?!\w)")


@functools.lru_cache(maxsize=64)
def _statement_labels(report_format: ReportFormat, areas: frozenset[str]) -> tuple[tuple[str, ...], re.Pattern[str]]:
    """Areas and label pattern for just the areas a body scan still looks for."""
    labels = {area: pattern for area, pattern in report_format.grade_table.items() if area in areas}
    return tuple(labels), _alternatives(labels, with_grade=False)


def _table_runs(head: str, report_format: ReportFormat) -> Iterator[list[tuple[str, str]]]:
    """Runs of ("label", area) / ("grade", grade) cells that adjoin each other, in text order."""
    areas = tuple(report_format.grade_table)
    run: list[tuple[str, str]] = []
    previous_end = 0
    for match in _table_tokens(report_format).finditer(head):
        if run and not _adjoins(head, previous_end, match.start(), after_grade=run[-1][0] == "grade"):
            yield run
            run = []
        if match.lastgroup == "grade":
            run.append(("grade", _grade_in(match.group())))
        else:
            run.append(("label", areas[int(match.lastgroup[1:])]))
        previous_end = match.end()
    if run:
        yield run


def _adjoins(text: str, gap_start: int, gap_end: int, after_grade: bool) -> bool:
    gap = _GAP_AFTER_GRADE if after_grade else _GAP_AFTER_LABEL
    return gap_end - gap_start <= _LONGEST_TABLE_GAP and gap.fullmatch(text, gap_start, gap_end) is not None


def _pairs(run: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(area, grade) pairs of a run: the n-th label takes the n-th grade.

    Extractors keep the row order of each column even when they print one column after the other,
    so this holds for scrambled tables too. Grades ahead of the first label end the sentence before
    the table ("Children's services in Barnet are inadequate") when they are exactly the surplus,
    and labels at the end of a run have no grade. A run whose counts still differ lost cells: there
    a label keeps the grade right after it only where labels and grades alternate.
    """
    while run and run[-1][0] == "label":
        run = run[:-1]
    labels = [value for kind, value in run if kind == "label"]
    grades = [value for kind, value in run if kind == "grade"]
    leading_grades = next((index for index, (kind, _) in enumerate(run) if kind == "label"), len(run))
    if labels and leading_grades == len(grades) - len(labels):
        return list(zip(labels, grades[leading_grades:]))
    return [
        (value, run[index + 1][1])
        for index, (kind, value) in enumerate(run[:-1])
        if kind == "label" and run[index + 1][0] == "grade" and _alternates_at(run, index)
    ]


def _alternates_at(run: list[tuple[str, str]], index: int) -> bool:
    """Whether the label at `index` and the grade after it sit in an alternating stretch."""
    before = run[index - 1][0] if index > 0 else "grade"
    after = run[index + 2][0] if index + 2 < len(run) else "label"
    return before == "grade" or after == "label"


def _table_judgements(head: str, report_format: ReportFormat) -> dict[str, str]:
    """Area -> grade from the tables near the top; the first grade of an area wins."""
    judgements: dict[str, str] = {}
    for run in _table_runs(head, report_format):
        for area, grade in _pairs(run):
            judgements.setdefault(area, grade)
    return judgements


def _stated_judgements(text: str, report_format: ReportFormat, areas: frozenset[str]) -> dict[str, str]:
    """Area -> grade from the first body statement that grades each of `areas`."""
    judgements: dict[str, str] = {}
    if not areas:
        return judgements
    names, labels = _statement_labels(report_format, areas)
    for match in labels.finditer(text):
        area = names[int(match.lastgroup[1:])]
        grade = _GRADE_AFTER_LABEL.match(text, match.end())
        if grade and area not in judgements and _stands_alone(text, match.start(), grade.end(), report_format):
            judgements[area] = _grade_in(grade.group(1))
            if len(judgements) == len(areas):
                break
    return judgements


def _stands_alone(text: str, start: int, end: int, report_format: ReportFormat) -> bool:
    """Whether a label-and-grade statement is no item of a list.

    Reports recall the grades of earlier inspections as lists ("children who need help and
    protection: inadequate children looked after ...: good"); a heading stands on its own.
    """
    before = text[max(0, start - 2 * _LONGEST_TABLE_GAP) : start]
    return not _ENDS_WITH_GRADE.search(before) and not _next_pair(report_format).match(text, end)


def _ungraded_here(report_format: ReportFormat, matching_head: str) -> set[str]:
    """Areas this kind of report grades only when its first page says so, and this one does not."""
    return {area for area, title in report_format.areas_graded_only_with_title.items() if not title.search(matching_head)}


def _areas_still_graded(report_format: ReportFormat, found: dict[str, str], ungraded: set[str]) -> frozenset[str]:
    """The areas of this kind of report that no table gave and the body may still grade."""
    missing = set(report_format.grade_table) - set(found) - ungraded
    for area in found:
        missing -= set(report_format.exclusive_areas.get(area, ()))
    return frozenset(missing)


def _judgements(matching: str, report_format: ReportFormat) -> dict[str, str]:
    ungraded = _ungraded_here(report_format, matching[:HEAD_CHARACTERS])
    table = _table_judgements(matching[:HEAD_CHARACTERS], report_format)
    judgements = {area: grade for area, grade in table.items() if area not in ungraded}
    missing = _areas_still_graded(report_format, judgements, ungraded)
    return judgements | _stated_judgements(matching, report_format, missing)


# ---------------------------------------------------------------------------------------------
# Local authority
# ---------------------------------------------------------------------------------------------

_FIRST_FIELD = re.compile(r"\b(?:inspection\s+dates?|report\s+published|lead\s+inspector)\b", re.IGNORECASE)
_LEADING_PAGE_NUMBER = re.compile(r"^\d+\s+")
_NAME_IN_HEADING = (
    re.compile(r"inspection of looked after children services (?P<name>.+)", re.IGNORECASE),
    re.compile(r"^(?P<name>.+?) (?:re-)?inspection of ", re.IGNORECASE),
    re.compile(r"^(?P<name>.+?) review of the effectiveness ", re.IGNORECASE),
    re.compile(
        r"^inspection of (?P<name>.+?)(?: local authority)?(?: children'?s services)?$", re.IGNORECASE
    ),
)
_AUTHORITY_PREFIX = re.compile(
    r"^(?:the |council of the |(?:london |royal |metropolitan )?borough of |city of (?!london\b))",
    re.IGNORECASE,
)
_AUTHORITY_SUFFIX = re.compile(
    r"(?: local authority| children'?s services| safeguarding children board\d*"
    r"| children and families trust| metropolitan| district| county| city| borough| council"
    r"| unitary authority| city of)$",
    re.IGNORECASE,
)
_LOWER_CASE_NAME_WORDS = re.compile(r"(?<=\S )(Upon|On|Of|And)\b")
# Ofsted's register of local authorities, which reports.jsonl follows, spells these differently
# from the report headings.
_REGISTER_SPELLINGS = {
    "windsor and maidenhead": "Windsor & Maidenhead",
    "telford and wrekin": "Telford & Wrekin",
    "east riding": "East Riding of Yorkshire",
    "hull": "Kingston upon Hull",
    "newcastle": "Newcastle upon Tyne",
}


def _heading(flat_head: str) -> str:
    """The title block: everything before the first "Inspection dates:"-style field."""
    field_match = _FIRST_FIELD.search(flat_head)
    heading = flat_head[: field_match.start()] if field_match else ""
    return _LEADING_PAGE_NUMBER.sub("", heading.strip())


def _strip_titles(name: str) -> str:
    """Drop titles: "London Borough of Newham" -> "Newham", "Bedford Borough Council" -> "Bedford"."""
    previous = None
    while name != previous:
        previous = name
        name = _AUTHORITY_PREFIX.sub("", name).strip()
        name = _AUTHORITY_SUFFIX.sub("", name).strip()
    return name


def _local_authority(flat_head: str) -> str | None:
    heading = _heading(flat_head)
    for pattern in _NAME_IN_HEADING:
        match = pattern.search(heading)
        if match:
            name = _strip_titles(match.group("name").strip(" ,")).replace("St. ", "St ")
            name = _LOWER_CASE_NAME_WORDS.sub(lambda word: word.group(1).lower(), name)
            return _REGISTER_SPELLINGS.get(name.lower(), name) or None
    return None


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

_MONTH_NAMES = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sept", "sep"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names}
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_NUMERIC_DATE = r"\d{1,2}/\d{1,2}/\d{2,4}"
_RANGE_PIECE = rf"(?:{_NUMERIC_DATE}|\d{{1,4}}|{_MONTH}|to|and|[-\u2013\u2014\u2500])"
_INSPECTION_DATES = re.compile(
    rf"inspection\s+dates?\s*:?\s*(?P<dates>(?:{_RANGE_PIECE}\s*)+)", re.IGNORECASE
)
_UP_TO_LAST_YEAR = re.compile(r"^.*(?:\d{4}|/\d{2})\b")
_PUBLISHED = re.compile(
    rf"published\s*:\s*(?:all\s+)?(?P<date>{_NUMERIC_DATE}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}})",
    re.IGNORECASE,
)
# A day, with month and year when printed: "29 April", "22 May 2014", "12/09/2016".
_DATE_PART = re.compile(
    rf"(?P<numeric>{_NUMERIC_DATE})|(?P<day>\d{{1,2}})(?!\d)(?:\s*(?P<month>{_MONTH}))?"
    rf"(?:\s*(?P<year>(?:19|20)\d{{2}}))?",
    re.IGNORECASE,
)
# Lossy extraction drops the dash of "2017–9 February"; a year never runs into a day.
_YEAR_RUN_INTO_DAY = re.compile(r"\b((?:19|20)\d{2})(?=\d)")

_DatePart = tuple[int, int | None, int | None]


def _inspection_dates(flat_head: str) -> str | None:
    """The inspection dates as printed, e.g. "29 April – 22 May 2014"."""
    match = _INSPECTION_DATES.search(flat_head)
    if not match:
        return None
    # The pattern also swallows a page number or day that follows the range; a range ends in a year.
    printed = _UP_TO_LAST_YEAR.match(match.group("dates").strip())
    return printed.group() if printed else None


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _date_parts(printed: str) -> Iterator[_DatePart]:
    """(day, month, year) of each date in a printed range; month and year may be missing."""
    for match in _DATE_PART.finditer(_YEAR_RUN_INTO_DAY.sub(r"\1 ", printed)):
        if match.group("numeric"):
            day, month, year = (int(number) for number in match.group("numeric").split("/"))
            yield day, month, year + 2000 if year < 100 else year
        else:
            month, year = match.group("month"), match.group("year")
            yield (
                int(match.group("day")),
                _MONTHS[month.lower().rstrip(".")] if month else None,
                int(year) if year else None,
            )


def _complete_date(parts: list[_DatePart], index: int) -> datetime.date | None:
    """The index-th date, borrowing month and year from later ones ("29 April – 22 May 2014")."""
    day, month, year = parts[index]
    for _, later_month, later_year in parts[index + 1 :]:
        month = month or later_month
        year = year or later_year
    if month is None or year is None:
        return None
    return _date(year, month, day)


def _date_range(printed: str) -> tuple[datetime.date | None, datetime.date | None]:
    """First and last day of a printed range of dates."""
    parts = list(_date_parts(printed))
    if not parts:
        return None, None
    return _complete_date(parts, 0), _complete_date(parts, len(parts) - 1)


def _published(flat_head: str) -> datetime.date | None:
    match = _PUBLISHED.search(flat_head)
    return _date_range(match.group("date"))[0] if match else None


# ---------------------------------------------------------------------------------------------
# Overall judgement
# ---------------------------------------------------------------------------------------------

def _overall_judgement(
    report_format: ReportFormat | None, judgements: dict[str, str], matching_head: str, start: datetime.date | None
) -> str | None:
    if report_format is None:
        return None
    if report_format.overall_sentence is not None:
        match = report_format.overall_sentence.search(matching_head)
        return grade_id(match.group("grade")) if match else None
    return judgements.get(report_format.overall_area) or _missing_overall(report_format, judgements, start)


def _missing_overall(report_format: ReportFormat, judgements: dict[str, str], start: datetime.date | None) -> str | None:
    """A graded report without an overall grade follows a framework that dropped it, if its kind had one."""
    dropped_from = report_format.overall_grade_dropped_from
    if dropped_from is not None and judgements and (start is None or start >= dropped_from):
        return NOT_REPORTED
    return None


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportMetadata:
    """What a report says about itself; fields the text does not give are None."""

    local_authority: str | None
    framework: str
    inspection_dates: str | None
    inspection_start: datetime.date | None
    inspection_end: datetime.date | None
    published: datetime.date | None
    overall_judgement: str | None
    judgements: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-serialisable form, dates as ISO strings."""
        record = asdict(self)
        for name in ("inspection_start", "inspection_end", "published"):
            if record[name] is not None:
                record[name] = record[name].isoformat()
        return record


def parse_report_metadata(text: str) -> ReportMetadata:
    """Read the metadata of one report from its whole extracted text."""
    flat = flatten(text)
    flat_head = flat[:HEAD_CHARACTERS]
    matching = flat.lower()
    matching_head = matching[:HEAD_CHARACTERS]
    report_format = identify_format(matching_head)
    judgements = _judgements(matching, report_format) if report_format else {}
    dates = _inspection_dates(flat_head)
    start, end = _date_range(dates) if dates else (None, None)
    return ReportMetadata(
        local_authority=_local_authority(flat_head),
        framework=report_format.framework if report_format else OTHER,
        inspection_dates=dates,
        inspection_start=start,
        inspection_end=end,
        published=_published(flat_head),
        overall_judgement=_overall_judgement(report_format, judgements, matching_head, start),
        judgements=judgements,
    )
