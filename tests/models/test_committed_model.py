"""The model committed under `models/`: what the README's main command and other teams load."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nlp.artifact import load_model
from nlp.classify import CLASSIFIER_PIPE, default_model_path
from nlp.taxonomy import POLARITIES, THEME_IDS

from ..conftest import SAMPLE_DIR

# The bar the model issue sets for grouped cross-validation.
REQUIRED = {"theme_micro_f1": 0.80, "theme_macro_f1": 0.70, "polarity_macro_f1": 0.80}


@pytest.fixture(scope="module")
def model_dir():
    return default_model_path()


@pytest.fixture(scope="module")
def meta(model_dir):
    return json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))


def test_committed_model_is_the_default_and_records_version_and_taxonomy(model_dir, meta):
    assert model_dir.name == f"{meta['name']}-{meta['version']}"
    assert meta["labels"][CLASSIFIER_PIPE] == list(THEME_IDS)
    assert meta["inspection_themes"]["taxonomy"]["themes"] == list(THEME_IDS)
    assert meta["inspection_themes"]["taxonomy"]["polarities"] == list(POLARITIES)
    assert meta["inspection_themes"]["training_data"]["gold_findings"] >= 1500


def test_committed_model_meets_the_cross_validated_bar_and_beats_the_keyword_baseline(meta):
    performance = meta["performance"]
    for measure, floor in REQUIRED.items():
        assert performance[measure] >= floor, measure
    assert performance["theme_micro_f1"] > performance["keyword_baseline_theme_micro_f1"]
    assert performance["polarity_macro_f1"] > performance["keyword_baseline_polarity_macro_f1"]
    assert meta["inspection_themes"]["metrics"]["cross_validation"]["grouped_by"] == "local_authority"


def test_committed_model_card_reports_the_metrics_it_was_trained_with(model_dir, meta):
    card = (model_dir / "README.md").read_text(encoding="utf-8")
    assert "it is not an inspection judgement" in card
    assert f"| theme micro-F1 | {meta['performance']['theme_micro_f1']} |" in card
    for theme in THEME_IDS:
        assert f"| {theme} |" in card


def test_committed_classifier_file_matches_its_checksum(model_dir):
    model, cfg = load_model(model_dir / CLASSIFIER_PIPE)
    assert list(model.themes_.classes_) == list(THEME_IDS)
    assert cfg["taxonomy"]["themes"] == list(THEME_IDS)


def test_committed_model_loads_by_path_in_a_fresh_process_and_labels_a_report(model_dir):
    report = SAMPLE_DIR / "stockport-2022-ilacs.txt"
    script = (
        "import json, sys, spacy\n"
        "nlp = spacy.load(sys.argv[1])\n"
        "doc = nlp(open(sys.argv[2], encoding='utf-8').read())\n"
        "print(json.dumps([[f._.themes, f._.polarity] for f in doc.spans['findings']]))\n"
    )
    # No import of `nlp` in the child: spaCy must find the components through entry points.
    done = subprocess.run([sys.executable, "-c", script, str(model_dir), str(report)], capture_output=True, text=True, check=True)
    findings = json.loads(done.stdout)
    assert len(findings) > 40
    assert all(polarity in POLARITIES for _, polarity in findings)
    labelled = {theme for themes, _ in findings for theme in themes}
    assert {"care_leavers", "leadership_and_governance"} <= labelled
