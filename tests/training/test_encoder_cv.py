"""The encoder's fold runs as training reads them: run folders, and the heads' own figures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from thinc.api import Config

from nlp.finetune import FinetuneSettings
from nlp.taxonomy import DEFAULT_TAXONOMY, POLARITIES
from training.encoder_cv import encoder_only_scores, run_folder, sentence_polarity_accuracy, stacked_within_fold

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


def test_processes_of_one_run_may_differ_in_threads_but_not_in_what_they_learn():
    records = [gold_record(i) for i in range(3)]
    one_thread, two_threads, longer = config(), config(), config()
    one_thread["encoder"]["finetune"]["threads"] = 1
    two_threads["encoder"]["finetune"]["threads"] = 2
    longer["encoder"]["finetune"]["epochs"] = 8
    assert run_folder(one_thread, records) == run_folder(two_threads, records) == run_folder(config(), records)
    assert run_folder(longer, records) != run_folder(config(), records)


@pytest.mark.parametrize("arguments, problem", [(["--fold", "7"], "no fold [7]"), (["--fold", "0", "--first", "1"], "not both")])
def test_folds_refuses_folds_the_run_has_not(arguments, problem):
    from typer.testing import CliRunner

    from training.encoder_cv import app

    result = CliRunner().invoke(app, ["folds", "training/configs/default.cfg", *arguments])
    assert result.exit_code == 2 and problem in result.output


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


def test_stacked_within_fold_scores_what_the_fold_outputs_say():
    """Outputs that name each finding's theme and polarity plainly give the stacker's labels back."""
    rng = np.random.default_rng(0)
    themes, n = DEFAULT_TAXONOMY.theme_ids, 120
    records, theme_logits, polarity_logits = [], np.full((n, len(themes)), -6.0), np.zeros((n, len(POLARITIES)))
    for i in range(n):
        theme, polarity = themes[i % 2], POLARITIES[i % 4]
        records.append(gold_record(i) | {"themes": [theme], "polarity": polarity, "theme_polarity": {theme: polarity}, "local_authority": f"Authority {i % 6}"})
        theme_logits[i, i % 2] = 6.0
        polarity_logits[i, POLARITIES.index(polarity)] = 6.0
    theme_logits += rng.normal(0, 0.3, theme_logits.shape)
    pair_logits = np.repeat(polarity_logits[:, None, :], len(themes), axis=1)
    outputs = {
        "theme_logits": theme_logits, "polarity_logits": polarity_logits, "pair_logits": pair_logits,
        "sentence_theme_logits": theme_logits, "sentence_polarity_logits": polarity_logits, "sentence_owner": np.arange(n),
    }
    stacker = {"pair_strategy": "hybrid", "theme_C": 1.0, "polarity_C": 1.0, "polarity_class_weight": {"mixed": 1.5}, "threshold_shrinkage": 50.0}
    result = stacked_within_fold(records, np.arange(n), outputs, stacker)
    assert result["theme_micro_f1"] == result["polarity_macro_f1"] == result["mixed_recall"] == result["pair_f1"] == 1.0


def test_final_fine_tunes_into_the_run_folder_training_reuses_and_leaves_self_training_to_training(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from training import encoder_cv, train

    made, trained = {}, {}

    def fake_final_encoder(records, taxonomy, settings, load_encoder, precision, folder, log):
        made.update(findings=len(records), settings=settings, precision=precision, folder=folder)
        return {"fine_tune_seconds": 1.0}

    class Stop(Exception):
        pass

    def fake_train_model(records, taxonomy, settings, encoder_folder, **_):
        trained.update(findings=len(records), settings=settings, folder=encoder_folder)
        raise Stop

    monkeypatch.setattr(encoder_cv, "final_encoder", fake_final_encoder)
    monkeypatch.setattr(train, "train_model", fake_train_model)
    monkeypatch.setattr(train, "cached_ngram_out_of_fold", lambda config, records, settings: None)
    runs = ["--paths.runs", str(tmp_path)]
    result = CliRunner().invoke(encoder_cv.app, ["final", "training/configs/default.cfg", *runs])
    assert result.exit_code == 0, result.output
    with pytest.raises(Stop):
        train.train(Config().from_disk("training/configs/default.cfg", overrides={"paths.runs": str(tmp_path)}))
    assert made["folder"] == trained["folder"] and made["findings"] == trained["findings"]
    assert made["settings"] == FinetuneSettings(**trained["settings"].encoder["finetune"]) and made["precision"] == trained["settings"].encoder["precision"]
    refused = CliRunner().invoke(encoder_cv.app, ["final", "training/configs/default.cfg", *runs, "--encoder.self_training.findings", "100"])
    assert refused.exit_code == 2 and "student" in refused.output
