"""The gold that training reads: sentence gold is attached only where it fits the gold text."""

from __future__ import annotations

import json

import pytest
from thinc.api import Config

from nlp.jsonl import write_jsonl
from nlp.sentences import sentence_spans
from training.train import gold_of

GOLD = "training/data/gold/gold.jsonl"


def first_gold_finding() -> dict:
    with open(GOLD, encoding="utf-8") as handle:
        return json.loads(handle.readline())


def config_with(sentence_gold) -> Config:
    return Config({"paths": {"gold": GOLD, "sentence_gold": str(sentence_gold) if sentence_gold else None}, "training": {"folds": 5}})


def test_sentence_gold_is_attached_to_its_finding_only(tmp_path):
    finding = first_gold_finding()
    sentences = [{"start": s, "end": e, "polarity": "strength"} for s, e in sentence_spans(finding["text"])]
    write_jsonl([{"id": finding["id"], "sentences": sentences}], tmp_path / "sentences.jsonl")
    records = gold_of(config_with(tmp_path / "sentences.jsonl"))
    assert [r["id"] for r in records if r.get("sentences")] == [finding["id"]]
    assert next(r for r in records if r["id"] == finding["id"])["sentences"] == sentences
    assert not any(r.get("sentences") for r in gold_of(config_with(None)))


@pytest.mark.parametrize("change", ["unknown id", "moved boundary"])
def test_sentence_gold_that_does_not_fit_the_gold_is_refused(tmp_path, change):
    finding = first_gold_finding()
    spans = sentence_spans(finding["text"])
    sentences = [{"start": s, "end": e, "polarity": "strength"} for s, e in spans]
    if change == "moved boundary":
        sentences[0]["end"] -= 1
    write_jsonl([{"id": finding["id"] + ("-gone" if change == "unknown id" else ""), "sentences": sentences}], tmp_path / "sentences.jsonl")
    with pytest.raises(SystemExit, match="sentence_annotation build"):
        gold_of(config_with(tmp_path / "sentences.jsonl"))
