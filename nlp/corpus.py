"""Where the shared report corpus lives, and its metadata index (`reports.jsonl`)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

CORPUS_ENV = "INSPECTION_THEMES_CORPUS"


def corpus_dir() -> Path:
    """The corpus folder: `$INSPECTION_THEMES_CORPUS`, else `../shared/corpus` beside the repository."""
    configured = os.environ.get(CORPUS_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "corpus"


@lru_cache(maxsize=4)
def load_corpus_index(corpus: Path) -> dict[str, dict]:
    """Report id -> metadata record of `reports.jsonl`."""
    with open(corpus / "reports.jsonl", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return {record["id"]: record for record in records}
