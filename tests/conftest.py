"""Shared fixtures. Tests that need the report corpus skip cleanly when `../shared` is absent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlp.corpus import corpus_dir

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "examples" / "reports"


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_dir()
    if not (path / "reports.jsonl").exists():
        pytest.skip(f"report corpus not found at {path} (set INSPECTION_THEMES_CORPUS or check out ../shared)")
    return path


@pytest.fixture(scope="session")
def corpus_index(corpus: Path) -> dict[str, dict]:
    with open(corpus / "reports.jsonl", encoding="utf-8") as handle:
        return {record["id"]: record for record in map(json.loads, handle)}


@pytest.fixture(scope="session")
def seed_text(corpus: Path) -> str:
    path = corpus.parent / "seed" / "wigan-2017-sif.seed.txt"
    if not path.exists():
        pytest.skip(f"seed text not found at {path}")
    return path.read_text(encoding="utf-8")


# A tiny, deliberately overfitted model: each theme has its own vocabulary, so the fitted model
# must give back the training labels. Tests of the classifier plumbing use it; the committed model
# is tested separately.
TINY_THEMES = {
    "missing_children": "Return home interviews after children go missing from home are timely",
    "adoption": "Adopters are recruited and matched quickly and the adoption panel is effective",
    "care_leavers": "Personal advisers keep in touch with care leavers and pathway plans are strong",
    "workforce": "Caseloads are manageable and social workers stay with a stable workforce",
}
TINY_POLARITY_WORDS = {"strength": "This is effective and strong.", "weakness": "This is not always done and too slow."}


def tiny_training_set() -> list[dict]:
    records = []
    for round_number in range(4):
        for theme, sentence in TINY_THEMES.items():
            for polarity, judgement in TINY_POLARITY_WORDS.items():
                records.append(
                    {
                        "text": f"{sentence} in borough {round_number}. {judgement}",
                        "themes": [theme],
                        "polarity": polarity,
                        "theme_polarity": {theme: polarity},
                        "local_authority": f"Authority {round_number}",
                    }
                )
    return records


@pytest.fixture(scope="session")
def tiny_model():
    from nlp.models import FindingClassifier, PolarityClassifier, ThemeClassifier
    from nlp.taxonomy import THEME_IDS

    records = tiny_training_set()
    Y = [[theme in r["themes"] for theme in THEME_IDS] for r in records]
    model = FindingClassifier(
        themes=ThemeClassifier(labels=THEME_IDS, min_df=1, inner_folds=2),
        polarity=PolarityClassifier(min_df=1),
        theme_polarity=PolarityClassifier(min_df=1),
    )
    return model.fit(
        [r["text"] for r in records],
        np.array(Y, dtype=int),
        [r["polarity"] for r in records],
        [r["theme_polarity"] for r in records],
        [r["local_authority"] for r in records],
    )


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tiny_fast_model, tmp_path_factory):
    """A full pipeline (segmenter + tiny classifier) saved to disk, as training writes one."""
    from nlp.classify import save_pipeline
    from nlp.models.kinds import NgramFindingModel
    from nlp.pipeline import make_segmenter
    from nlp.taxonomy import DEFAULT_TAXONOMY

    nlp = make_segmenter()
    nlp.add_pipe("ofsted_theme_classifier_v2", name="themes").set_model(NgramFindingModel(tiny_fast_model), DEFAULT_TAXONOMY)
    return save_pipeline(nlp, tmp_path_factory.mktemp("pipeline") / "ofsted_themes-0.0.1")


def tiny_tokenizer_json(texts: list[str]) -> str:
    """A WordPiece tokenizer with BERT's special tokens, learnt from `texts` (no download)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=200, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"]))
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")), ("[SEP]", tokenizer.token_to_id("[SEP]"))],
    )
    return tokenizer.to_str()


@pytest.fixture(scope="session")
def tiny_encoder():
    """A tiny randomly initialised BERT and its tokenizer: the training code runs without real weights."""
    pytest.importorskip("torch", reason="the encoder's training code needs the [train] extra")
    from transformers import BertConfig, BertModel

    from nlp.finetune import LoadedEncoder

    tokenizer = tiny_tokenizer_json([r["text"] for r in tiny_training_set()])
    config = BertConfig(
        vocab_size=200, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=64
    )
    import torch

    torch.manual_seed(0)
    return LoadedEncoder(model=BertModel(config), tokenizer=tokenizer, provenance={"name": "tiny random BERT (tests)"})


def fit_tiny_fast_model(records: list[dict]):
    """A fast model (`FastFindingClassifier`) of `records`, with settings for a set this small."""
    from nlp.models.training import fit_finding_classifier, make_fast_classifier
    from nlp.taxonomy import DEFAULT_TAXONOMY

    settings = {"featurizer": {"min_df": 1}, "themes": {"inner_folds": 2}, "polarity": {"inner_folds": 2}}
    return fit_finding_classifier(make_fast_classifier(settings, DEFAULT_TAXONOMY), records, DEFAULT_TAXONOMY)


@pytest.fixture(scope="session")
def tiny_fast_model():
    """The fast model of the tiny training set: the fast kind's, and the accurate kind's second opinion."""
    return fit_tiny_fast_model(tiny_training_set())


@pytest.fixture(scope="session")
def tiny_encoder_model(tiny_encoder, tiny_fast_model):
    """An accurate-kind model fine-tuned from the tiny encoder until it gives back its training labels."""
    from nlp.finetune import FinetuneSettings, export_onnx, finetune
    from nlp.models.encoder import EncoderHeads, OnnxEncoder
    from nlp.models.kinds import EncoderFindingModel
    from nlp.models.stacking import FindingStacker, StackInputs
    from nlp.sentences import text_sentences
    from nlp.encoder_cv import encoder_targets
    from nlp.taxonomy import DEFAULT_TAXONOMY, POLARITIES

    records = tiny_training_set()
    texts, themes, polarity, pairs = encoder_targets(records, DEFAULT_TAXONOMY)
    settings = FinetuneSettings(epochs=40, batch_size=8, max_length=48, learning_rate=3e-3, head_learning_rate=1e-2, threads=1, freeze_embeddings=False)
    tuned = finetune(tiny_encoder, texts, themes, polarity, pairs, len(POLARITIES), settings)
    onnx = export_onnx(tuned.encoder, quantize=False)
    heads = EncoderHeads(tuned.heads)
    runtime = {"max_length": 48}
    outputs = heads.apply(OnnxEncoder(onnx, tuned.tokenizer, **runtime).encode(texts), text_sentences(texts))
    rows = tiny_fast_model.featurizer_.transform(texts)
    inputs = StackInputs.from_outputs(outputs, *tiny_fast_model.scores_of_rows(rows, texts, POLARITIES))
    stacker = FindingStacker(ngram_polarity=True, threshold_shrinkage=0.0, labels=DEFAULT_TAXONOMY.theme_ids).fit(inputs, themes, [r["polarity"] for r in records])
    return EncoderFindingModel(onnx, tuned.tokenizer, heads, stacker, tiny_fast_model, runtime)


@pytest.fixture(scope="session")
def tiny_encoder_pipeline_dir(tiny_encoder_model, tmp_path_factory):
    from nlp.classify import save_pipeline
    from nlp.pipeline import make_segmenter
    from nlp.taxonomy import DEFAULT_TAXONOMY

    nlp = make_segmenter()
    nlp.add_pipe("ofsted_theme_classifier_v2", name="themes").set_model(tiny_encoder_model, DEFAULT_TAXONOMY)
    return save_pipeline(nlp, tmp_path_factory.mktemp("encoder-pipeline") / "ofsted_themes-0.0.1")
