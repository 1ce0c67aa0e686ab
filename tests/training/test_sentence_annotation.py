"""Sentence gold: readers' labels are checked against what they read, and adjudication wins."""

from __future__ import annotations

import json

import pytest

from nlp.jsonl import write_jsonl
from training import sentence_annotation
from training.sentence_annotation import reading_record

FINDING = {"id": "a#1", "kind": "finding", "themes": ["adoption"], "polarity": "mixed",
           "text": "Adopters are matched quickly. However, support after adoption is too slow."}


def labels(*polarities: str, finding_id: str = "a#1") -> dict:
    return {"id": finding_id, "sentences": [{"n": n, "polarity": p} for n, p in enumerate(polarities)], "note": ""}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(sentence_annotation, "FOLDER", tmp_path)
    for name in ("batch_s1.jsonl", "batch_s_double.jsonl"):
        write_jsonl([reading_record(FINDING)], tmp_path / name)
    return tmp_path


def test_a_reader_sees_the_sentences_the_models_split_with_their_offsets():
    record = reading_record(FINDING)
    assert [(s["start"], s["end"]) for s in record["sentences"]] == [(0, 29), (30, 74)]
    assert [s["text"] for s in record["sentences"]] == ["Adopters are matched quickly.", "However, support after adoption is too slow."]


TWICE = [labels("strength", "weakness"), labels("strength", "mixed")]
RENUMBERED = [{"id": "a#1", "sentences": [{"n": 0, "polarity": "strength"}, {"n": 0, "polarity": "weakness"}]}]


@pytest.mark.parametrize(
    "bad",
    [[labels("strength")], [labels("strength", "weakness", "neutral")], [labels("strength", "poor")], TWICE, RENUMBERED],
    ids=["too few", "too many", "unknown value", "labelled twice", "a sentence twice"],
)
def test_labels_that_do_not_match_the_sentences_read_are_refused_by_name(folder, bad):
    write_jsonl(bad, folder / "labels_s1.jsonl")
    with pytest.raises(SystemExit, match="a#1"):
        sentence_annotation.read_labels(folder / "labels_s1.jsonl", folder / "batch_s1.jsonl")


def test_sentence_gold_is_the_first_reading_unless_adjudicated(folder, tmp_path):
    write_jsonl([labels("strength", "mixed")], folder / "labels_s1.jsonl")
    output = tmp_path / "sentences.jsonl"
    sentence_annotation.build(output)
    assert [s["polarity"] for s in json.loads(output.read_text())["sentences"]] == ["strength", "mixed"]

    write_jsonl([labels("strength", "weakness")], folder / "labels_s_double_adjudicated.jsonl")
    sentence_annotation.build(output)
    gold = json.loads(output.read_text())
    assert gold == {"id": "a#1", "sentences": [{"start": 0, "end": 29, "polarity": "strength"}, {"start": 30, "end": 74, "polarity": "weakness"}]}


def test_drawing_again_never_overwrites_batches_that_were_read(folder):
    before = (folder / "batch_s1.jsonl").read_text()
    with pytest.raises(SystemExit, match="already holds batches"):
        sentence_annotation.draw(mixed=1, plain=1, batches=1, double=1, seed=0, force=False)
    assert (folder / "batch_s1.jsonl").read_text() == before
