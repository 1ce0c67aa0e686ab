"""Assembling gold from annotation batches: readings, adjudication, and rounds held out of the gold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training import build_gold
from training.build_gold import Round


def finding(i: int, batch: str) -> dict:
    return {"id": f"r-{batch}#{i}", "report_id": f"r-{batch}", "index": i, "local_authority": f"Authority {i % 2}",
            "framework": "ILACS", "year": 2024, "overall_judgement": "good", "kind": "finding", "section": None,
            "area": None, "text": f"Finding {i} of batch {batch}: care leavers are well supported."}


def label(record: dict, polarity: str) -> dict:
    return {"id": record["id"], "themes": ["care_leavers"], "polarity": polarity, "theme_polarity": {"care_leavers": polarity}, "note": ""}


def write(path: Path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


@pytest.fixture
def annotation_dir(tmp_path, monkeypatch) -> Path:
    """Two rounds of two findings each, the second held out; each round's first finding read twice,
    the second reading disagreeing and adjudicated in the held-out round."""
    for batch, suffix in (("a", "_a"), ("b", "_b")):
        records = [finding(i, batch) for i in range(2)]
        write(tmp_path / f"batch_{batch}.jsonl", records)
        write(tmp_path / f"labels_{batch}.jsonl", [label(r, "strength") for r in records])
        write(tmp_path / f"labels_double{suffix}.jsonl", [label(records[0], "strength" if batch == "a" else "mixed")])
        write(tmp_path / f"labels_adjudicated{suffix}.jsonl", [label(records[0], "mixed")] if batch == "b" else [])
    monkeypatch.setattr(build_gold, "current_findings", lambda report_ids, corpus: {})
    return tmp_path


def test_a_held_out_round_is_read_and_adjudicated_like_the_others_but_kept_out_of_the_gold(annotation_dir, monkeypatch):
    rounds = (Round("1", ("a",), "at random", "_a"), Round("2", ("b",), "at random", "_b", held_out=True))
    monkeypatch.setattr(build_gold, "ROUNDS", rounds)
    gold, held_out, figures = build_gold.build(annotation_dir, annotation_dir)
    assert [r["id"] for r in gold] == ["r-a#0", "r-a#1"]
    assert [(r["id"], r["polarity"], r["provenance"]) for r in held_out] == [
        ("r-b#0", "mixed", "adjudicated after two readings disagreed"),
        ("r-b#1", "strength", "single reading"),
    ]
    assert figures["by_round"]["2"]["findings"] == 1  # its second reading counts in the agreement
    monkeypatch.setattr(build_gold, "ROUNDS", rounds[:1])
    assert build_gold.build(annotation_dir, annotation_dir)[0] == gold


def test_the_gold_does_not_depend_on_where_the_held_out_round_is_listed(annotation_dir, monkeypatch):
    gold_round, held_out_round = Round("1", ("a",), "at random", "_a"), Round("2", ("b",), "at random", "_b", held_out=True)
    monkeypatch.setattr(build_gold, "ROUNDS", (gold_round, held_out_round))
    listed_last = build_gold.build(annotation_dir, annotation_dir)[:2]
    monkeypatch.setattr(build_gold, "ROUNDS", (held_out_round, gold_round))
    assert build_gold.build(annotation_dir, annotation_dir)[:2] == listed_last
