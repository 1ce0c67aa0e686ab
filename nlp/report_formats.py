"""What the package knows about how Ofsted prints its children's services reports, in one place.

Ingestion (`nlp.ingest`), PDF reading (`nlp.pdf`), layout (`nlp.layout`) and metadata
(`nlp.metadata`) all read their knowledge of the report formats from here: how a report is
recognised, the grade words, each framework's grade table, the headings of its sections and
judgement areas, and the furniture printed around the text. A new framework is one more
`ReportFormat` in `FORMATS` (and any new headings in `SECTION_HEADINGS`), not an edit in four
modules.

Patterns are written for *normalised* text: lower case, one space between words, straight
apostrophes (see `normalise_characters`). The layout matches them against one heading line at a time
(`fullmatch`), the metadata parser searches the whole flattened report with them.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from .taxonomy import KINDS

# --- characters ----------------------------------------------------------------------------------

# Bullets printed as symbols. Symbol fonts (Wingdings, Symbol) put theirs in the Private Use Area,
# which pdftotext passes on as is (U+F06E, U+F02D, U+F0A7 ...).
BULLET_SYMBOLS = "•◦▪▫■□◼◻●○►▶➢➤✓✔"
SYMBOL_FONT_GLYPHS = ("\ue000", "\uf8ff")
# Horizontal bars open list items in some templates, and stand between two dates in others.
BAR_BULLETS = "─―"
BULLET_CLASS = f"{BULLET_SYMBOLS}{BAR_BULLETS}{SYMBOL_FONT_GLYPHS[0]}-{SYMBOL_FONT_GLYPHS[1]}"
# Dashes and asterisks are list markers only where a PDF sets them apart as a glyph of their own; in
# extracted text the same characters are hyphens, minus signs and footnote marks.
DASH_BULLETS = "–-*"

# (character, replacement) pairs that make typographic variants compare equal.
_CHARACTER_FIXES = (
    ("\u2018", "'"),
    ("\u2019", "'"),
    ("\u02bc", "'"),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u00ad", ""),  # soft hyphen
    ("\u00a0", " "),
)
_DASH_FIXES = (("\u2013", "-"), ("\u2014", "-"))
_SYMBOL_BULLET = re.compile(f"[{BULLET_SYMBOLS}{SYMBOL_FONT_GLYPHS[0]}-{SYMBOL_FONT_GLYPHS[1]}]")
# A word broken by a hyphen at a line end ("improve-\nment") is one word when both sides are
# lower case; otherwise the hyphen belongs to a compound ("Stoke-on-\nTrent", "Stockton-\non-Tees").
_SOFT_HYPHEN_BREAK = re.compile(r"-(?<=[a-z]-)[ \t]*\r?\n\s*(?=[a-z])(?![a-z]+-)")
_HARD_HYPHEN_BREAK = re.compile(r"-[ \t]*\r?\n\s*")


def is_bullet_glyph(character: str, *, dashes: bool = False) -> bool:
    """Whether a single character is a list bullet (dashes and asterisks too when `dashes`)."""
    return (
        character in BULLET_SYMBOLS
        or character in BAR_BULLETS
        or SYMBOL_FONT_GLYPHS[0] <= character <= SYMBOL_FONT_GLYPHS[1]
        or (dashes and character in DASH_BULLETS)
    )


def normalise_characters(text: str, *, dashes: bool = False) -> str:
    """Straight apostrophes and quotes, no soft hyphens (and ASCII dashes when `dashes`)."""
    for character, replacement in _CHARACTER_FIXES + (_DASH_FIXES if dashes else ()):
        text = text.replace(character, replacement)  # str.replace is far faster than str.translate
    return text


def flatten(text: str) -> str:
    """One line of text with single spaces, normalised characters, no symbol bullets and rejoined
    hyphenation: the form in which the metadata patterns read a whole report."""
    text = _SYMBOL_BULLET.sub(" ", normalise_characters(text))
    text = _SOFT_HYPHEN_BREAK.sub("", text)
    text = _HARD_HYPHEN_BREAK.sub("-", text)
    return " ".join(text.split())


# --- grades --------------------------------------------------------------------------------------

# Grade id (as in `nlp.taxonomy.GRADES` and reports.jsonl) -> how grade tables and headings print it.
GRADE_WORDING: dict[str, str] = {
    "outstanding": r"outstanding",
    "good": r"good",
    "requires improvement to be good": r"requires improvement(?: to be good)?",
    "adequate": r"adequate",
    "inadequate": r"inadequate",
    "not judged": r"not judged",
}
# In a sentence the verb agrees with its subject: "Children's services in Brent require improvement".
_IN_SENTENCE = {"requires improvement to be good": r"requires? improvement(?: to be good)?"}


def _alternation(wordings: dict[str, str]) -> str:
    # "inadequate" before "adequate": an alternation takes the first that fits.
    return "|".join(sorted(wordings.values(), key=lambda words: words == "adequate"))


GRADE_WORDS = _alternation(GRADE_WORDING)
GRADE_WORDS_IN_SENTENCE = _alternation(GRADE_WORDING | _IN_SENTENCE)
# 2013 reports write "Grade 4 (inadequate)" under each heading.
GRADE_TOKEN = rf"(?:grade \d \()?(?:{GRADE_WORDS_IN_SENTENCE})\)?"
_GRADE_IDS = tuple((grade, re.compile(wording)) for grade, wording in (GRADE_WORDING | _IN_SENTENCE).items())


def grade_id(printed: str) -> str | None:
    """The taxonomy's grade for a printed grade ("Requires improvement" -> "requires improvement to be good")."""
    words = " ".join(printed.lower().split())
    return next((grade for grade, wording in _GRADE_IDS if wording.fullmatch(words)), None)


# --- phrases that name judgement areas ------------------------------------------------------------

PROGRESS_OF = r"(?:the )?experiences? (?:and|of) progress of"
GRADED_JUDGEMENT = r"(?:the )?graded judge?ments? (?:about|for) (?:the )?"
# "Local Safeguarding Children Board", "Safeguarding Children's Board", "Safeguarding Childrens Board"
SAFEGUARDING_BOARD = r"safeguarding children'?s? board"
# Any named board as a heading: "the Local Safeguarding Children Board (LSCB)", "the East Sussex
# Safeguarding Children Board", "the BSCB".
LSCB_HEADING = rf"(?:the )?(?:(?:[a-z]+ ){{0,3}}{SAFEGUARDING_BOARD}(?: \([a-z]{{0,4}}scb\))?|[a-z]{{0,4}}scb)"

AREA_NAMES: dict[str, str] = {
    "help_and_protection": r"children who need help and protection",
    "looked_after_and_permanence": r"children looked after and achieving permanence",
    "children_in_care_and_care_leavers": r"children in care and care leavers",
    "children_in_care": r"children in care",
    "care_leavers": r"care leavers",
    "adoption": r"adoption performance",
    "impact_of_leaders": r"impact of leaders on social work practice",
    "leadership_management_governance": r"leadership,? management and governance",
    "overall_effectiveness": r"overall effectiveness",
    # The 2013 inspections of looked-after children services.
    "overall_effectiveness_of_services_for_looked_after_children_and_young_people": (
        r"overall effectiveness of services for looked after children and young people"
    ),
    "capacity_to_improve": r"capacity to improve",
    "outcomes_for_looked_after_children_and_young_people": r"outcomes for looked after children and young people",
    "quality_of_provision": r"quality of provision",
    "leadership_and_management": r"leadership and management",
}
_WITH_FAMILIES = r"(?: with children and families)"
_IS = r"(?: (?:is|are))?"
_IS_THAT = r"(?: (?:is|are)(?: that (?:it|they)(?: (?:is|are))?)?)?"


def _progress(area: str, *, optional: bool = False) -> str:
    prefix = f"(?:{PROGRESS_OF} )?" if optional else f"{PROGRESS_OF} "
    return prefix + AREA_NAMES[area]


# --- report formats ------------------------------------------------------------------------------

SIF = "SIF"
ILACS = "ILACS"
OTHER = "other"


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per kind of report
class ReportFormat:
    """One kind of report: how to recognise it and how it prints its grades.

    id (str): the kind of report.
    framework (str): inspection framework as reports.jsonl names it (SIF, ILACS, other).
    title (re.Pattern): found in the normalised first page of every report of this kind.
    body_opens_with_heading (bool): the body starts at a section heading; else (ILACS) the summary
        opens straight after the grade table, at the first paragraph of prose.
    grade_table (dict[str, str]): area id -> its label in the grade table, in the table's order.
    areas_graded_only_with_title (dict[str, re.Pattern]): areas graded only in reports whose first
        page says so (a SIF report grades its LSCB only when the board was reviewed with it).
    exclusive_areas (dict[str, tuple[str, ...]]): an area graded rules out these.
    overall_sentence (re.Pattern | None): the sentence that gives the overall judgement.
    overall_area (str | None): the grade table entry that is the overall judgement.
    overall_grade_dropped_from (datetime.date | None): inspections from this day have no overall grade.
    """

    id: str
    framework: str
    title: re.Pattern[str]
    body_opens_with_heading: bool
    grade_table: dict[str, str]
    areas_graded_only_with_title: dict[str, re.Pattern[str]] = field(default_factory=dict)
    exclusive_areas: dict[str, tuple[str, ...]] = field(default_factory=dict)
    overall_sentence: re.Pattern[str] | None = None
    overall_area: str | None = None
    overall_grade_dropped_from: datetime.date | None = None


# Table labels: "(the effectiveness of) the Local Safeguarding Children Board (LSCB) (is)".
_LSCB_LABEL = rf"(?:the effectiveness of )?the (?:(?:local )?{SAFEGUARDING_BOARD}(?: ?\(lscb\))?|lscb)(?: is)?"
LSCB_REVIEW_TITLE = re.compile(r"review of the effectiveness of the local safeguarding children")

SIF_FORMAT = ReportFormat(
    id="sif",
    framework=SIF,
    title=re.compile(r"inspection of services for children in need of help"),
    body_opens_with_heading=True,
    grade_table={
        "help_and_protection": _progress("help_and_protection", optional=True) + _IS,
        "looked_after_and_permanence": _progress("looked_after_and_permanence", optional=True) + _IS,
        "adoption": f"(?:{GRADED_JUDGEMENT})?{AREA_NAMES['adoption']}{_IS_THAT}",
        "care_leavers": f"(?:{GRADED_JUDGEMENT})?{_progress('care_leavers')}{_IS_THAT}",
        "leadership_management_governance": AREA_NAMES["leadership_management_governance"] + _IS,
        "lscb": _LSCB_LABEL,
    },
    areas_graded_only_with_title={"lscb": LSCB_REVIEW_TITLE},
    # "The overall judgement is (that children's services are) good", "Children's services in the
    # City of London are good", "Children's services in Brent require improvement to be good".
    overall_sentence=re.compile(
        r"(?:overall judgement is(?: that)?|children'?s services? in [^.]{1,120}?)"
        rf"(?: children'?s services?)?(?: (?:are|is))? (?P<grade>{GRADE_WORDS_IN_SENTENCE})\b"
    ),
)
LAC_2013_FORMAT = ReportFormat(
    id="lac_2013",
    framework=OTHER,
    title=re.compile(r"inspection of looked after children services"),
    body_opens_with_heading=True,
    grade_table={
        "overall_effectiveness_of_services_for_looked_after_children_and_young_people": (
            f"{AREA_NAMES['overall_effectiveness_of_services_for_looked_after_children_and_young_people']}"
            f"|{AREA_NAMES['overall_effectiveness']}"
        ),
        "capacity_to_improve": AREA_NAMES["capacity_to_improve"],
        "outcomes_for_looked_after_children_and_young_people": AREA_NAMES[
            "outcomes_for_looked_after_children_and_young_people"
        ],
        "quality_of_provision": AREA_NAMES["quality_of_provision"],
        "leadership_and_management": AREA_NAMES["leadership_and_management"],
    },
    overall_area="overall_effectiveness_of_services_for_looked_after_children_and_young_people",
)
ILACS_FORMAT = ReportFormat(
    id="ilacs",
    framework=ILACS,
    title=re.compile(
        r"inspection of children'?s social care services|local authority children'?s services"
        r"|impact of leaders on social work practice"
    ),
    body_opens_with_heading=False,
    grade_table={
        "impact_of_leaders": f"(?:the )?{AREA_NAMES['impact_of_leaders']}{_WITH_FAMILIES}?",
        "help_and_protection": _progress("help_and_protection"),
        "children_in_care_and_care_leavers": _progress("children_in_care_and_care_leavers"),
        "children_in_care": _progress("children_in_care"),
        # Reports from 2025 print "The experiences and progress of children care leavers".
        "care_leavers": f"{PROGRESS_OF} (?:children )?{AREA_NAMES['care_leavers']}",
        "overall_effectiveness": AREA_NAMES["overall_effectiveness"],
    },
    # ILACS grades children in care and care leavers either together (to 2022) or apart (from 2023).
    exclusive_areas={
        "children_in_care_and_care_leavers": ("children_in_care", "care_leavers"),
        "children_in_care": ("children_in_care_and_care_leavers",),
        "care_leavers": ("children_in_care_and_care_leavers",),
    },
    overall_area="overall_effectiveness",
    # The framework of April 2026 dropped the overall grade.
    overall_grade_dropped_from=datetime.date(2026, 4, 1),
)
LSCB_REVIEW_FORMAT = ReportFormat(
    id="lscb_review",
    framework=OTHER,
    title=LSCB_REVIEW_TITLE,
    body_opens_with_heading=True,
    grade_table={"lscb": _LSCB_LABEL},
    overall_area="lscb",
)
# In the order they are tried: a SIF report also names its LSCB review, and a 2013 report of
# looked-after children services names the local authority's children's services.
FORMATS: tuple[ReportFormat, ...] = (SIF_FORMAT, LAC_2013_FORMAT, ILACS_FORMAT, LSCB_REVIEW_FORMAT)

# The title page, grade table and overall sentence sit on the first page; 5,000 normalised
# characters leave room for long titles and extractors that put running text first.
HEAD_CHARACTERS = 5000


def identify_format(normalised_head: str) -> ReportFormat | None:
    """The kind of report whose title the normalised first page carries; None for no known report."""
    return next((report_format for report_format in FORMATS if report_format.title.search(normalised_head)), None)


def normalise_head(text: str) -> str:
    """The first page of a report's raw text as the format patterns read it (`flatten`, lower case)."""
    return flatten(text[: 2 * HEAD_CHARACTERS]).lower()[:HEAD_CHARACTERS]


# Phrases every children's services inspection report uses; a report shows most of them.
REPORT_CUES = tuple(
    re.compile(cue, re.IGNORECASE)
    for cue in (
        r"\bofsted\b",
        r"\binspect",
        r"\blocal authority\b|\bcouncil\b|\bborough\b",
        r"\bsocial (?:work|care)\b",
        r"\bchildren\b",
        r"\bcare leavers?\b|\blooked after\b|\bchildren in care\b",
        r"\bsafeguard",
        r"\bhelp and protection\b|\bchild protection\b",
    )
)


# --- headings ------------------------------------------------------------------------------------

# What may follow a heading: its grade ("...help and protection: good", "... are good", "... is that
# it is good") or a verb waiting for a grade on the next line.
HEADING_GRADE_TAIL = rf"(?: ?[:\-]? ?(?:{GRADE_WORDS})| (?:is|are)(?: ?:?(?: that it is)? (?:{GRADE_WORDS}))?)?"
# Body headings carry their grade inline; grade table rows do not.
INLINE_GRADE = re.compile(rf": ?(?:{GRADE_WORDS})$")
# A line that is a grade or a piece of one: a cell of a grade table, or the grade under a heading
# ("Grade 4 (inadequate)" in 2013 reports).
GRADE_ONLY = re.compile(rf"(?:grade \d \()?(?:{GRADE_WORDS})\)?|requires|improvement(?: to be good)?|to be good")
# The second half of a grade split over two lines, left at the end of a heading line beside it.
GRADE_FRAGMENT_END = re.compile(r" improvement(?: to be good)?$", re.IGNORECASE)

KEEP_AREA = "keep"  # a heading that leaves the current judgement area as it is


@dataclass(frozen=True)
class HeadingRule:
    """What a recognised heading does to the paragraphs that follow it.

    kind (str | None): finding kind (one of `nlp.taxonomy.KINDS`) of the following paragraphs; None
        drops them (contents, tables).
    area (str | None): judgement area id, None for none, or `KEEP_AREA` to leave the current one.
    is_contents (bool): a table of contents follows: its entries repeat headings and are skipped.
    ends_report (bool): nothing after it is a finding (the closing grade table of 2013 reports).
    """

    kind: str | None
    area: str | None = KEEP_AREA
    is_contents: bool = False
    ends_report: bool = False

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"HeadingRule kind {self.kind!r} is not one of the taxonomy's KINDS {KINDS}")

    @property
    def opens_body(self) -> bool:
        """Whether the heading can end the front matter: a section heading, not a graded area or table."""
        return self.is_contents or (self.kind is not None and self.area in (KEEP_AREA, None))


def _graded(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern + HEADING_GRADE_TAIL)


def _area_heading(area: str, kind: str = "finding") -> HeadingRule:
    return HeadingRule(kind, area)


CONTEXT = HeadingRule("context", None)

# (pattern, rule), tried in order on a normalised heading (see `nlp.layout.heading_key`), whole.
SECTION_HEADINGS: tuple[tuple[re.Pattern[str], HeadingRule], ...] = (
    *(
        (_graded(_progress(area)), _area_heading(area))
        for area in (
            "help_and_protection",
            "looked_after_and_permanence",
            "children_in_care_and_care_leavers",
            "children_in_care",
            "care_leavers",
        )
    ),
    (_graded(GRADED_JUDGEMENT + _progress("care_leavers")), _area_heading("care_leavers")),
    (_graded(GRADED_JUDGEMENT + AREA_NAMES["adoption"]), _area_heading("adoption")),
    (_graded(f"the {AREA_NAMES['impact_of_leaders']}{_WITH_FAMILIES}"), _area_heading("impact_of_leaders")),
    (_graded(AREA_NAMES["leadership_management_governance"]), _area_heading("leadership_management_governance")),
    (
        _graded(rf"(?:section \d: )?(?:review of )?(?:the )?effectiveness of {LSCB_HEADING}(?: \(lscb\))?"),
        _area_heading("lscb", "summary"),
    ),
    # "The Local Safeguarding Children Board is inadequate", over the board's executive summary.
    (_graded(LSCB_HEADING), _area_heading("lscb", "summary")),
    (re.compile(rf"inspection findings (?:- )?{LSCB_HEADING}"), _area_heading("lscb")),
    # The 2013 inspections of looked-after children services grade these areas.
    *(
        (_graded(AREA_NAMES[area]), _area_heading(area, kind))
        for area, kind in (
            ("overall_effectiveness_of_services_for_looked_after_children_and_young_people", "summary"),
            ("capacity_to_improve", "summary"),
            ("outcomes_for_looked_after_children_and_young_people", "finding"),
            ("quality_of_provision", "finding"),
            ("leadership_and_management", "finding"),
        )
    ),
    (re.compile(r"record of main findings"), HeadingRule(None, None, ends_report=True)),
    (re.compile(r"inspection findings"), HeadingRule("finding")),
    (re.compile(r"executive summary|summary of (?:key )?findings"), HeadingRule("summary")),
    (
        re.compile(
            r"the local authority's strengths|the local authority has the following strengths|progress since the last inspection"
            rf"|{LSCB_HEADING}'s strengths|key strengths and weaknesses of {LSCB_HEADING}"
        ),
        HeadingRule("summary"),
    ),
    (re.compile(r"summary"), HeadingRule("summary")),
    (re.compile(r"summary for children and young people"), HeadingRule("summary", None)),
    (
        re.compile(
            r"recommendations|what needs to improve(?: in this area)?|areas for improvement|priority and immediate action"
            r"|what does the (?:local authority|lscb) need to improve"
        ),
        HeadingRule("recommendation"),
    ),
    (re.compile(r"section \d: the local authority|the local authority"), CONTEXT),
    (
        re.compile(
            r"information about (?:this|the) (?:local authority )?area|previous ofsted inspections|other ofsted inspections"
            r"|local leadership|children living in this area|child protection in this area"
            r"|children looked after in this area|other information about this area|information about this (?:inspection|review)"
            r"|the inspection team|about this inspection|service information"
        ),
        CONTEXT,
    ),
    (re.compile(r"contents"), HeadingRule(None, None, is_contents=True)),
    (
        re.compile(
            r"what the inspection judge?ments mean(?:: the (?:local authority|lscb))?|the inspection judgements and what they mean"
            r"|inspection judgements? about the (?:local authority|lscb)|key judgements?|judgement(?: grade)?|grade"
            r"|overall effectiveness"
        ),
        HeadingRule(None, KEEP_AREA),
    ),
)

# --- furniture and boilerplate -------------------------------------------------------------------

# A page number alone on its line: "12", "Page 12", "12 of 40".
PAGE_NUMBER = re.compile(r"(?:page\s+)?\d{1,3}(?:\s+of\s+\d{1,3})?", re.IGNORECASE)
# The back page and closing notes: nothing after their first line is part of the report's text.
END_MATTER = re.compile(
    r"the office for standards in education, children'?s services and skills"
    r"|if (?:you|the local authority) would like a copy of this document in a different format"
    r"|ofsted has published a report on",
)
# Standard paragraphs every report of a framework prints; they say nothing about the local authority.
BOILERPLATE = re.compile(
    r"ofsted produces this report|there are no widespread or serious failures|it is ofsted's expectation"
    r"|in a local authority that requires improvement, there are no widespread|a local authority that is inadequate is providing"
    r"|an lscb that is inadequate|the lscb is not yet demonstrating the characteristics of good"
    r"|these are residential special schools that look after children|the local authority was given the opportunity to review"
    r"|the areas for improvement have been cross-referenced|any complaints about the inspection or the report"
)
COPYRIGHT = re.compile(r"\u00a9|crown copyright", re.IGNORECASE)
