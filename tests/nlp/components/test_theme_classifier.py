"""The theme classifier component: overfit, save, reload, batch equals single, refuse bad artifacts."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap

import pytest
import spacy
import skops.io as sio

from nlp.artifact import CFG_FILE
from nlp.models.kinds import NgramFindingModel
from nlp.errors import ModelCompatibilityError
from nlp.pipeline import make_segmenter
from nlp.taxonomy import DEFAULT_TAXONOMY, THEME_IDS
from spacy.training import Example
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
    sentence = evidence["sentences"][0]
    assert sentence["text"].startswith("Return home interviews")
    assert first.text[sentence["start"] : sentence["end"]] == sentence["text"]
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
    model_file = copy / "themes" / NgramFindingModel.MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(ModelCompatibilityError, match="checksum"):
        spacy.load(copy)


def test_theme_classifier_refuses_untrusted_types_even_with_a_matching_checksum(tiny_pipeline_dir, tmp_path):
    copy = tmp_path / "untrusted"
    subprocess.run(["cp", "-r", str(tiny_pipeline_dir), str(copy)], check=True)
    model_file, cfg_file = copy / "themes" / NgramFindingModel.MODEL_FILE, copy / "themes" / CFG_FILE
    # A file that would run code when rebuilt: it holds a reference to `os.system`.
    import hashlib
    import os

    sio.dump({"payload": os.system}, model_file)
    cfg = json.loads(cfg_file.read_text())
    cfg["files"][model_file.name] = hashlib.sha256(model_file.read_bytes()).hexdigest()
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(ModelCompatibilityError, match="does not trust"):
        spacy.load(copy)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda cfg: cfg["taxonomy"]["themes"].pop(), "does not match its heads"),
        (lambda cfg: cfg["taxonomy"]["themes"].reverse(), "does not match its heads"),
        (lambda cfg: cfg["taxonomy"].pop("name"), "stored taxonomy"),
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


def test_theme_classifier_reads_a_model_stored_before_taxonomies_were_data_as_the_default(tiny_pipeline_dir, tmp_path):
    """Models 0.2.0 stored the default taxonomy's ids under schema version 1, without name or descriptions."""
    copy = tmp_path / "legacy"
    subprocess.run(["cp", "-r", str(tiny_pipeline_dir), str(copy)], check=True)
    cfg_file = copy / "themes" / CFG_FILE
    cfg = json.loads(cfg_file.read_text())
    cfg["taxonomy"] = {"schema_version": 1, "themes": list(THEME_IDS), "polarities": ["strength", "weakness", "mixed", "neutral"]}
    cfg_file.write_text(json.dumps(cfg))
    component = spacy.load(copy).get_pipe("themes")
    assert component.taxonomy == DEFAULT_TAXONOMY and component.labels == THEME_IDS


def test_theme_classifier_without_model_says_how_to_get_one():
    nlp = make_segmenter()
    nlp.add_pipe("ofsted_theme_classifier_v2", name="themes")
    with pytest.raises(ModelCompatibilityError, match="no trained model"):
        nlp(REPORT)


def test_theme_classifier_themes_come_from_the_taxonomy(tiny_model):
    assert list(tiny_model.themes_.classes_) == list(THEME_IDS)
    assert set(TINY_THEMES) <= set(THEME_IDS)


def _gold_example(nlp, text, labels):
    """An Example whose reference findings carry gold labels, in order of the report's findings."""
    reference = nlp.make_doc(text)
    for name, proc in nlp.pipeline:
        if name != "themes":
            reference = proc(reference)
    for span, (themes, polarity) in zip(reference.spans["findings"], labels):
        span._.themes, span._.polarity = themes, polarity
        span._.theme_polarity = {theme: polarity for theme in themes}
    return Example(nlp.make_doc(text), reference)


GOLD = [(["missing_children"], "strength"), (["adoption"], "weakness"), (["care_leavers"], "weakness")]


def test_theme_classifier_bytes_and_disk_round_trips_give_identical_predictions(tiny_pipeline_dir, tmp_path):
    nlp = spacy.load(tiny_pipeline_dir)
    expected = _labels(nlp(REPORT))
    from_bytes = make_segmenter()
    from_bytes.add_pipe("ofsted_theme_classifier_v2", name="themes")
    from_bytes.from_bytes(nlp.to_bytes())
    assert _labels(from_bytes(REPORT)) == expected
    nlp.to_disk(tmp_path / "again")
    assert _labels(spacy.load(tmp_path / "again")(REPORT)) == expected


def test_theme_classifier_refuses_changed_bytes(tiny_pipeline_dir):
    component = spacy.load(tiny_pipeline_dir).get_pipe("themes")
    data = bytearray(component.to_bytes())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(ModelCompatibilityError):
        component.from_bytes(bytes(data))


def test_theme_classifier_initializes_from_a_trained_model_named_in_the_config(tiny_pipeline_dir):
    nlp = make_segmenter()
    nlp.add_pipe("ofsted_theme_classifier_v2", name="themes")
    nlp.config["initialize"]["components"]["themes"] = {"source": str(tiny_pipeline_dir)}
    nlp.initialize()
    assert _labels(nlp(REPORT)) == _labels(spacy.load(tiny_pipeline_dir)(REPORT))


def test_theme_classifier_initializes_by_fitting_labelled_examples():
    nlp = make_segmenter()
    component = nlp.add_pipe("ofsted_theme_classifier_v2", name="themes")
    report = REPORT.replace("not always done and too slow", "effective and strong")
    examples = [_gold_example(nlp, report.replace("Anytown", f"Town {k}"), GOLD) for k in range(6)]
    nlp.initialize(lambda: examples)
    assert component.labels == tuple(THEME_IDS)
    assert component.model_info["findings"] == 18


def test_theme_classifier_without_model_or_examples_says_what_initialize_needs():
    nlp = make_segmenter()
    nlp.add_pipe("ofsted_theme_classifier_v2", name="themes")
    with pytest.raises(ModelCompatibilityError, match="source"):
        nlp.initialize()


def test_theme_classifier_evaluate_reports_the_four_scores(tiny_pipeline_dir):
    nlp = spacy.load(tiny_pipeline_dir)
    scores = nlp.evaluate([_gold_example(nlp, REPORT, GOLD)])
    assert scores["themes_micro_f"] == 1.0 and scores["theme_polarity_f"] == 1.0
    assert scores["polarity_macro_f"] == 1.0 and scores["themes_macro_f"] == 1.0
    # Right themes, one polarity wrong: themes stay perfect, pairs and polarity do not.
    other = [(["missing_children"], "weakness"), (["adoption"], "weakness"), (["care_leavers"], "weakness")]
    scores = nlp.evaluate([_gold_example(nlp, REPORT, other)])
    assert scores["themes_micro_f"] == 1.0
    assert scores["theme_polarity_f"] == pytest.approx(2 / 3, abs=0.001)
    assert scores["polarity_macro_f"] < 1.0
    # A theme read where the gold has another: both themes and pairs drop.
    wrong = [(["adoption"], "strength"), (["adoption"], "weakness"), (["care_leavers"], "weakness")]
    scores = nlp.evaluate([_gold_example(nlp, REPORT, wrong)])
    assert scores["themes_micro_f"] == pytest.approx(2 / 3, abs=0.001)


@pytest.fixture(params=["fast", "accurate"])
def pipeline_dir(request, tiny_pipeline_dir):
    if request.param == "fast":
        return tiny_pipeline_dir
    return request.getfixturevalue("tiny_encoder_pipeline_dir")


def test_theme_classifier_both_kinds_round_trip_through_bytes_and_pipe(pipeline_dir):
    nlp = spacy.load(pipeline_dir)
    texts = [REPORT, REPORT.replace("Anytown", "Othertown"), REPORT.split("What needs")[0]]
    singles = [_labels(nlp(text)) for text in texts]
    assert [_labels(doc) for doc in nlp.pipe(texts, batch_size=2)] == singles
    copy = make_segmenter()
    copy.add_pipe("ofsted_theme_classifier_v2", name="themes")
    copy.from_bytes(nlp.to_bytes())
    assert [_labels(copy(text)) for text in texts] == singles


def test_theme_classifier_evidence_sentences_are_the_docs_sentences_with_offsets(pipeline_dir):
    doc = spacy.load(pipeline_dir)(REPORT)
    for finding in doc.spans["findings"]:
        sentences = {(s.start_char - finding.start_char, s.end_char - finding.start_char) for s in finding.sents}
        for item in finding._.evidence.values():
            for sentence in item["sentences"]:
                assert (sentence["start"], sentence["end"]) in sentences
                assert finding.text[sentence["start"] : sentence["end"]] == sentence["text"]


def test_theme_classifier_evidence_ngrams_are_words_of_the_finding(pipeline_dir):
    doc = spacy.load(pipeline_dir)(REPORT)
    ngrams = [(finding, ngram) for finding in doc.spans["findings"] for item in finding._.evidence.values() for ngram in item["ngrams"]]
    assert ngrams
    for finding, ngram in ngrams:
        assert set(ngram.split()) <= {token.lower_ for token in finding}


@pytest.mark.parametrize("name", ["encoder.onnx", "heads.safetensors", "tokenizer.json", "stacker.skops", "fast.skops"])
def test_theme_classifier_refuses_a_changed_file_of_the_encoder_model(tiny_encoder_pipeline_dir, tmp_path, name):
    copy = tmp_path / "changed"
    subprocess.run(["cp", "-r", str(tiny_encoder_pipeline_dir), str(copy)], check=True)
    path = copy / "themes" / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelCompatibilityError, match=name):
        spacy.load(copy)


def test_theme_classifier_refuses_a_changed_spacy_file_with_a_named_error(tiny_pipeline_dir, tmp_path):
    from nlp.classify import load_pipeline

    copy = tmp_path / "vocab-changed"
    subprocess.run(["cp", "-r", str(tiny_pipeline_dir), str(copy)], check=True)
    strings = copy / "vocab" / "strings.json"
    strings.write_bytes(strings.read_bytes() + b"garbage")
    with pytest.raises(ModelCompatibilityError, match="vocab/strings.json"):
        load_pipeline(str(copy))


def test_the_accurate_kind_refuses_parts_that_do_not_fit_together(tiny_encoder_model):
    from nlp.models.kinds import EncoderFindingModel

    parts = tiny_encoder_model
    with pytest.raises(ModelCompatibilityError, match="no fast model was given"):
        EncoderFindingModel(parts.onnx, parts.tokenizer, parts.heads, parts.stacker, None, parts.settings)
    other_taxonomy = copy.deepcopy(parts.fast)
    other_taxonomy.themes_.classes_ = other_taxonomy.themes_.classes_[::-1]
    with pytest.raises(ModelCompatibilityError, match="different taxonomies"):
        EncoderFindingModel(parts.onnx, parts.tokenizer, parts.heads, parts.stacker, other_taxonomy, parts.settings)
