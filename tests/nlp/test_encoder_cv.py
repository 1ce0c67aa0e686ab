"""The encoder's fold runs, on a tiny random BERT (no real weights)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from nlp.finetune import FinetuneSettings
from nlp.models.encoder import OnnxEncoder
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import grouped_folds

from ..conftest import tiny_training_set

pytest.importorskip("torch", reason="the encoder's training code needs the [train] extra")


def test_encoder_cv_recomputes_fold_outputs_that_labelling_would_not_give(tiny_encoder, tmp_path):
    from nlp.encoder_cv import run_folds

    records = tiny_training_set()
    folds = grouped_folds(records, 2, "local_authority")
    settings = FinetuneSettings(epochs=1, batch_size=8, max_length=48, threads=1)
    run = lambda: run_folds(records, DEFAULT_TAXONOMY, folds, settings, lambda: copy.deepcopy(tiny_encoder), tmp_path)  # noqa: E731
    run()
    outputs = tmp_path / "fold-0-int8.npz"
    with np.load(outputs) as data:
        assert str(data["encoding"]) == OnnxEncoder.ENCODING
        fresh = {name: data[name] for name in data.files}
    # Outputs saved before encodings were recorded (several findings per encoder call).
    np.savez_compressed(outputs, **{name: values + 1.0 if values.dtype.kind == "f" else values for name, values in fresh.items() if name != "encoding"})
    run()
    with np.load(outputs) as data:
        assert str(data["encoding"]) == OnnxEncoder.ENCODING
        assert np.array_equal(data["theme_logits"], fresh["theme_logits"])
