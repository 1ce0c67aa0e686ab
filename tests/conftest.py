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
        themes=ThemeClassifier(min_df=1, inner_folds=2),
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
def tiny_pipeline_dir(tiny_model, tmp_path_factory):
    """A full pipeline (segmenter + tiny classifier) saved to disk, as training writes one."""
    from nlp.classify import save_pipeline
    from nlp.models.kinds import NgramFindingModel
    from nlp.pipeline import make_segmenter

    nlp = make_segmenter()
    nlp.add_pipe("ofsted_theme_classifier_v2", name="themes").set_model(NgramFindingModel(tiny_model))
    return save_pipeline(nlp, tmp_path_factory.mktemp("pipeline") / "ofsted_themes-0.0.1")
