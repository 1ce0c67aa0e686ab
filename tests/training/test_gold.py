"""The gold set keeps the schema: known ids, a polarity for every theme, no duplicate findings."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import datasets
import pytest

from nlp.taxonomy import KINDS, POLARITIES, THEME_IDS

GOLD = Path(__file__).resolve().parents[2] / "training" / "data" / "gold" / "gold.jsonl"
HELD_OUT = GOLD.with_name("held-out.jsonl")
REQUIRED = ("id", "report_id", "index", "local_authority", "text", "themes", "polarity", "theme_polarity")


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    return [dict(record) for record in datasets.load_dataset("json", data_files=str(GOLD), split="train")]


def schema_problems(record: dict) -> list[str]:
    """What is wrong with one gold record against label-schema.md (empty when nothing)."""
    problems = [f"missing {field}" for field in REQUIRED if record.get(field) in (None, "")]
    problems += [f"unknown theme {t!r}" for t in record.get("themes") or [] if t not in THEME_IDS]
    if record.get("polarity") not in POLARITIES:
        problems.append(f"unknown polarity {record.get('polarity')!r}")
    theme_polarity = {k: v for k, v in (record.get("theme_polarity") or {}).items() if v is not None}
    if set(theme_polarity) != set(record.get("themes") or []):
        problems.append("theme_polarity keys differ from themes")
    problems += [f"unknown polarity {v!r} for {k}" for k, v in theme_polarity.items() if v not in POLARITIES]
    if record.get("kind") not in KINDS:
        problems.append(f"unknown kind {record.get('kind')!r}")
    return problems


def test_gold_every_record_keeps_the_schema(gold):
    broken = {r["id"]: schema_problems(r) for r in gold if schema_problems(r)}
    assert not broken


def test_held_out_findings_keep_the_schema_and_none_is_in_the_gold(gold):
    if not HELD_OUT.exists():
        pytest.skip("no round is held out of the gold")
    held_out = [json.loads(line) for line in HELD_OUT.read_text(encoding="utf-8").splitlines()]
    assert not {r["id"]: schema_problems(r) for r in held_out if schema_problems(r)}
    text = lambda r: re.sub(r"\W", "", r["text"].lower())  # noqa: E731
    assert not {text(r) for r in held_out} & {text(r) for r in gold}
    assert not {r["batch"] for r in held_out} & {r["batch"] for r in gold}


def test_gold_has_no_duplicate_findings(gold):
    ids = Counter(r["id"] for r in gold)
    findings = Counter((r["report_id"], re.sub(r"\W", "", r["text"].lower())) for r in gold)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [key for key, n in findings.items() if n > 1] == []


def test_gold_meets_the_size_and_spread_targets(gold):
    assert len(gold) >= 1500 and len({r["report_id"] for r in gold}) >= 60
    assert {"SIF", "ILACS"} <= {r["framework"] for r in gold}
    assert {r["year"] for r in gold} == set(range(2013, 2027))
    assert {"outstanding", "good", "requires improvement to be good", "inadequate"} <= {r["overall_judgement"] for r in gold}
    assert {"finding", "summary", "recommendation"} <= {r["kind"] for r in gold}
    positives = Counter(theme for r in gold for theme in r["themes"])
    assert min(positives[t] for t in THEME_IDS) >= 30


@pytest.mark.parametrize(
    "change,problem",
    [
        (lambda r: r["themes"].append("not_a_theme"), "unknown theme"),
        (lambda r: r.update(polarity="positive"), "unknown polarity"),
        (lambda r: r["theme_polarity"].clear(), "theme_polarity keys differ"),
    ],
)
def test_gold_schema_check_rejects_broken_records(gold, change, problem):
    record = json.loads(json.dumps(next(r for r in gold if r["themes"])))
    change(record)
    assert any(problem in p for p in schema_problems(record))


@pytest.mark.corpus
def test_gold_every_record_is_found_by_todays_segmentation_or_marked_as_annotated(gold, corpus):
    from nlp.corpus import corpus_findings

    def key(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    findings = {
        (f["report_id"], key(f["text"])): (f["index"], f["kind"], f["section"], f["area"])
        for f in corpus_findings(corpus, {r["report_id"] for r in gold})
    }
    lost = [
        r["id"]
        for r in gold
        if r["segmentation"] == "current"
        and findings.get((r["report_id"], key(r["text"]))) != (r["index"], r["kind"], r["section"], r["area"])
    ]
    assert not lost, f"{len(lost)} gold findings no longer join (rebuild with python -m training.build_gold): {lost[:5]}"
    assert sum(r["segmentation"] == "as annotated" for r in gold) <= 0.05 * len(gold)
