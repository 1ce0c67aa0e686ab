"""The label taxonomy: the one module that owns theme ids, polarities, judgement areas and grades.

The ids mirror `label-schema.md` (version 1), the contract shared by the labelled data, the trained
model and every evaluation. `tests/nlp/test_taxonomy.py` checks them against the schema file.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

# Theme id -> short scope, in the order of the schema table.
THEMES: dict[str, str] = {
    "early_help": "early help assessments, plans and services; step-up and step-down",
    "front_door": "contacts, referrals, MASH, screening, thresholds, consent, out-of-hours service",
    "child_protection_enquiries": "strategy meetings, section 47 enquiries, initial child protection conferences",
    "assessment_quality": "social work assessments: quality, timeliness, analysis, fathers, pre-birth",
    "planning_and_review": "CIN, CP and care plans, contingency planning, core groups, reviews, IROs, drift",
    "management_oversight": "supervision and management oversight of casework; quality of case recording",
    "voice_of_child": "wishes and feelings, visits, direct work, family time, advocacy, participation",
    "exploitation": "CSE, criminal exploitation, county lines, gangs, trafficking, contextual safeguarding",
    "missing_children": "children missing from home or care, return home interviews, missing protocols",
    "domestic_abuse_and_parental_risk": "domestic abuse, parental substance misuse and mental health, neglect",
    "disabled_children": "disabled children and SEND: assessments, short breaks, transition to adult services",
    "private_fostering": "private fostering arrangements and awareness raising",
    "allegations_against_staff": "designated officer / LADO: allegations against adults who work with children",
    "homeless_16_17": "16- and 17-year-olds presenting as homeless, joint housing protocols",
    "radicalisation_and_harmful_practices": "Prevent, Channel, radicalisation, FGM, forced marriage, honour-based abuse",
    "young_carers": "young carers: identification, assessment, support",
    "unaccompanied_children": "unaccompanied asylum-seeking children, age assessments, national transfer scheme",
    "youth_justice": "youth offending services, diversion, police custody, secure remand",
    "edge_of_care": "keeping children safely at home, entry to care, family group conferences, reunification",
    "legal_proceedings": "PLO, pre-proceedings, care proceedings, 26 weeks, Cafcass, section 20",
    "placement_sufficiency_and_stability": "placement stability and sufficiency, foster carers, residential placements",
    "education": "education of children in care, virtual school, PEPs; children missing education; EHE",
    "health_and_wellbeing": "health assessments, emotional well-being, CAMHS, SDQs, health passports, leisure",
    "permanence": "permanence planning, SGOs, long-term fostering, family and friends care",
    "adoption": "adopters, matching, adoption panel, adoption support, life story books, RAAs",
    "care_leavers": "personal advisers, pathway plans, EET, accommodation, staying put, local offer",
    "leadership_and_governance": "senior and political leaders, strategy, corporate parenting, commissioning",
    "quality_assurance_and_performance": "audit and QA frameworks, performance data, learning from audits",
    "workforce": "recruitment and retention, caseloads, agency staff, training, morale",
    "safeguarding_partnership": "the LSCB or safeguarding partnership itself: governance, reviews, training",
}
THEME_IDS: tuple[str, ...] = tuple(THEMES)

POLARITIES: tuple[str, ...] = ("strength", "weakness", "mixed", "neutral")

# Judgement areas, as keyed in the corpus metadata (`reports.jsonl`), with the names reports give them.
AREA_NAMES: dict[str, str] = {
    "help_and_protection": "Children who need help and protection",
    "children_in_care": "Children in care",
    "care_leavers": "Care leavers",
    "children_in_care_and_care_leavers": "Children in care and care leavers",
    "looked_after_and_permanence": "Children looked after and achieving permanence",
    "adoption": "Adoption performance",
    "impact_of_leaders": "Impact of leaders on social work practice",
    "leadership_management_governance": "Leadership, management and governance",
    "lscb": "Local Safeguarding Children Board",
    # The 2013 inspections of looked-after children services graded these instead.
    "overall_effectiveness_of_services_for_looked_after_children_and_young_people": (
        "Overall effectiveness of services for looked after children and young people"
    ),
    "capacity_to_improve": "Capacity to improve",
    "outcomes_for_looked_after_children_and_young_people": "Outcomes for looked after children and young people",
    "quality_of_provision": "Quality of provision",
    "leadership_and_management": "Leadership and management",
}
AREAS: tuple[str, ...] = tuple(AREA_NAMES)
# Graded entries of a grade table that are not judgement areas of findings.
OVERALL_JUDGEMENTS: tuple[str, ...] = ("overall_effectiveness",)

# Finding kinds produced by segmentation.
KINDS: tuple[str, ...] = ("finding", "summary", "recommendation", "context")

GRADES: tuple[str, ...] = (
    "outstanding",
    "good",
    "requires improvement to be good",
    "adequate",
    "inadequate",
    "not judged",
)
# Ordinal value of each grade for validity analysis (higher is better); "adequate" (2013) sits
# where "requires improvement" later did.
GRADE_SCORES: dict[str, int] = {
    "outstanding": 4,
    "good": 3,
    "requires improvement to be good": 2,
    "adequate": 2,
    "inadequate": 1,
}
