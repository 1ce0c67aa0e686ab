"""The committed annotation queue (batch 7, drawn by `suggest`) is what annotators can work from."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from nlp.near_duplicates import near_duplicates_of, normalise_text, shingle_vectors
from nlp.taxonomy import KINDS, POLARITIES, THEME_IDS

DATA = Path(__file__).resolve().parents[2] / "training" / "data"
QUEUE = DATA / "annotation" / "queue_7.jsonl"
PLACE_FIELDS = ("id", "report_id", "local_authority", "framework", "year", "kind", "section", "area", "text")
SUGGEST_FIELDS = ("rank", "score", "reasons", "drawn", "pre_annotation")


def read(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def queue() -> list[dict]:
    return read(QUEUE)


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    return read(DATA / "gold" / "gold.jsonl")


def test_queue_has_1500_findings_with_their_place_and_the_suggest_fields(queue):
    assert len(queue) == 1500
    assert [record["rank"] for record in queue] == list(range(1, 1501))
    for record in queue:
        assert all(field in record for field in PLACE_FIELDS + SUGGEST_FIELDS), record["id"]
        assert record["id"] == f"{record['report_id']}#{record['index']}"
        assert record["kind"] in KINDS and record["reasons"]
        labels = record["pre_annotation"]
        assert set(labels["themes"]) <= set(THEME_IDS) and labels["polarity"] in POLARITIES
        assert set(labels["theme_polarity"]) == set(labels["themes"])


def test_queue_ids_name_todays_corpus_paragraphs(queue):
    # The weak labels cover every corpus finding under the same ids, with their text.
    corpus_text = {record["id"]: record["text"] for record in read(DATA / "weak" / "weak_labels.jsonl.gz")}
    assert [record["id"] for record in queue if corpus_text.get(record["id"]) != record["text"]] == []


def test_queue_repeats_no_text_of_gold_or_of_itself(queue, gold):
    texts = [normalise_text(record["text"]) for record in queue]
    assert len(set(texts)) == len(texts)
    assert not set(texts) & {normalise_text(record["text"]) for record in gold}
    near_gold = near_duplicates_of(shingle_vectors([r["text"] for r in queue]), shingle_vectors([r["text"] for r in gold]))
    assert not near_gold.any()


def test_queue_is_spread_over_reports_and_authorities(queue):
    per_report = Counter(record["report_id"] for record in queue)
    assert max(per_report.values()) <= 6
    assert len({record["local_authority"] for record in queue}) >= 100
    assert Counter(record["drawn"] for record in queue) == {"uncertainty": 1350, "random": 150}
