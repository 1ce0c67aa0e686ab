"""The two kinds of finding model the component can hold, as the artifact stores them.

- `accurate` (`EncoderFindingModel`): the fine-tuned encoder (ONNX), its heads, a fast model
  learnt from the gold alone (its second opinion) and the stacker that combines them. The default.
- `fast` (`NgramFindingModel`): a word n-gram model alone, `FastFindingClassifier` (one
  featurisation pass for every head).

Both label findings given as texts with their sentence spans, and both turn into a dict of named
files (`to_files`) that `nlp.artifact` checksums and reads back without running code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..artifact import dumps_estimator, loads_estimator
from ..errors import ModelCompatibilityError
from ..sentences import SentenceSpans
from .encoder import EncoderHeads, OnnxEncoder, heads_from_bytes, heads_to_bytes
from .fast import FastFindingClassifier
from .finding_classifier import FindingLabels, theme_evidence
from .stacking import FindingStacker, StackInputs
from ..taxonomy import POLARITIES

class NgramFindingModel:
    """The fast kind behind the component: a `FastFindingClassifier`."""

    kind = "fast"
    MODEL_FILE = "model.skops"

    def __init__(self, classifier: FastFindingClassifier) -> None:
        self.classifier = classifier

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(str(theme) for theme in self.classifier.themes_.classes_)

    def predict(self, texts: Sequence[str], sentences: Sequence[SentenceSpans], with_evidence: bool) -> list[FindingLabels]:
        return self.classifier.predict(list(texts), with_evidence=with_evidence, sentences=sentences)

    def to_files(self) -> dict[str, bytes]:
        return {self.MODEL_FILE: dumps_estimator(self.classifier)}

    def settings_record(self) -> dict:
        """What `cfg.json` must hold, beside the files, to rebuild the model."""
        return {}

    @classmethod
    def from_files(cls, files: dict[str, bytes], cfg: dict, threads: int = 0) -> NgramFindingModel:
        return cls(loads_estimator(files[cls.MODEL_FILE], cls.MODEL_FILE))


class EncoderFindingModel:
    """The encoder, its heads, the fast model and the stacker behind the component.

    onnx (bytes): the encoder graph. tokenizer (str): `tokenizers` JSON.
    heads (EncoderHeads); stacker (FindingStacker); fast (FastFindingClassifier | None): the word
    n-gram model, learnt from the gold alone, whose theme (`stacker.ngram`) and polarity
    (`stacker.ngram_polarity`) probabilities the stacker reads, and whose n-grams are the evidence.
    settings (dict): `max_length` of the encoder (tokens per finding).
    threads (int): ONNX Runtime threads (0: one per core).
    """

    kind = "accurate"
    FILES = ("encoder.onnx", "tokenizer.json", "heads.safetensors", "stacker.skops")
    FAST_FILE = "fast.skops"

    def __init__(
        self,
        onnx: bytes,
        tokenizer: str,
        heads: EncoderHeads,
        stacker: FindingStacker,
        fast: FastFindingClassifier | None,
        settings: dict,
        threads: int = 0,
    ) -> None:
        if (stacker.ngram or stacker.ngram_polarity) and fast is None:
            raise ModelCompatibilityError("the stacker reads the fast model's scores, but no fast model was given (`fast`).")
        if fast is not None and list(fast.themes_.classes_) != list(stacker.classes_):
            raise ModelCompatibilityError(
                f"the fast model labels themes {list(fast.themes_.classes_)}, the stacker {list(stacker.classes_)}: "
                "they were trained for different taxonomies; build the accurate model from parts trained together."
            )
        self.onnx = onnx
        self.tokenizer = tokenizer
        self.heads = heads
        self.stacker = stacker
        self.fast = fast
        self.settings = settings
        self.encoder = OnnxEncoder(onnx, tokenizer, max_length=settings["max_length"], threads=threads)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(str(theme) for theme in self.stacker.classes_)

    def stack_inputs(self, texts: Sequence[str], sentences: Sequence[SentenceSpans]):
        """The encoder's outputs, the fast model's rows (None without it) and the stacker's inputs."""
        texts = list(texts)
        outputs = self.heads.apply(self.encoder.encode(texts), sentences)
        if self.fast is None:
            return outputs, None, StackInputs.from_outputs(outputs)
        rows = self.fast.featurizer_.transform(texts, sentences)
        themes, polarity = self.fast.scores_of_rows(rows, texts, POLARITIES)
        return outputs, rows, StackInputs.from_outputs(outputs, themes, polarity)

    def predict(self, texts: Sequence[str], sentences: Sequence[SentenceSpans], with_evidence: bool) -> list[FindingLabels]:
        texts = list(texts)
        if not texts:
            return []
        outputs, rows, inputs = self.stack_inputs(texts, sentences)
        labels, chosen = self.stacker.finding_labels(inputs)
        # Per finding, theme column -> n-grams; None: no n-grams asked for.
        ngrams: list[dict | None] = [None] * len(texts)
        if with_evidence:
            ngrams = self.fast.word_contributions(rows, chosen) if rows is not None else [{} for _ in texts]
        sentence_probabilities = _sigmoid(outputs.sentence_theme_logits)
        starts = np.searchsorted(outputs.sentence_owner, np.arange(len(texts) + 1))
        theme_ids = [str(theme) for theme in self.stacker.classes_]
        for i, (text, label) in enumerate(zip(texts, labels)):
            label.evidence = theme_evidence(
                text, sentences[i], sentence_probabilities[starts[i] : starts[i + 1]], np.flatnonzero(chosen[i]), theme_ids,
                ngrams[i],
            )
        return labels

    def settings_record(self) -> dict:
        return {"encoder": dict(self.settings)}

    def to_files(self) -> dict[str, bytes]:
        files = {
            "encoder.onnx": self.onnx,
            "tokenizer.json": self.tokenizer.encode("utf-8"),
            "heads.safetensors": heads_to_bytes(self.heads),
            "stacker.skops": dumps_estimator(self.stacker),
        }
        if self.fast is not None:
            files[self.FAST_FILE] = dumps_estimator(self.fast)
        return files

    @classmethod
    def from_files(cls, files: dict[str, bytes], cfg: dict, threads: int = 0) -> EncoderFindingModel:
        missing = [name for name in cls.FILES if name not in files]
        if missing:
            raise ModelCompatibilityError(f"the accurate model lacks {missing}; copy the whole model folder again.")
        return cls(
            onnx=files["encoder.onnx"],
            tokenizer=files["tokenizer.json"].decode("utf-8"),
            heads=heads_from_bytes(files["heads.safetensors"]),
            stacker=loads_estimator(files["stacker.skops"], "stacker.skops"),
            fast=loads_estimator(files[cls.FAST_FILE], cls.FAST_FILE) if cls.FAST_FILE in files else None,
            settings={"max_length": cfg["encoder"]["max_length"]},
            threads=threads,
        )


MODEL_KINDS = {kind.kind: kind for kind in (EncoderFindingModel, NgramFindingModel)}


def model_from_files(files: dict[str, bytes], cfg: dict, threads: int = 0):
    kind = cfg.get("kind")
    if kind not in MODEL_KINDS:
        raise ModelCompatibilityError(f"unknown model kind {kind!r}; this version reads {sorted(MODEL_KINDS)}.")
    return MODEL_KINDS[kind].from_files(files, cfg, threads)


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -35, 35)))
