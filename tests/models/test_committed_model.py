"""The models committed under `models/`: what the README's main command and other teams load."""

from __future__ import annotations

import json
import subprocess

import pytest

from nlp.classify import CLASSIFIER_PIPE, MODEL_NAMES, resolve_model, verify_model_folder
from nlp.finetune import BASE_ENCODERS
from nlp.taxonomy import POLARITIES, THEME_IDS

from ..conftest import SAMPLE_DIR
from ..runtime import python_without_training_libraries

@pytest.fixture(scope="module", params=sorted(MODEL_NAMES))
def kind(request):
    return request.param


@pytest.fixture(scope="module")
def model_dir(kind):
    return resolve_model(kind)


@pytest.fixture(scope="module")
def meta(model_dir):
    return json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))


def test_committed_models_are_named_by_kind_and_record_version_and_taxonomy(kind, model_dir, meta):
    assert model_dir.name == f"{MODEL_NAMES[kind]}-{meta['version']}"
    assert meta["inspection_themes"]["kind"] == kind
    assert meta["labels"][CLASSIFIER_PIPE] == list(THEME_IDS)
    assert meta["inspection_themes"]["taxonomy"]["themes"] == list(THEME_IDS)
    assert meta["inspection_themes"]["taxonomy"]["polarities"] == list(POLARITIES)
    assert meta["inspection_themes"]["training_data"]["gold_findings"] >= 1500


def test_committed_default_is_the_accurate_model():
    assert resolve_model(None) == resolve_model("accurate")


def test_committed_accurate_model_records_its_base_weights():
    meta = json.loads((resolve_model("accurate") / "meta.json").read_text(encoding="utf-8"))
    base = meta["inspection_themes"]["base_encoder"]
    pinned = BASE_ENCODERS["all-MiniLM-L6-v2"]
    assert (base["name"], base["licence"], base["sha256"], base["version"]) == (pinned.name, pinned.licence, pinned.sha256, pinned.version)
    card = (resolve_model("accurate") / "README.md").read_text(encoding="utf-8")
    assert pinned.sha256 in card and pinned.licence in card


def test_committed_model_card_reports_the_metrics_it_was_trained_with(model_dir, meta):
    card = (model_dir / "README.md").read_text(encoding="utf-8")
    assert "it is not an inspection judgement" in card
    assert f"| theme micro-F1 | {meta['performance']['theme_micro_f1']} |" in card
    for theme in THEME_IDS:
        assert f"| {theme} |" in card


def test_committed_model_files_match_their_checksums(model_dir):
    verify_model_folder(model_dir)


def test_committed_model_labels_a_report_in_a_fresh_process_without_torch(model_dir):
    report = SAMPLE_DIR / "stockport-2022-ilacs.txt"
    script = (
        "import json, spacy\n"
        "nlp = spacy.load(sys.argv[1])\n"
        "doc = nlp(open(sys.argv[2], encoding='utf-8').read())\n"
        "assert not any(name.split('.')[0] in ('torch', 'transformers') for name in sys.modules)\n"
        "print(json.dumps([[f._.themes, f._.polarity] for f in doc.spans['findings']]))\n"
    )
    # No import of `nlp` in the child: spaCy finds the components through entry points.
    done = subprocess.run([*python_without_training_libraries(script), str(model_dir), str(report)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    findings = json.loads(done.stdout)
    assert len(findings) > 40
    assert all(polarity in POLARITIES for _, polarity in findings)
    labelled = {theme for themes, _ in findings for theme in themes}
    assert {"care_leavers", "leadership_and_governance"} <= labelled
