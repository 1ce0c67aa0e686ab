"""The encoder's heads at labelling time (numpy only; no torch, no ONNX file needed)."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.errors import ModelCompatibilityError
from nlp.models.encoder import EncodedFinding, EncoderHeads, heads_from_bytes, heads_to_bytes

DIM, THEMES, POLARITIES = 8, 3, 4


def _heads(rng: np.random.Generator, **extra: np.ndarray) -> dict[str, np.ndarray]:
    shapes = {
        "theme_weight": (THEMES, DIM),
        "theme_bias": (THEMES,),
        "polarity_weight": (POLARITIES, DIM),
        "polarity_bias": (POLARITIES,),
        "theme_query": (THEMES, DIM),
        "pair_weight": (POLARITIES, 2 * DIM),
        "pair_bias": (POLARITIES,),
        "pair_theme_bias": (THEMES, POLARITIES),
    }
    return {name: rng.normal(size=shape).astype(np.float32) for name, shape in shapes.items()} | extra


def _finding(rng: np.random.Generator) -> EncodedFinding:
    return EncodedFinding(tokens=rng.normal(size=(5, DIM)).astype(np.float32), offsets=np.array([[i, i + 1] for i in range(5)]))


def test_encoder_theme_attention_weight_moves_only_the_theme_logits():
    rng = np.random.default_rng(0)
    tensors, finding = _heads(rng), _finding(rng)
    plain = EncoderHeads(tensors).apply([finding], [[(0, 5)]])
    attended = EncoderHeads(tensors | {"theme_attention_weight": np.ones((THEMES, DIM), np.float32)}).apply([finding], [[(0, 5)]])
    assert not np.allclose(plain.theme_logits, attended.theme_logits)
    assert np.allclose(plain.polarity_logits, attended.polarity_logits)
    assert np.allclose(plain.pair_logits, attended.pair_logits)


def test_encoder_heads_of_a_newer_version_are_refused_by_name():
    rng = np.random.default_rng(0)
    data = heads_to_bytes(EncoderHeads(_heads(rng)))
    assert heads_from_bytes(data).tensors.keys() == _heads(rng).keys()
    with pytest.raises(ModelCompatibilityError, match="sentence_gate"):
        EncoderHeads(_heads(rng, sentence_gate=np.zeros(3, np.float32)))
