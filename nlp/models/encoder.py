"""The fine-tuned encoder at labelling time: ONNX Runtime and `tokenizers`, no torch.

One encoder pass per finding gives contextual token vectors; everything else is small numpy
algebra on them (`EncoderHeads`):

- the finding vector is the mean of its content tokens (no [CLS]/[SEP]);
- a multi-label theme head and a polarity head read the finding vector;
- each sentence's vector is the mean of its tokens *in the context of the whole finding*, and the
  same two heads read it, so sentence scores come without encoding sentences again;
- the theme-polarity head reads, per theme, an attention pooling of the tokens with a learned
  query for that theme ("what the finding says about adoption") beside the finding vector;
- with `theme_attention_weight` (optional), each theme's logit also reads that pooled vector.

Each finding is encoded in its own encoder call. The shipped encoder is quantised to int8 by ONNX
Runtime's dynamic quantisation, which scales the activations of a call by the largest value in the
whole call: findings encoded together would change each other's vectors (by up to 0.9 in a token
vector, and about one theme decision in 1,300 of the 0.4.0 fold models), so a finding's labels
would depend on which findings were labelled with it. One call per finding makes them depend on
the finding alone and pads nothing: `label --jobs 2` (one thread per worker) labelled 1.54 text
reports/s in 432-436 MB per worker, against 1.24 in 497-506 MB with batches of similar length
(bench_models, two runs on different days).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ModelCompatibilityError

ENCODER_INPUTS = ("input_ids", "attention_mask")
HEAD_TENSORS = (
    "theme_weight",
    "theme_bias",
    "polarity_weight",
    "polarity_bias",
    "theme_query",
    "pair_weight",
    "pair_bias",
    "pair_theme_bias",
)
OPTIONAL_HEAD_TENSORS = ("theme_attention_weight",)


@dataclass
class EncodedFinding:
    """One finding after the encoder.

    tokens (ndarray, (n_tokens, dim)): contextual vectors of its content tokens.
    offsets (ndarray of int, (n_tokens, 2)): character span of each token in the finding's text.
    """

    tokens: np.ndarray
    offsets: np.ndarray


@dataclass
class EncoderOutputs:
    """What the heads say about a batch of findings.

    theme_logits (ndarray, (n, n_themes)); polarity_logits (ndarray, (n, n_polarities));
    pair_logits (ndarray, (n, n_themes, n_polarities)): polarity of each theme in each finding;
    sentence_theme_logits, sentence_polarity_logits (ndarray, (n_sentences, ...)): the heads on
    each sentence's pooled vector; sentence_owner (ndarray of int): finding of each sentence.
    """

    theme_logits: np.ndarray
    polarity_logits: np.ndarray
    pair_logits: np.ndarray
    sentence_theme_logits: np.ndarray
    sentence_polarity_logits: np.ndarray
    sentence_owner: np.ndarray


class EncoderHeads:
    """The task heads as numpy arrays (see the module docstring for what each one reads).

    tensors (dict of str to ndarray): the arrays named in `HEAD_TENSORS`.
    """

    def __init__(self, tensors: dict[str, np.ndarray]) -> None:
        missing = [name for name in HEAD_TENSORS if name not in tensors]
        if missing:
            raise ModelCompatibilityError(f"heads.safetensors lacks {missing}; copy the whole model folder again.")
        unknown = sorted(set(tensors) - set(HEAD_TENSORS) - set(OPTIONAL_HEAD_TENSORS))
        if unknown:
            # Ignoring a head would label silently differently from the model that was measured.
            raise ModelCompatibilityError(
                f"heads.safetensors holds {unknown}, which this version of inspection-themes does not read: the "
                "model was made by a newer version. Install the version its themes/cfg.json names."
            )
        self.tensors = {name: np.asarray(tensor, dtype=np.float32) for name, tensor in tensors.items()}

    @property
    def dim(self) -> int:
        return self.tensors["theme_weight"].shape[1]

    def apply(self, findings: Sequence[EncodedFinding], sentences: Sequence[list[tuple[int, int]]]) -> EncoderOutputs:
        """Head outputs for findings and their sentences (character spans in each finding's text)."""
        t = self.tensors
        n, dim = len(findings), self.dim
        vectors = np.zeros((n, dim), dtype=np.float32)
        pooled = np.zeros((n, len(t["theme_bias"]), dim), dtype=np.float32)  # per theme, its query's pooling
        sentence_vectors, owner = [], []
        scale = np.float32(1.0 / np.sqrt(dim))
        for i, (finding, spans) in enumerate(zip(findings, sentences)):
            tokens = finding.tokens
            if not len(tokens):
                # A finding of no tokens (empty text) keeps zero vectors: the heads' biases decide.
                sentence_vectors.extend(np.zeros((len(spans), dim), dtype=np.float32))
                owner.extend([i] * len(spans))
                continue
            vectors[i] = tokens.mean(axis=0)
            attention = _softmax(tokens @ t["theme_query"].T * scale, axis=0)  # (n_tokens, n_themes)
            pooled[i] = attention.T @ tokens
            for start, end in spans:
                inside = (finding.offsets[:, 0] < end) & (finding.offsets[:, 1] > start)
                sentence_vectors.append(tokens[inside].mean(axis=0) if inside.any() else vectors[i])
                owner.append(i)
        # The heads on the pooled vectors run once per batch, not once per finding.
        pair_weight = t["pair_weight"]
        pair_logits = (
            np.einsum("ntd,pd->ntp", pooled, pair_weight[:, :dim])
            + (vectors @ pair_weight[:, dim:].T)[:, None, :]
            + t["pair_bias"]
            + t["pair_theme_bias"]
        )
        theme_logits = vectors @ t["theme_weight"].T + t["theme_bias"]
        if "theme_attention_weight" in t:
            theme_logits = theme_logits + np.einsum("ntd,td->nt", pooled, t["theme_attention_weight"])
        sentence_matrix = np.asarray(sentence_vectors, dtype=np.float32).reshape(-1, dim)
        return EncoderOutputs(
            theme_logits=theme_logits,
            polarity_logits=vectors @ t["polarity_weight"].T + t["polarity_bias"],
            pair_logits=pair_logits,
            sentence_theme_logits=sentence_matrix @ t["theme_weight"].T + t["theme_bias"],
            sentence_polarity_logits=sentence_matrix @ t["polarity_weight"].T + t["polarity_bias"],
            sentence_owner=np.asarray(owner, dtype=int),
        )


class OnnxEncoder:
    """A transformer encoder exported to ONNX, with its `tokenizers` tokenizer.

    model (bytes): the ONNX file; its inputs are `input_ids` and `attention_mask` (int64, (batch,
        length)) and its first output the token vectors (float32, (batch, length, dim)).
    tokenizer (str): the tokenizer as `tokenizers` JSON.
    max_length (int): tokens per finding, [CLS] and [SEP] included; longer findings are truncated.
    threads (int): ONNX Runtime intra-op threads (0: one per core this process may run on).
    """

    # Names how `encode` calls the encoder, for outputs saved by training: outputs of another scheme
    # (before 0.3.1: several findings per call) are not what labelling computes, and are redone.
    ENCODING = "one finding per call"

    def __init__(self, model: bytes, tokenizer: str, *, max_length: int, threads: int = 0) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or _usable_cores()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_str(tokenizer)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length)
        self.max_length = max_length

    def encode(self, texts: Sequence[str]) -> list[EncodedFinding]:
        """Token vectors and character offsets of the content tokens of each text, in order; each
        text is encoded alone, so its vectors do not depend on the other texts."""
        results = []
        for encoding in self.tokenizer.encode_batch(list(texts)):
            ids = np.asarray([encoding.ids], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
            content = np.flatnonzero(np.asarray(encoding.special_tokens_mask) == 0)
            results.append(EncodedFinding(
                tokens=np.ascontiguousarray(hidden[content], dtype=np.float32),
                offsets=np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)[content],
            ))
        return results


def _usable_cores() -> int:
    """The cores this process may run on (0 where the platform cannot say: ONNX Runtime's default).

    ONNX Runtime's own default is one thread per physical core even when the process may run on
    fewer (`taskset`, a benchmark's pinning): `classify` pinned to one core then took twice the CPU
    time of one thread for fewer findings/s (98 against 102, bench_models).
    """
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0


def _softmax(values: np.ndarray, axis: int) -> np.ndarray:
    shifted = np.exp(values - values.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def heads_to_bytes(heads: EncoderHeads) -> bytes:
    """The heads as a safetensors file (plain arrays: loading it runs no code)."""
    from safetensors.numpy import save

    return save({name: np.ascontiguousarray(array) for name, array in heads.tensors.items()})


def heads_from_bytes(data: bytes) -> EncoderHeads:
    """RAISES (ModelCompatibilityError): the bytes are not a safetensors file, or not heads this version reads."""
    from safetensors.numpy import load

    try:
        tensors = load(data)
    except Exception as error:  # safetensors raises its own error types for damaged files
        raise ModelCompatibilityError(f"heads.safetensors cannot be read ({error}); the model folder is damaged.") from error
    return EncoderHeads(tensors)
