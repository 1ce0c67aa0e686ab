"""Shared fixtures. Tests that need the report corpus skip cleanly when `../shared` is absent."""

from __future__ import annotations

import json
from pathlib import Path

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
