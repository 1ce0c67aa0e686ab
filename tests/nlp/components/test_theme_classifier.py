"""The theme classifier component: overfit, save, reload, batch equals single, refuse bad artifacts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import spacy
import skops.io as sio

from nlp.artifact import CFG_FILE, MODEL_FILE
from nlp.errors import ModelCompatibilityError
from nlp.pipeline import make_segmenter
from nlp.taxonomy import THEME_IDS
from tests.conftest import TINY_THEMES, tiny_training_set

REPORT = """Inspection of Anytown local authority children’s services
Inspection dates: 4 to 15 March 2024

The experiences and progress of children who need help and protection: good
1. Return home interviews after children go missing from home are timely. This is effective and strong.
2. Adopters are recruited and matched quickly and the adoption panel is effective. This is not always done and too slow.

What needs to improve?
◼ Personal advisers keep in touch with care leavers and pathway plans are strong.
"""


def _labels(doc):
    return [(f._.themes, f._.polarity, f._.theme_polarity, f._.scores) for f in doc.spans["findings"]]


def test_theme_classifier_overfits_its_training_data(tiny_model):
    records = tiny_training_set()
    predictions = tiny_model.predict([r["text"] for r in records])
    assert [p.themes for p in predictions] == [r["themes"] for r in records]
    assert [p.polarity for p in predictions] == [r["polarity"] for r in records]
    assert [p.theme_polarity for p in predictions] == [r["theme_polarity"] for r in records]


def test_theme_classifier_writes_labels_and_evidence_on_findings(tiny_pipeline_dir):
    doc = spacy.load(tiny_pipeline_dir)(REPORT)
    first, second, recommendation = doc.spans["findings"]
    assert first._.themes == ["missing_children"] and first._.polarity == "strength"
    assert second._.themes == ["adoption"] and second._.theme_polarity == {"adoption": "weakness"}
    assert set(first._.scores) == set(THEME_IDS)
    assert first._.scores["missing_children"] > first._.scores["adoption"]
    evidence = first._.evidence["missing_children"]
    assert evidence["sentences"][0].startswith("Return home interviews")
    theme_words = set(TINY_THEMES["missing_children"].lower().split())
    assert evidence["ngrams"] and all(set(ngram.split()) <= theme_words for ngram in evidence["ngrams"])
    # The schema: every recommendation item is a weakness, whatever its wording.
    assert recommendation._.kind == "recommendation" and recommendation._.polarity == "weakness"
    assert set(recommendation._.theme_polarity.values()) <= {"weakness"}


def test_theme_classifier_reload_in_fresh_process_gives_identical_predictions(tiny_pipeline_dir, tmp_path):
    expected = _labels(spacy.load(tiny_pipeline_dir)(REPORT))
    script = textwrap.dedent(
        f"""
        import json, spacy
        nlp = spacy.load({str(tiny_pipeline_dir)!r})
        doc = nlp({REPORT!r})
        print(json.dumps([[f._.themes, f._.polarity, f._.theme_polarity, f._.scores] for f in doc.spans["findings"]]))
        """
    )
    # A fresh interpreter that never imported `nlp`: spaCy must find the components by entry points.
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(output) == json.loads(json.dumps(expected))


def test_theme_classifier_pipe_equals_single_calls(tiny_pipeline_dir):
    nlp = spacy.load(tiny_pipeline_dir)
    texts = [REPORT, REPORT.replace("Anytown", "Othertown"), REPORT.split("What needs")[0]]
    singles = [_labels(nlp(text)) for text in texts]
    batched = [_labels(doc) for doc in nlp.pipe(texts, batch_size=2)]
    assert batched == singles


def test_theme_classifier_refuses_a_changed_model_file(tiny_pipeline_dir, tmp_path):
    copy = tmp_path / "changed"
    subprocess.run(["cp", "-r", str(tiny_pipeline_dir), str(copy)], check=True)
    model_file = copy / "themes" / MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(ModelCompatibilityError, match="checksum"):
        spacy.load(copy)


def test_theme_classifier_refuses_untrusted_types_even_with_a_matching_checksum(tiny_pipeline_dir, tmp_path):
    copy = tmp_path / "untrusted"
    subprocess.run(["cp", "-r", str(tiny_pipeline_dir), str(copy)], check=True)
    model_file, cfg_file = copy / "themes" / MODEL_FILE, copy / "themes" / CFG_FILE
    # A file that would run code when rebuilt: it holds a reference to `os.system`.
    import hashlib
    import os

    sio.dump({"payload": os.system}, model_file)
    cfg = json.loads(cfg_file.read_text())
    cfg["model_sha256"] = hashlib.sha256(model_file.read_bytes()).hexdigest()
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(ModelCompatibilityError, match="does not trust"):
        spacy.load(copy)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda cfg: cfg["taxonomy"]["themes"].pop(), "another taxonomy"),
        (lambda cfg: cfg.update(package_version="9.0.0"), "inspection-themes 9.0.0"),
        (lambda cfg: cfg.update(artifact_format=99), "artifact format"),
    ],
)
def test_theme_classifier_refuses_incompatible_artifacts(tiny_pipeline_dir, tmp_path, change, message):
    copy = tmp_path / "incompatible"
    subprocess.run(["cp", "-r", str(tiny_pipeline_dir), str(copy)], check=True)
    cfg_file = copy / "themes" / CFG_FILE
    cfg = json.loads(cfg_file.read_text())
    change(cfg)
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(ModelCompatibilityError, match=message):
        spacy.load(copy)


def test_theme_classifier_without_model_says_how_to_get_one():
    nlp = make_segmenter()
    nlp.add_pipe("ofsted_theme_classifier_v1", name="themes")
    with pytest.raises(ModelCompatibilityError, match="no trained model"):
        nlp(REPORT)


def test_theme_classifier_themes_come_from_the_taxonomy(tiny_model):
    assert list(tiny_model.themes_.classes_) == list(THEME_IDS)
    assert set(TINY_THEMES) <= set(THEME_IDS)
