"""The encoder's fold runs as training reads them: run folders, and the heads' own figures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from thinc.api import Config

from nlp.taxonomy import POLARITIES
from training.encoder_cv import encoder_only_scores, polarity_read_with_sentences, run_folder, sentence_polarity_accuracy

STRENGTH, WEAKNESS, MIXED, NEUTRAL = (POLARITIES.index(p) for p in ("strength", "weakness", "mixed", "neutral"))


def gold_record(i: int, sentences=None) -> dict:
    record = {"id": f"f{i}", "text": f"Finding {i}. It is good.", "themes": ["adoption"], "polarity": "strength",
              "theme_polarity": {"adoption": "strength"}}
    return record | ({"sentences": sentences} if sentences else {})


def config() -> Config:
    return Config({"paths": {"runs": "runs"}, "encoder": {"base": "all-MiniLM-L6-v2", "finetune": {"epochs": 6}}, "training": {"folds": 5}})


def test_sentence_gold_gets_a_run_folder_of_its_own_and_a_run_without_it_keeps_its_folder():
    plain = [gold_record(i) for i in range(3)]
    with_sentences = [gold_record(0, [{"start": 0, "end": 10, "polarity": "neutral"}]), *plain[1:]]
    relabelled = [gold_record(0, [{"start": 0, "end": 10, "polarity": "strength"}]), *plain[1:]]
    # The key of runs made before sentence gold existed: their fine-tunes are found, not redone.
    key = json.dumps({"gold": [(r["id"], r["text"], r["themes"], r["polarity"], r["theme_polarity"]) for r in plain],
                      "base": "all-MiniLM-L6-v2", "finetune": {"epochs": 6}, "folds": 5}, sort_keys=True)
    assert run_folder(config(), plain) == Path("runs/encoder-cv") / hashlib.sha256(key.encode()).hexdigest()[:12]
    assert len({run_folder(config(), plain), run_folder(config(), with_sentences), run_folder(config(), relabelled)}) == 3


def test_sentence_polarity_accuracy_reads_each_gold_sentence_from_its_own_finding():
    records = [
        gold_record(0, [{"start": 0, "end": 10, "polarity": "neutral"}, {"start": 11, "end": 22, "polarity": "strength"}]),
        gold_record(1),  # no sentence gold: not counted
        gold_record(2, [{"start": 0, "end": 10, "polarity": "weakness"}, {"start": 11, "end": 22, "polarity": "mixed"}]),
    ]
    test = np.array([2, 1, 0])  # the fold's order, not the gold's
    owner = np.array([0, 0, 1, 1, 2, 2])
    read = [WEAKNESS, STRENGTH, STRENGTH, STRENGTH, NEUTRAL, WEAKNESS]
    outputs = {"sentence_owner": owner, "sentence_polarity_logits": np.eye(len(POLARITIES))[read]}
    result = sentence_polarity_accuracy(records, test, outputs)
    assert result["sentences"] == 4
    assert result["accuracy"] == 0.5
    assert result["recall"] == {"strength": 0.0, "weakness": 1.0, "mixed": 0.0, "neutral": 1.0}


def test_encoder_only_scores_tell_right_heads_from_wrong_ones():
    themes = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    polarity = np.array([STRENGTH, MIXED, MIXED, WEAKNESS])
    pairs = np.where(themes == 1, MIXED, -1)
    right_pairs = np.zeros((4, 2, len(POLARITIES)))
    right_pairs[:, :, MIXED] = 1.0
    right = encoder_only_scores(themes, polarity, pairs, np.where(themes == 1, 4.0, -4.0), np.eye(len(POLARITIES))[polarity], right_pairs)
    assert right["theme_micro_f1_at_0.5"] == right["theme_macro_f1_at_0.5"] == 1.0
    assert right["polarity_macro_f1"] == right["mixed_recall"] == right["pair_polarity_accuracy"] == 1.0

    every_mixed_called_strength = np.where(polarity == MIXED, STRENGTH, polarity)
    wrong = encoder_only_scores(
        themes, polarity, pairs, np.where(themes == 1, -4.0, 4.0), np.eye(len(POLARITIES))[every_mixed_called_strength], -right_pairs
    )
    assert wrong["theme_micro_f1_at_0.5"] == 0.0
    assert wrong["mixed_recall"] == 0.0
    assert wrong["pair_polarity_accuracy"] == 0.0


def test_polarity_read_with_sentences_finds_a_mixed_finding_from_its_sentences_alone():
    """The finding's own logits are noise here; only its two sentences say what it is."""
    rng = np.random.default_rng(0)
    kinds = {"strength": (STRENGTH, STRENGTH), "weakness": (WEAKNESS, WEAKNESS), "mixed": (STRENGTH, WEAKNESS)}
    records, sentence_logits = [], []
    for i in range(90):
        polarity = list(kinds)[i % 3]
        records.append(gold_record(i) | {"polarity": polarity, "local_authority": f"Authority {i % 6}"})
        for read in kinds[polarity]:
            sentence_logits.append(np.eye(len(POLARITIES))[read] * 4 + rng.normal(0, 0.3, len(POLARITIES)))
    outputs = {
        "polarity_logits": rng.normal(0, 1, (90, len(POLARITIES))),
        "sentence_polarity_logits": np.array(sentence_logits),
        "sentence_owner": np.repeat(np.arange(90), 2),
    }
    result = polarity_read_with_sentences(records, np.arange(90), outputs, {"polarity_C": 1.0, "polarity_class_weight": {"mixed": 1.5}})
    assert result == {"polarity_macro_f1": 1.0, "mixed_recall": 1.0}
