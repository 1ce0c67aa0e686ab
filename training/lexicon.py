"""Theme and polarity cue lexicons written from `label-schema.md`.

These are hand-written rules, so what they produce is *weak* supervision and a keyword baseline:
they are never stored or reported as gold labels. Each theme's cues paraphrase the scope column of
the schema; polarity cues paraphrase its polarity table and hard-case rules.
"""

from __future__ import annotations

import re

THEME_CUES: dict[str, tuple[str, ...]] = {
    "early_help": (r"early help", r"step(?:ped|ping)?[- ](?:up|down)", r"family support service", r"targeted support"),
    "front_door": (
        r"\bmash\b", r"multi-agency safeguarding hub", r"front door", r"\bcontacts?\b", r"\breferrals?\b",
        r"threshold", r"\bconsent\b", r"out[- ]of[- ]hours", r"emergency duty", r"re-referral", r"first response",
    ),
    "child_protection_enquiries": (
        r"strategy (?:meeting|discussion)s?", r"section 47", r"child protection enquir", r"initial child protection conference",
        r"\bs47\b", r"\biccp?c?s?\b",
    ),
    "assessment_quality": (r"\bassessments?\b", r"pre-birth", r"fathers?\b", r"analysis of (?:risk|need)"),
    "planning_and_review": (
        r"\bplans?\b", r"contingency", r"core groups?", r"\breviews?\b", r"independent reviewing officer", r"\biros?\b",
        r"child protection chair", r"\bdrift\b",
    ),
    "management_oversight": (r"management oversight", r"supervision", r"managers? (?:oversight|decision)", r"case record", r"recording"),
    "voice_of_child": (
        r"wishes and feelings", r"direct work", r"seen alone", r"\bvisit(?:s|ed)?\b", r"children in care council", r"advocac",
        r"participation", r"family time", r"\bcontact with (?:their )?(?:parents|brothers|siblings|family)", r"voice", r"life[- ]story work",
    ),
    "exploitation": (
        r"exploitation", r"\bcse\b", r"county lines", r"\bgangs?\b", r"trafficking", r"contextual safeguarding", r"complex safeguarding",
    ),
    "missing_children": (r"\bmissing from (?:home|care)", r"return home interview", r"go(?:es)? missing", r"went missing", r"missing episodes?"),
    "domestic_abuse_and_parental_risk": (
        r"domestic (?:abuse|violence)", r"substance misuse", r"parental mental health", r"adult mental health", r"\bneglect\b",
        r"\bmarac\b", r"drug and alcohol",
    ),
    "disabled_children": (r"disabled children", r"disabilit", r"\bsend\b", r"special educational needs", r"short breaks"),
    "private_fostering": (r"private(?:ly)? fostering", r"privately fostered", r"privately arranged fostering"),
    "allegations_against_staff": (r"designated officer", r"\blado\b", r"allegations? against", r"adults who work with children"),
    "homeless_16_17": (r"homeless", r"16[- ] and 17[- ]year[- ]olds?", r"joint housing protocol"),
    "radicalisation_and_harmful_practices": (
        r"radicali[sz]ation", r"\bprevent\b", r"channel panel", r"extremism", r"female genital mutilation", r"\bfgm\b",
        r"forced marriage", r"honour[- ]based",
    ),
    "young_carers": (r"young carers?",),
    "unaccompanied_children": (r"unaccompanied", r"asylum", r"age assessment", r"national transfer scheme"),
    "youth_justice": (r"youth offending", r"youth justice", r"police custody", r"\bremand", r"\bdiversion", r"\byot\b"),
    "edge_of_care": (r"edge of care", r"family group conferenc", r"return(?:ing|ed)? home from care", r"reunification", r"placed with parents", r"enter(?:ing)? care"),
    "legal_proceedings": (
        r"public law outline", r"\bplo\b", r"pre-proceedings", r"care proceedings", r"\bcourt\b", r"26 weeks", r"cafcass",
        r"section 20", r"judiciary",
    ),
    "placement_sufficiency_and_stability": (
        r"placement stability", r"sufficiency", r"foster carers?", r"fostering", r"residential", r"out of (?:the )?area",
        r"placement moves?", r"unregistered", r"\bplacements?\b",
    ),
    "education": (
        r"virtual school", r"personal education plans?", r"\bpeps?\b", r"attainment", r"attendance", r"exclusions?",
        r"missing education", r"home education", r"electively home educated",
    ),
    "health_and_wellbeing": (
        r"health assessments?", r"emotional (?:well-?being|health)", r"\bcamhs\b", r"mental health", r"therapeutic",
        r"strengths and difficulties", r"health (?:histories|passports?)", r"dental", r"immunisation",
    ),
    "permanence": (r"permanence", r"special guardianship", r"\bsgos?\b", r"long-term foster", r"family and friends", r"connected (?:person|carer)", r"kinship"),
    "adoption": (r"adopt", r"matching", r"adoption panel", r"agency decision maker", r"later life letters?", r"regional adoption"),
    "care_leavers": (r"care leavers?", r"personal advis[eo]rs?", r"pathway plans?", r"staying put", r"local offer", r"leaving care", r"\bneet\b"),
    "leadership_and_governance": (
        r"senior leaders?", r"\bleaders\b", r"corporate parenting", r"scrutiny", r"lead member", r"chief executive",
        r"director of children", r"\bdcs\b", r"commissioning", r"self-evaluation", r"improvement plan", r"elected members",
    ),
    "quality_assurance_and_performance": (r"quality assurance", r"\baudits?\b", r"performance (?:data|management|information)", r"management information", r"scorecard"),
    "workforce": (r"caseloads?", r"recruitment and retention", r"agency (?:staff|social workers)", r"\bworkforce\b", r"training", r"turnover", r"morale", r"retention"),
    "safeguarding_partnership": (
        r"\blscb\b", r"local safeguarding children board", r"safeguarding partnership", r"serious case reviews?",
        r"child death overview", r"safeguarding children partnership", r"\bthe board\b",
    ),
}

STRENGTH_CUES: tuple[str, ...] = (
    r"\beffective(?:ly)?\b", r"\btimely\b", r"\bstrong(?:ly)?\b", r"well[- ]supported", r"\boutstanding\b", r"\bgood\b",
    r"\bimprov(?:ed|ing)\b", r"\bstrength\b", r"\brobust(?:ly)?\b", r"\bthorough\b", r"\bappropriate(?:ly)?\b", r"\bbenefit",
    r"\bhigh[- ]quality\b", r"\bwell\b",
)
WEAKNESS_CUES: tuple[str, ...] = (
    r"not always", r"too many", r"\bvariable\b", r"\bdelays?\b", r"requires improvement", r"\(recommendation\)",
    r"\binconsisten", r"\bnot (?:yet|sufficiently|consistently|routinely|well|effective)", r"\bweak", r"\bpoor\b",
    r"\black(?:s|ing)?\b", r"\blimited\b", r"\bdrift\b", r"\binadequate\b", r"\bfail", r"\btoo (?:long|slow|few|late)",
    r"\bdeficit", r"\bshortfall", r"\bunclear\b", r"\bnot\b",
)
CONTRAST_CUES: tuple[str, ...] = (r"\bhowever\b", r"\balthough\b", r"\bbut\b", r"\bdespite\b", r"\bwhile\b")

_FLAGS = re.IGNORECASE


def compile_cues(cues: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{c})" for c in cues), _FLAGS)


THEME_PATTERNS: dict[str, re.Pattern[str]] = {theme: compile_cues(cues) for theme, cues in THEME_CUES.items()}
STRENGTH_PATTERN = compile_cues(STRENGTH_CUES)
WEAKNESS_PATTERN = compile_cues(WEAKNESS_CUES)
CONTRAST_PATTERN = compile_cues(CONTRAST_CUES)
