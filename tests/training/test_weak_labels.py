"""Weak labels: each labelling function on hand-written snippets, the label model on toy data, and the
stored file (weak field names only, taxonomy ids only, one record per corpus finding)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import datasets
import numpy as np
import pytest

from nlp.corpus import corpus_findings
from nlp.taxonomy import POLARITIES, THEME_IDS
from nlp import lexicon
from training.weak_labels import (
    LABELS_FILE,
    LF_FILE,
    NO_THEMES,
    POLARITY_LFS,
    THEME_LFS,
    Finding,
    NaiveBayesLabelModel,
    WeakLabeller,
    WeakLabels,
    finding_from_record,
    fit_labeller,
    out_of_fold,
    lf_area_adoption,
    lf_area_care_leavers,
    lf_area_children_in_care,
    lf_area_leadership,
    lf_area_lscb,
    lf_context_has_no_themes,
    lf_context_is_neutral,
    lf_contrast,
    lf_figures_without_evaluation,
    lf_furniture_has_no_themes,
    lf_furniture_is_neutral,
    lf_grade_good,
    lf_grade_inadequate,
    lf_grade_outstanding,
    lf_grade_requires_improvement,
    lf_heading_fragment_has_no_themes,
    lf_hedging,
    lf_imperative_opening,
    lf_material_caveat,
    lf_recommendation_is_weakness,
    lf_recommendation_suffix,
    lf_strength_cues_only,
    lf_strength_outweighs,
    lf_strong_praise,
    lf_weakness_cues_only,
    lf_weakness_outweighs,
    theme_window,
    weak_record,
)

REPO = Path(__file__).resolve().parents[2]
WEAK_DIR = REPO / "training" / "data" / "weak"
GOLD = REPO / "training" / "data" / "gold" / "gold.jsonl"
GOLD_FIELD_NAMES = {"themes", "polarity", "theme_polarity"}
LF_BY_NAME = {lf.name: lf for lf in THEME_LFS + POLARITY_LFS}

# One sentence per theme in the schema's own words: its specific-cue LF must fire on it.
THEME_SNIPPETS = {
    "early_help": "Families receive early help from the family support team before statutory services are needed.",
    "front_door": "Decisions in the multi-agency safeguarding hub are prompt and thresholds are well understood.",
    "child_protection_enquiries": "Section 47 enquiries are thorough and partners attend strategy meetings.",
    "assessment_quality": "Pre-birth assessments consider the history of both parents.",
    "planning_and_review": "Independent reviewing officers challenge drift in core groups.",
    "management_oversight": "Management oversight is evident on case files and supervision is regular.",
    "voice_of_child": "Social workers record children's wishes and feelings and complete direct work with them.",
    "exploitation": "Children at risk of criminal exploitation and county lines are identified quickly.",
    "missing_children": "Return home interviews are offered to every child who goes missing.",
    "domestic_abuse_and_parental_risk": "Referrals about domestic abuse are screened at a daily MARAC.",
    "disabled_children": "Disabled children receive short breaks that suit their families.",
    "private_fostering": "Private fostering arrangements are assessed within timescales.",
    "allegations_against_staff": "The designated officer manages allegations against professionals well.",
    "homeless_16_17": "Young people who present as homeless are offered accommodation the same day.",
    "radicalisation_and_harmful_practices": "Staff understand the risks of radicalisation and female genital mutilation.",
    "young_carers": "Young carers are identified and assessed in schools.",
    "unaccompanied_children": "Unaccompanied asylum-seeking children are well supported on arrival.",
    "youth_justice": "The youth offending service works closely with social workers.",
    "edge_of_care": "Family group conferences help children remain at home.",
    "legal_proceedings": "The Public Law Outline is used well and pre-proceedings work is purposeful.",
    "placement_sufficiency_and_stability": "Placement stability has improved and sufficiency planning is clear.",
    "education": "The virtual school monitors personal education plans closely.",
    "health_and_wellbeing": "Health assessments are timely and CAMHS support is available.",
    "permanence": "Special guardianship orders secure permanence for many children.",
    "adoption": "Adopters are recruited and approved quickly and the adoption panel is effective.",
    "care_leavers": "Personal advisers keep in touch with care leavers and pathway plans are updated.",
    "leadership_and_governance": "Corporate parenting is strong and the lead member holds officers to account.",
    "quality_assurance_and_performance": "Management information is accurate and used to drive improvement.",
    "workforce": "Caseloads are manageable and staff turnover is low.",
    "safeguarding_partnership": "The LSCB publishes its annual report and learns from multi-agency audits.",
}
UNRELATED = "The weather in the town was mild and the library opened on Saturday."


def read_gold() -> list[dict]:
    with open(GOLD, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def finding(text: str = UNRELATED, kind: str = "finding", area: str | None = None, grade: str | None = None) -> Finding:
    return Finding(text, kind, area, grade)


# --- Labelling functions on snippets ----------------------------------------------------------


@pytest.mark.parametrize("theme", THEME_IDS)
def test_weak_labels_specific_cue_lf_fires_on_its_theme_and_abstains_elsewhere(theme):
    lf = LF_BY_NAME[f"lf_specific_cues_{theme}"]
    assert lf(finding(THEME_SNIPPETS[theme])) == theme
    assert lf(finding(THEME_SNIPPETS[theme].upper())) == theme  # cues ignore case
    assert lf(finding(UNRELATED)) is None


def test_weak_labels_broad_cue_lf_fires_on_a_broad_word_only():
    lf = LF_BY_NAME["lf_broad_cues_planning_and_review"]
    assert lf(finding("Plans are updated after each review.")) == "planning_and_review"
    assert lf(finding(UNRELATED)) is None
    # "plans" alone is a broad cue, never a specific one.
    assert LF_BY_NAME["lf_specific_cues_planning_and_review"](finding("Plans are updated after each review.")) is None


@pytest.mark.parametrize(
    "lf, area, theme",
    [
        (lf_area_care_leavers, "care_leavers", "care_leavers"),
        (lf_area_adoption, "adoption", "adoption"),
        (lf_area_lscb, "lscb", "safeguarding_partnership"),
        (lf_area_leadership, "impact_of_leaders", "leadership_and_governance"),
        (lf_area_leadership, "leadership_management_governance", "leadership_and_governance"),
        (lf_area_children_in_care, "children_in_care", "placement_sufficiency_and_stability"),
        (lf_area_children_in_care, "looked_after_and_permanence", "placement_sufficiency_and_stability"),
    ],
)
def test_weak_labels_area_lf_gives_the_area_theme_and_abstains_in_other_areas(lf, area, theme):
    assert lf(finding(area=area)) == theme
    assert lf(finding(area="help_and_protection")) is None
    assert lf(finding(area=None)) is None


def test_weak_labels_no_theme_lfs_fire_on_context_furniture_and_headings_only():
    assert lf_context_has_no_themes(finding(kind="context")) == NO_THEMES
    assert lf_context_has_no_themes(finding(kind="summary")) is None
    furniture = "Further copies of this report are obtainable from the local authority or at www.ofsted.gov.uk"
    assert lf_furniture_has_no_themes(finding(furniture)) == NO_THEMES
    assert lf_furniture_has_no_themes(finding(THEME_SNIPPETS["adoption"])) is None
    assert lf_heading_fragment_has_no_themes(finding("Children looked after and achieving permanence")) == NO_THEMES
    assert lf_heading_fragment_has_no_themes(finding("Children are safe.")) is None
    assert (
        lf_heading_fragment_has_no_themes(finding(THEME_SNIPPETS["care_leavers"][:-1])) is None
    )  # 13 words, though without a stop


@pytest.mark.parametrize(
    "lf, text, kind, grade, expected",
    [
        (lf_recommendation_is_weakness, UNRELATED, "recommendation", None, "weakness"),
        (lf_recommendation_is_weakness, UNRELATED, "finding", None, None),
        (lf_recommendation_suffix, "Plans are not updated. (Recommendation)", "finding", None, "weakness"),
        (lf_recommendation_suffix, "Visits are effective, but plans are not updated. (Recommendation)", "finding", None, "mixed"),
        (lf_recommendation_suffix, "Plans are not updated.", "finding", None, None),
        (lf_context_is_neutral, UNRELATED, "context", None, "neutral"),
        (lf_context_is_neutral, UNRELATED, "summary", None, None),
        (lf_furniture_is_neutral, "© Crown copyright 2015", "summary", None, "neutral"),
        (lf_grade_outstanding, UNRELATED, "finding", "outstanding", "strength"),
        (lf_grade_outstanding, UNRELATED, "recommendation", "outstanding", None),
        (lf_grade_good, UNRELATED, "summary", "good", "strength"),
        (lf_grade_good, UNRELATED, "summary", "inadequate", None),
        (lf_grade_requires_improvement, UNRELATED, "finding", "requires improvement to be good", "mixed"),
        (lf_grade_inadequate, UNRELATED, "finding", "inadequate", "weakness"),
        (lf_grade_inadequate, UNRELATED, "context", "inadequate", None),
        (lf_strength_cues_only, "Assessments are timely and effective.", "finding", None, "strength"),
        (lf_strength_cues_only, "Assessments are timely but not always effective.", "finding", None, None),
        (lf_strong_praise, "Practice is outstanding and highly effective.", "finding", None, "strength"),
        (lf_strong_praise, "Practice is outstanding, but not always consistent.", "finding", None, None),
        (
            lf_strength_outweighs,
            "Visits are timely, effective and robust, though records are limited.",
            "finding",
            None,
            "strength",
        ),
        (lf_weakness_cues_only, "There are delays and too many children wait.", "finding", None, "weakness"),
        (lf_weakness_cues_only, UNRELATED, "finding", None, None),
        (lf_hedging, "Plans are not always updated.", "finding", None, "weakness"),
        (lf_hedging, "Plans are updated promptly.", "finding", None, None),
        (
            lf_weakness_outweighs,
            "Despite good intent, there are delays, poor plans and weak oversight.",
            "finding",
            None,
            "weakness",
        ),
        (lf_imperative_opening, "Ensure that plans are updated after each review.", "recommendation", None, "weakness"),
        (lf_imperative_opening, "Plans are updated after each review.", "finding", None, None),
        (lf_contrast, "Assessments are good. However, plans are not always updated.", "finding", None, "mixed"),
        (lf_contrast, "Assessments are good and plans are updated.", "finding", None, None),
        (
            lf_material_caveat,
            "Supervision is regular and effective, but further work is needed on its quality.",
            "finding",
            None,
            "mixed",
        ),
        (lf_material_caveat, "Supervision is regular and effective.", "finding", None, None),
        (
            lf_figures_without_evaluation,
            "At 31 March 2015, 25 children lived in a privately arranged fostering placement.",
            "context",
            None,
            "neutral",
        ),
        (lf_figures_without_evaluation, "At 31 March 2015, 25 children were well supported.", "finding", None, None),
    ],
)
def test_weak_labels_polarity_lf_fires_or_abstains_on_snippet(lf, text, kind, grade, expected):
    assert lf(finding(text, kind, grade=grade)) == expected


def test_weak_labels_every_lf_is_named_uniquely_and_says_only_taxonomy_labels():
    names = [lf.name for lf in THEME_LFS + POLARITY_LFS]
    assert len(names) == len(set(names))
    assert all(set(lf.labels) <= set(THEME_IDS) | {NO_THEMES} for lf in THEME_LFS)
    assert all(set(lf.labels) <= set(POLARITIES) for lf in POLARITY_LFS)
    assert {theme for lf in THEME_LFS for theme in lf.labels} == set(THEME_IDS) | {NO_THEMES}


def test_weak_labels_lexicon_tiers_split_the_baseline_cues_and_keep_its_names():
    # The broad tier takes its THEME_CUES entries from THEME_CUES itself: a typo would silently make a cue specific.
    for theme, broad in lexicon.BROAD_THEME_CUES.items():
        assert set(broad) <= set(lexicon.THEME_CUES[theme]), theme
    for theme, pattern in lexicon.THEME_PATTERNS.items():
        assert pattern.pattern == lexicon.compile_cues(lexicon.THEME_CUES[theme]).pattern
    assert set(lexicon.SPECIFIC_THEME_PATTERNS) == set(THEME_IDS)


def test_weak_labels_theme_window_keeps_the_sentences_about_the_theme():
    text = "Return home interviews are timely. Plans are not always updated. Children who go missing are seen."
    assert theme_window(text, "missing_children") == "Return home interviews are timely. Children who go missing are seen."
    assert theme_window(text, "young_carers") == text  # no cue: the theme came from structure, so all of it


# --- Label model ------------------------------------------------------------------------------


def test_weak_labels_label_model_counts_prior_and_confusion_with_smoothing():
    # One LF, two classes; outputs 0 = abstain, 1 = fires. Class 1: fires 3 of 3; class 0: fires 0 of 1.
    model = NaiveBayesLabelModel(2, 2, smoothing=1.0).fit(np.array([[1], [1], [1], [0]]), np.array([1, 1, 1, 0]))
    prior = np.array([2 / 6, 4 / 6])  # (1+1, 3+1) / (4+2)
    fires = np.array([1 / 3, 4 / 5])  # class 0: (0+1)/(1+2); class 1: (3+1)/(3+2)
    expected = prior * fires / (prior * fires).sum()
    assert np.allclose(model.predict_proba(np.array([[1]])), expected)
    abstains = prior * (1 - fires) / (prior * (1 - fires)).sum()
    assert np.allclose(model.predict_proba(np.array([[0]])), abstains)


def test_weak_labels_label_model_trusts_the_accurate_lf_when_lfs_disagree():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    accurate = np.where(rng.random(400) < 0.9, labels, 1 - labels) + 1  # says the label 90% of the time
    noisy = np.where(rng.random(400) < 0.55, labels, 1 - labels) + 1  # little better than a coin
    model = NaiveBayesLabelModel(2, 3).fit(np.column_stack([accurate, noisy]), labels)
    # accurate says class 1 (code 2), noisy says class 0 (code 1): the accurate LF wins.
    probabilities = model.predict_proba(np.array([[2, 1], [1, 2]]))
    assert probabilities[0, 1] > 0.8 and probabilities[1, 0] > 0.8
    assert np.allclose(probabilities.sum(axis=1), 1.0)


TOY_RECORDS = [
    ("Return home interviews are timely and effective for children who go missing.", "finding", ["missing_children"], "strength"),
    ("Return home interviews are not always offered, and there are delays.", "finding", ["missing_children"], "weakness"),
    ("Young carers are identified and well supported.", "finding", ["young_carers"], "strength"),
    ("Young carers are not always identified.", "finding", ["young_carers"], "weakness"),
    ("At 31 March 2015, 420 children were looked after.", "context", [], "neutral"),
    ("In 2016, 12 children were privately fostered.", "context", [], "neutral"),
    ("Ensure that return home interviews are offered to every child.", "recommendation", ["missing_children"], "weakness"),
]


def toy_labeller() -> WeakLabeller:
    records = [{"themes": t, "polarity": p, "theme_polarity": {x: p for x in t}} for _, _, t, p in TOY_RECORDS]
    return fit_labeller([Finding(text, kind) for text, kind, _, _ in TOY_RECORDS], records)


def test_weak_labels_combiner_labels_toy_findings_by_their_cues():
    labels, probabilities = toy_labeller().predict(
        [
            Finding("Return home interviews are effective when children go missing.", "finding"),
            Finding("Young carers are not always identified, and there are delays.", "finding"),
            Finding("At 31 March 2017, 300 children were looked after.", "context"),
        ]
    )
    assert list(labels[0].themes) == ["missing_children"] and labels[0].polarity == "strength"
    assert list(labels[1].themes) == ["young_carers"] and labels[1].polarity == "weakness"
    assert labels[1].theme_polarity["young_carers"][0] == "weakness"
    assert labels[2].themes == {} and labels[2].polarity == "neutral"
    assert probabilities.shape == (3, len(THEME_IDS)) and ((probabilities >= 0) & (probabilities <= 1)).all()
    assert "lf_specific_cues_missing_children" in labels[0].fired and "lf_context_has_no_themes" in labels[2].fired


def test_weak_labels_out_of_fold_labels_each_authority_with_models_counted_on_the_others():
    authorities = ["A", "B", "C", "D", "E"]
    records, findings = [], []
    for n, authority in enumerate(authorities):
        for text, kind, themes, polarity in TOY_RECORDS:
            # Authority A reads young carers findings as having no theme: only its own models could learn that.
            themes = [] if authority == "A" and themes == ["young_carers"] else themes
            records.append(
                {
                    "themes": themes,
                    "polarity": polarity,
                    "theme_polarity": {t: polarity for t in themes},
                    "local_authority": authority,
                }
            )
            findings.append(Finding(f"{text} ({n})", kind))
    predicted = out_of_fold(findings, records, folds=len(authorities))
    held_out = [i for i, r in enumerate(records) if r["local_authority"] == "A"]
    others = [i for i, r in enumerate(records) if r["local_authority"] != "A"]
    expected, _ = fit_labeller([findings[i] for i in others], [records[i] for i in others]).predict(
        [findings[i] for i in held_out]
    )
    assert [predicted.labels[i].themes for i in held_out] == [e.themes for e in expected]
    assert any("young_carers" in predicted.labels[i].themes for i in held_out)


def test_weak_labels_record_uses_weak_field_names_only():
    weak = WeakLabels({"adoption": 0.9}, "mixed", 0.7, {"adoption": ("weakness", 0.6)}, ["lf_area_adoption"])
    record = weak_record({"id": "x#0", "text": "Adopters wait."}, weak)
    assert not GOLD_FIELD_NAMES & set(record) and not any("gold" in key for key in record)
    assert record["weak_themes"] == ["adoption"] and record["weak_theme_polarity"] == {"adoption": "weakness"}
    assert record["weak_confidence"] == {"themes": {"adoption": 0.9}, "polarity": 0.7, "theme_polarity": {"adoption": 0.6}}
    assert record["source"] == "weak"


# --- The stored weak labels -------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored() -> list[dict]:
    path = WEAK_DIR / LABELS_FILE
    if not path.exists():
        pytest.skip(f"{path} not generated (python -m training.weak_labels)")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_weak_labels_stored_file_never_uses_gold_field_names(stored):
    keys = set().union(*(record.keys() for record in stored))
    assert not keys & GOLD_FIELD_NAMES
    assert not [key for key in keys if "gold" in key.lower()]
    assert {record["source"] for record in stored} == {"weak"}


def test_weak_labels_stored_labels_are_taxonomy_ids(stored):
    assert {t for r in stored for t in r["weak_themes"]} <= set(THEME_IDS)
    assert {r["weak_polarity"] for r in stored} <= set(POLARITIES)
    assert {p for r in stored for p in r["weak_theme_polarity"].values()} <= set(POLARITIES)
    assert all(set(r["weak_theme_polarity"]) == set(r["weak_themes"]) for r in stored)
    assert {name for r in stored for name in r["labelling_functions_fired"]} <= set(LF_BY_NAME)


def test_weak_labels_stored_confidences_are_probabilities(stored):
    for r in stored:
        confidence = r["weak_confidence"]
        assert set(confidence["themes"]) == set(r["weak_themes"])
        values = [confidence["polarity"], *confidence["themes"].values(), *confidence["theme_polarity"].values()]
        assert all(0.0 <= v <= 1.0 for v in values), r["id"]
        # A weak theme is one the label model thinks more likely than not.
        assert all(v >= 0.5 for v in confidence["themes"].values()), r["id"]


def test_weak_labels_stored_ids_are_unique_report_and_index(stored):
    assert len({r["id"] for r in stored}) == len(stored)
    assert all(r["id"] == f"{r['report_id']}#{r['index']}" for r in stored)


def test_weak_labels_stored_file_loads_with_datasets(stored, tmp_path):
    dataset = datasets.load_dataset("json", data_files=str(WEAK_DIR / LABELS_FILE), split="train", cache_dir=str(tmp_path))
    assert dataset.num_rows == len(stored)
    assert dataset[0]["weak_themes"] == stored[0]["weak_themes"]


def test_weak_labels_readme_and_lf_figures_list_every_lf(stored):
    figures = json.loads((WEAK_DIR / LF_FILE).read_text(encoding="utf-8"))
    assert [row["name"] for row in figures] == list(LF_BY_NAME)
    assert all(0.0 <= row["coverage"] <= 1.0 for row in figures)
    readme = (WEAK_DIR / "README.md").read_text(encoding="utf-8")
    assert "Warning" in readme and "training signal only" in readme
    assert all(f"`{name}`" in readme for name in LF_BY_NAME)


# --- Against the corpus -----------------------------------------------------------------------


def test_weak_labels_stored_file_has_every_finding_of_every_report(stored, corpus, corpus_index):
    per_report = {}
    for r in stored:
        per_report[r["report_id"]] = per_report.get(r["report_id"], 0) + 1
    assert set(per_report) == set(corpus_index)
    report_id = min(corpus_index)
    findings = list(corpus_findings(corpus, [report_id]))
    assert per_report[report_id] == len(findings)
    first = next(r for r in stored if r["id"] == f"{report_id}#0")
    assert first["text"] == findings[0]["text"]


def test_weak_labels_stored_labels_are_what_the_labeller_gives_today(stored, corpus_index):
    gold = read_gold()
    labeller = fit_labeller([finding_from_record(r, corpus_index[r["report_id"]]) for r in gold], gold)
    sample = stored[:: max(1, len(stored) // 200)]
    labels, _ = labeller.predict([finding_from_record(r, corpus_index[r["report_id"]]) for r in sample])
    assert [list(weak.themes) for weak in labels] == [r["weak_themes"] for r in sample]
    assert [weak.polarity for weak in labels] == [r["weak_polarity"] for r in sample]


def test_weak_labels_gold_ids_are_among_the_stored_findings(stored):
    # Users drop gold findings from weak training data by id, so gold ids must name stored findings.
    stored_ids = {r["id"] for r in stored}
    gold_ids = [record["id"] for record in read_gold()]
    # Only the few gold findings whose text today's segmenter no longer produces may be missing.
    assert sum(i in stored_ids for i in gold_ids) >= 0.95 * len(gold_ids)
