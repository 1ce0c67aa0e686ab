"""Theme and polarity cue lexicons written from `label-schema.md`.

These are hand-written rules, so what they produce is *weak* supervision (`training/weak_labels.py`),
a keyword baseline (`training/evaluate.py`) and the cue-word measure of the grade-validity analysis
(`nlp/validity.py`): never gold labels. Each theme's cues paraphrase the scope column of
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
# --- Tiers for the weak labelling functions (`training/weak_labels.py`) -------------------------
# THEME_CUES above stays as the keyword baseline was measured with. The weak labels split each theme's
# cues into *specific* ones (naming the theme's subject: "return home interview") and *broad* ones
# (words the theme uses but so do others: "plans", "placements", "training"), so that each tier can
# earn its own weight; they also add cues from the schema's scope text that THEME_CUES lacks.

# Cues of THEME_CUES that are broad words; the rest of THEME_CUES is specific.
BROAD_THEME_CUES: dict[str, tuple[str, ...]] = {
    "early_help": (r"targeted support", r"family support service"),
    "front_door": (r"\bcontacts?\b", r"\breferrals?\b"),
    "assessment_quality": (r"\bassessments?\b", r"fathers?\b"),
    "planning_and_review": (r"\bplans?\b", r"\breviews?\b", r"\bdrift\b"),
    "management_oversight": (r"recording",),
    "voice_of_child": (r"\bvisit(?:s|ed)?\b", r"voice", r"participation"),
    "domestic_abuse_and_parental_risk": (r"substance misuse", r"adult mental health", r"drug and alcohol"),
    "disabled_children": (r"disabilit", r"\bsend\b", r"special educational needs"),
    "allegations_against_staff": (r"adults who work with children",),
    "radicalisation_and_harmful_practices": (r"\bprevent\b",),
    "youth_justice": (r"\bdiversion",),
    "edge_of_care": (r"enter(?:ing)? care",),
    "legal_proceedings": (r"\bcourt\b", r"section 20"),
    "placement_sufficiency_and_stability": (
        r"foster carers?",
        r"fostering",
        r"residential",
        r"out of (?:the )?area",
        r"\bplacements?\b",
    ),
    "education": (r"attendance",),
    "health_and_wellbeing": (r"mental health", r"therapeutic"),
    "adoption": (r"matching",),
    "leadership_and_governance": (r"\bleaders\b", r"scrutiny", r"chief executive", r"commissioning"),
    "quality_assurance_and_performance": (r"quality assurance", r"\baudits?\b"),
    "workforce": (r"training", r"retention"),
    "safeguarding_partnership": (r"local safeguarding children board", r"serious case reviews?"),
}

# Cues from the schema's scope text beyond THEME_CUES.
EXTRA_SPECIFIC_THEME_CUES: dict[str, tuple[str, ...]] = {
    "early_help": (r"team around the family", r"common assessment framework", r"family hubs?"),
    "front_door": (r"\bedt\b", r"first point of contact"),
    "child_protection_enquiries": (r"child protection conferences?", r"initial conferences?"),
    "assessment_quality": (r"single assessments?", r"quality of assessments"),
    "planning_and_review": (r"reviewing officers?", r"conference chairs?"),
    "management_oversight": (r"\bsupervis", r"managers? (?:review|sign|challenge|direct)"),
    "voice_of_child": (
        r"views of (?:children|young people)",
        r"(?:children|young people)(?:'|\u2019)s? views",
        r"listen(?:ed|s|ing)? to (?:children|young people)",
        r"independent visitors?",
        r"youth council",
        r"children(?:'|\u2019)s council",
    ),
    "exploitation": (r"exploited", r"grooming"),
    "missing_children": (r"missing children", r"children (?:who are |who go )?missing\b(?! (?:from )?education)"),
    "domestic_abuse_and_parental_risk": (r"toxic trio", r"parental (?:alcohol|drug|substance)"),
    "disabled_children": (r"children with disabilities",),
    "homeless_16_17": (r"16-? and 17-?year", r"homelessness"),
    "radicalisation_and_harmful_practices": (r"\bchannel\b", r"radicalised", r"extremis"),
    "unaccompanied_children": (r"separated children", r"\buasc\b"),
    "youth_justice": (r"secure (?:accommodation|remand)",),
    "edge_of_care": (
        r"(?:remain|stay|live) (?:safely )?(?:at home|with their famil)",
        r"come into care",
        r"discharge of (?:care |their care )?orders?",
        r"revocation",
    ),
    "legal_proceedings": (r"legal (?:planning|gateway)", r"letters? before proceedings", r"\bproceedings\b"),
    "placement_sufficiency_and_stability": (
        r"placement (?:choice|breakdowns?|sufficiency|options)",
        r"children(?:'|\u2019)s homes?",
        r"stable placements?",
        r"(?:recruit|assess|approv)\w* (?:new |more )?foster",
    ),
    "education": (
        r"\bschools?\b",
        r"\bgcses?\b",
        r"key stage",
        r"educational (?:outcomes|progress|attainment)",
        r"designated teachers?",
    ),
    "health_and_wellbeing": (r"health needs", r"leisure", r"hobbies", r"\bsdqs?\b"),
    "permanence": (
        r"permanency",
        r"permanent (?:homes?|famil|placements?)",
        r"child arrangements? orders?",
        r"special guardians?",
    ),
    "adoption": (r"life story books?", r"fostering for adoption"),
    "care_leavers": (
        r"care experienced",
        r"young adults",
        r"staying close",
        r"supported lodgings",
        r"semi-independent",
        r"independent living",
    ),
    "leadership_and_governance": (
        r"corporate parents?",
        r"councillors",
        r"political leaders",
        r"strategic (?:leaders|plan|priorit|partnership)",
        r"\bvision\b",
        r"leadership team",
    ),
    "quality_assurance_and_performance": (
        r"auditing",
        r"performance (?:reports?|monitoring|framework|report)",
        r"practice standards?",
        r"dashboards?",
    ),
    "workforce": (
        r"vacanc",
        r"newly qualified",
        r"\basye\b",
        r"workloads?",
        r"professional development",
        r"social work academy",
        r"stable workforce",
    ),
    "safeguarding_partnership": (
        r"\b[a-z]{0,4}scb\b",
        r"safeguarding children partnership",
        r"multi-agency audits?",
        r"learning reviews?",
        r"section 11",
    ),
}

# Broad cues from the schema's scope text beyond THEME_CUES.
EXTRA_BROAD_THEME_CUES: dict[str, tuple[str, ...]] = {
    "early_help": (r"early intervention",),
    "front_door": (r"screening",),
    "assessment_quality": (r"assessments? (?:are|is|were|was) (?:thorough|detailed|timely|comprehensive|of good quality|not)",),
    "planning_and_review": (r"care plans?", r"child in need plans?", r"child protection plans?"),
    "management_oversight": (r"\boversight\b",),
    "voice_of_child": (r"\bviews\b", r"brothers and sisters", r"siblings"),
    "missing_children": (r"\bmissing\b",),
    "domestic_abuse_and_parental_risk": (r"neglected",),
    "disabled_children": (r"complex (?:health )?needs", r"transition to adult"),
    "allegations_against_staff": (r"allegations?",),
    "homeless_16_17": (r"\bhousing\b",),
    "youth_justice": (r"offending", r"custody"),
    "edge_of_care": (r"return(?:ed|ing)? (?:safely )?(?:home|to (?:their )?(?:parents|families))",),
    "legal_proceedings": (r"\blegal\b", r"care orders?"),
    "education": (r"\beducation\b",),
    "health_and_wellbeing": (r"\bhealth\b", r"well-?being", r"health checks?"),
    "leadership_and_governance": (r"\bleadership\b", r"senior managers?", r"\bstrategic\b"),
    "quality_assurance_and_performance": (r"\bperformance\b", r"\bquality of practice\b"),
    "workforce": (r"\bstaff\b", r"social workers (?:are|have|say|feel)", r"\brecruit"),
    "safeguarding_partnership": (r"\bpartnership\b", r"safeguarding (?:children )?board", r"partnership board"),
}


def specific_cues(theme: str) -> tuple[str, ...]:
    """The theme's specific cues: THEME_CUES less its broad ones, plus the extra specific ones."""
    broad = set(BROAD_THEME_CUES.get(theme, ()))
    return tuple(c for c in THEME_CUES[theme] if c not in broad) + EXTRA_SPECIFIC_THEME_CUES.get(theme, ())


def broad_cues(theme: str) -> tuple[str, ...]:
    """The theme's broad cues: those of THEME_CUES and the extra broad ones."""
    return BROAD_THEME_CUES.get(theme, ()) + EXTRA_BROAD_THEME_CUES.get(theme, ())


SPECIFIC_THEME_PATTERNS: dict[str, re.Pattern[str]] = {theme: compile_cues(specific_cues(theme)) for theme in THEME_CUES}
BROAD_THEME_PATTERNS: dict[str, re.Pattern[str]] = {
    theme: compile_cues(broad_cues(theme)) for theme in THEME_CUES if broad_cues(theme)
}

# Polarity tiers, from the schema's polarity table and hard-case rules.
# Praise strong enough to carry a finding on its own (the generic "good", "well" are in STRENGTH_CUES).
STRONG_STRENGTH_CUES: tuple[str, ...] = (
    r"\boutstanding\b",
    r"\bexceptional(?:ly)?\b",
    r"\bexcellent\b",
    r"highly (?:effective|skilled|experienced|successful)",
    r"\bimpressive\b",
    r"\bexemplary\b",
    r"\binnovative\b",
    r"\bconsistently (?:good|strong|effective|high)",
)
# The schema's own examples of weakness wording, and close paraphrases.
HEDGE_CUES: tuple[str, ...] = (
    r"not always",
    r"too many",
    r"\bvariable\b",
    r"\bdelay(?:s|ed)?\b",
    r"\binconsisten",
    r"not yet",
    r"not (?:sufficiently|consistently|routinely)",
)
# A material caveat on a positive finding makes it mixed.
CAVEAT_CUES: tuple[str, ...] = (
    r"(?:further|more) work (?:is|was) (?:needed|required)",
    r"still (?:need|require)",
    r"needs? to (?:improve|be improved|be strengthened)",
    r"not yet (?:consistent|embedded|fully|evident|sufficient)",
    r"\bvariable\b",
    r"\binconsisten",
    r"\bexcept\b",
    r"\bsome (?:children|plans|assessments|records|young people)",
)
# Recommendations are written as instructions ("Ensure that...", "Improve the quality of...").
IMPERATIVE_OPENING = re.compile(
    r"^\s*(?:\d+[.)]?\s*)?(?:ensure|improve|strengthen|develop|review|increase|reduce|establish|address|make sure|"
    r"take action|implement|provide|embed|extend|evaluate|monitor|continue|urgently|"
    r"the (?:local authority|council|lscb|board) should|further develop)\b",
    _FLAGS,
)
# Figures (counts, percentages, dates) are what neutral context findings are made of.
FIGURE = re.compile(r"\b\d[\d,.]*\s?%?|\bper 10,000\b|\bnumber of\b|\bproportion\b", _FLAGS)

STRONG_STRENGTH_PATTERN = compile_cues(STRONG_STRENGTH_CUES)
HEDGE_PATTERN = compile_cues(HEDGE_CUES)
CAVEAT_PATTERN = compile_cues(CAVEAT_CUES)
