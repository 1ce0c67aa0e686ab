"""What a model card says about the data a model learnt from."""

from __future__ import annotations

from nlp.model_card import _data_lines

GOLD = {"gold_findings": 3186, "gold_reports": 391, "gold_local_authorities": 123, "gold_path": "gold.jsonl", "gold_sha256": "ab" * 32}
HUMAN = {"human_agreement": {"findings": 539, "theme_micro_f1": 0.95, "theme_macro_f1": 0.95, "polarity_kappa": 0.96, "pair_f1": 0.92}}


def test_the_card_names_the_sentence_gold_a_model_learnt_from_and_only_then():
    sentence_gold = {"sentence_gold_path": "sentences.jsonl", "sentence_gold_sha256": "cd" * 32, "sentence_gold_findings": 560, "sentence_gold_sentences": 2731}
    taught = "\n".join(_data_lines({"training_data": GOLD | sentence_gold}, HUMAN))
    assert "2731 sentences of 560 gold findings" in taught
    assert "`sentences.jsonl`, sha256 `cdcdcdcdcdcdcdcd…`" in taught
    assert "Sentence gold" not in "\n".join(_data_lines({"training_data": GOLD}, HUMAN))


def test_the_card_compares_every_other_model_of_the_run_even_with_figures_equal_to_its_own():
    from nlp.model_card import _compared

    figures = {"themes": {"micro_f1": 0.8}}
    metrics = {"model": figures, "fast": figures, "without_self_training": dict(figures), "second_opinion": dict(figures)}
    assert [name for name, _ in _compared(metrics, "fast")] == [
        "this model",
        "this model without self-training (its teachers' outputs, stacked alike)",
        "fast model of the gold alone (the accurate kind's second opinion)",
    ]
    assert "fast model" in [name for name, _ in _compared(metrics | {"model": {"themes": {"micro_f1": 0.9}}}, "accurate")]
