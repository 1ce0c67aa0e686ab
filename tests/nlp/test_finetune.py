"""Fine-tuning and export of the encoder, on a tiny random BERT built here (no real weights)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from nlp.errors import ModelCompatibilityError
from nlp.finetune import BASE_ENCODERS, BaseEncoder, base_encoder_folder, build_model
from nlp.models.encoder import EncoderHeads, OnnxEncoder
from nlp.sentences import text_sentences

from ..conftest import tiny_training_set

torch = pytest.importorskip("torch", reason="the encoder's training code needs the [train] extra")


def test_finetune_tiny_encoder_gives_back_its_training_labels(tiny_encoder_model):
    records = tiny_training_set()
    labels = tiny_encoder_model.predict([r["text"] for r in records], text_sentences([r["text"] for r in records]), False)
    assert [l.themes for l in labels] == [r["themes"] for r in records]
    assert [l.polarity for l in labels] == [r["polarity"] for r in records]
    assert [l.theme_polarity for l in labels] == [r["theme_polarity"] for r in records]


@pytest.mark.parametrize("theme_attention", [False, True])
def test_finetune_numpy_heads_on_onnx_equal_the_torch_model(tiny_encoder, tiny_encoder_model, theme_attention):
    """Labelling (ONNX Runtime + numpy) computes what training (torch) computed."""
    model = build_model(tiny_encoder.model, 30, 4, dropout=0.0, theme_attention=theme_attention).eval()
    heads = dict(tiny_encoder_model.heads.tensors)
    if theme_attention:
        heads["theme_attention_weight"] = np.random.default_rng(0).normal(size=heads["theme_weight"].shape).astype(np.float32)
    with torch.no_grad():
        if theme_attention:
            model.theme_attention.copy_(torch.from_numpy(heads["theme_attention_weight"]))
        for name, parameter in (("theme", model.theme), ("polarity", model.polarity), ("pair", model.pair)):
            parameter.weight.copy_(torch.from_numpy(heads[f"{name}_weight"]))
            parameter.bias.copy_(torch.from_numpy(heads[f"{name}_bias"]))
        model.theme_query.copy_(torch.from_numpy(heads["theme_query"]))
        model.pair_theme_bias.copy_(torch.from_numpy(heads["pair_theme_bias"]))
    texts = [r["text"] for r in tiny_training_set()[:6]]
    encoder = tiny_encoder_model.encoder
    runtime = EncoderHeads(heads).apply(encoder.encode(texts), text_sentences(texts))
    from nlp.finetune import _gold_sentences, _pad, _tokenize

    tokenized = _tokenize(tiny_encoder_model.tokenizer, texts, 48)
    padded = _pad(tokenized.ids, tokenized.content, torch)
    every_sentence = [[(start, end, 0) for start, end in spans] for spans in text_sentences(texts)]
    token_sentence, _ = _gold_sentences(tokenized, every_sentence, list(range(len(texts))), padded[0].shape[1])
    with torch.no_grad():
        theme, polarity, pair, sentence_polarity = model(*padded, torch.from_numpy(token_sentence))
    assert np.allclose(runtime.theme_logits, theme.numpy(), atol=1e-4)
    assert np.allclose(runtime.polarity_logits, polarity.numpy(), atol=1e-4)
    assert np.allclose(runtime.pair_logits, pair.numpy(), atol=1e-4)
    # Sentence gold teaches the polarity head on the vectors labelling reads for each sentence.
    assert np.allclose(runtime.sentence_polarity_logits, sentence_polarity.numpy(), atol=1e-4)


def test_finetune_int8_vectors_of_a_finding_do_not_depend_on_the_findings_encoded_with_it(tiny_encoder):
    # Dynamic int8 quantisation scales each encoder call by its largest activation: findings sharing
    # a call would change each other's labels.
    from nlp.finetune import export_onnx

    texts = [r["text"] for r in tiny_training_set()[:10]] + ["Short.", "A much longer finding " * 6]
    encoder = OnnxEncoder(export_onnx(tiny_encoder.model, quantize=True), tiny_encoder.tokenizer, max_length=48)
    together = encoder.encode(texts)
    alone = [encoder.encode([text])[0] for text in texts]
    shuffled = encoder.encode(texts[::-1])[::-1]
    for a, b, c in zip(together, alone, shuffled):
        assert np.array_equal(a.tokens, b.tokens) and np.array_equal(a.tokens, c.tokens)
        assert (a.offsets == b.offsets).all()


def test_finetune_int8_export_is_smaller_and_close(tiny_encoder, tiny_encoder_model):
    from nlp.finetune import export_onnx

    texts = [r["text"] for r in tiny_training_set()[:4]]
    int8 = export_onnx(tiny_encoder.model, quantize=True)
    assert len(int8) < len(tiny_encoder_model.onnx)
    full = tiny_encoder_model.encoder.encode(texts)
    quantized = OnnxEncoder(int8, tiny_encoder_model.tokenizer, max_length=48).encode(texts)
    assert all(np.corrcoef(a.tokens.ravel(), b.tokens.ravel())[0, 1] > 0.9 for a, b in zip(full, quantized))


def test_finetune_base_weights_must_match_the_pinned_hash(monkeypatch):
    pinned = BASE_ENCODERS["all-MiniLM-L6-v2"]
    wrong = BaseEncoder(**{**pinned.__dict__, "sha256": "0" * 64})
    try:
        folder = base_encoder_folder(pinned)
    except ModelCompatibilityError as error:  # the weights' package is not installed here
        assert "pip install" in str(error)
        return
    assert (folder / "model.safetensors").exists()
    with pytest.raises(ModelCompatibilityError, match="not the pinned"):
        base_encoder_folder(wrong)


def test_finetune_missing_weights_package_says_how_to_install():
    missing = BaseEncoder(**{**BASE_ENCODERS["all-MiniLM-L6-v2"].__dict__, "package": "no-such-weights-package"})
    with pytest.raises(ModelCompatibilityError, match="pip install"):
        base_encoder_folder(missing)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="the platform cannot confine a process to cores")
def test_finetune_encoder_runs_one_thread_per_core_the_process_may_use(tiny_encoder_model):
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        pinned = OnnxEncoder(tiny_encoder_model.onnx, tiny_encoder_model.tokenizer, max_length=48)
    finally:
        os.sched_setaffinity(0, cores)
    assert pinned.session.get_session_options().intra_op_num_threads == 1
    unpinned = OnnxEncoder(tiny_encoder_model.onnx, tiny_encoder_model.tokenizer, max_length=48)
    assert unpinned.session.get_session_options().intra_op_num_threads == len(cores)


def test_finetune_sentence_gold_teaches_the_polarity_of_each_sentence_as_labelling_reads_it(tiny_encoder):
    """Every tiny finding opens with a sentence that only says what the finding is about: with gold of
    their own, those sentences read as neutral, although the findings around them are not."""
    import copy

    from nlp.encoder_cv import encoder_targets
    from nlp.finetune import FinetuneSettings, export_onnx, finetune
    from nlp.taxonomy import DEFAULT_TAXONOMY, POLARITIES

    records = tiny_training_set()
    texts, themes, polarity, pairs = encoder_targets(records, DEFAULT_TAXONOMY)
    sentences = text_sentences(texts)
    gold = [[(*spans[0], POLARITIES.index("neutral")), (*spans[1], int(p))] for spans, p in zip(sentences, polarity)]
    settings = FinetuneSettings(epochs=40, batch_size=8, max_length=48, learning_rate=3e-3, head_learning_rate=1e-2, threads=1, freeze_embeddings=False)
    tuned = finetune(copy.deepcopy(tiny_encoder), texts, themes, polarity, pairs, len(POLARITIES), settings, sentence_polarity=gold)

    outputs = EncoderHeads(tuned.heads).apply(OnnxEncoder(export_onnx(tuned.encoder, quantize=False), tuned.tokenizer, max_length=48).encode(texts), sentences)
    read = outputs.sentence_polarity_logits.argmax(1).reshape(len(texts), 2)
    assert read[:, 0].tolist() == [POLARITIES.index("neutral")] * len(texts)
    assert read[:, 1].tolist() == polarity.tolist()
