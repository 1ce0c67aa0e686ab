"""Assembling gold from annotation batches: readings, adjudication, rounds held out of the gold, and
re-reads of one theme."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training import build_gold
from training.build_gold import Reread, Round


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
    monkeypatch.setattr(build_gold, "REREADS", ())
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


def reread(finding_id: str, verdict: str | None) -> dict:
    return {"id": finding_id, "voice_of_child": verdict, "note": ""}


def test_a_reread_changes_gold_only_where_adjudicated_and_keeps_the_earlier_verdict_of_a_theme_both_find(annotation_dir, monkeypatch):
    monkeypatch.setattr(build_gold, "ROUNDS", (Round("1", ("a", "b"), "at random", "_a"),))
    write(annotation_dir / "labels_b.jsonl", [
        {**label(finding(i, "b"), "strength"), "themes": ["care_leavers", "voice_of_child"],
         "theme_polarity": {"care_leavers": "strength", "voice_of_child": "strength"}} for i in range(2)
    ])
    gold_before = {r["id"]: r for r in build_gold.build(annotation_dir, annotation_dir)[0]}
    # r-a#0: the re-readings disagree, and the adjudication keeps the gold (no theme). r-a#1: the
    # re-read finds the theme gold lacks, and the adjudication adds it. r-b#0: gold and re-read both
    # find it, with other verdicts: gold's stays. r-b#1: the re-read drops it, and the adjudication
    # agrees.
    write(annotation_dir / "reread_labels_v1a.jsonl", [reread("r-a#0", "strength"), reread("r-a#1", "weakness"),
                                                       reread("r-b#0", "mixed"), reread("r-b#1", None)])
    write(annotation_dir / "reread_labels_double_v1.jsonl", [reread("r-a#0", None), reread("r-b#0", "mixed")])
    write(annotation_dir / "reread_labels_adjudicated_v1.jsonl", [
        {**reread("r-a#0", None), "decision": "earlier", "reason": ""},
        {**reread("r-a#1", "mixed"), "decision": "new", "reason": ""},
        {**reread("r-b#1", None), "decision": "reread", "reason": ""},
    ])
    monkeypatch.setattr(build_gold, "REREADS", (Reread("v1", "voice_of_child", ("v1a",), "a test"),))
    gold, _, figures = build_gold.build(annotation_dir, annotation_dir)
    labels = {r["id"]: (r["themes"], r["theme_polarity"], r["revisions"]) for r in gold}
    assert labels["r-a#0"] == (["care_leavers"], {"care_leavers": "strength"}, [])
    assert labels["r-a#1"] == (["care_leavers", "voice_of_child"], {"care_leavers": "strength", "voice_of_child": "mixed"},
                               ["voice_of_child: mixed added by re-read v1"])
    assert labels["r-b#0"][1]["voice_of_child"] == "strength" and labels["r-b#0"][2] == []
    assert labels["r-b#1"] == (["care_leavers"], {"care_leavers": "strength"}, ["voice_of_child removed by re-read v1"])
    assert figures["rereads"]["v1"]["changes"] == {"unchanged": 2, "added": 1, "removed": 1}
    assert figures["rereads"]["v1"]["agreement"] == {
        "findings": 2, "presence_f1": 0.667, "presence_kappa": 0.0, "verdict_agreement": 1.0,
        "double_read_adjudicated": 1, "adjudicated": 3,
        "with_earlier_reading": {"findings": 4, "presence_kappa": -0.5, "earlier_only": 1, "reread_only": 2},
    }
    assert all(r["polarity"] == gold_before[r["id"]]["polarity"] for r in gold)  # a re-read leaves finding polarity alone


def test_a_reread_leaves_the_agreement_of_the_rounds_readings_as_they_were_read(annotation_dir, monkeypatch):
    monkeypatch.setattr(build_gold, "ROUNDS", (Round("1", ("a",), "at random", "_a"),))
    without = build_gold.build(annotation_dir, annotation_dir)[2]
    write(annotation_dir / "reread_labels_v1a.jsonl", [reread("r-a#0", "strength"), reread("r-a#1", None)])
    write(annotation_dir / "reread_labels_double_v1.jsonl", [])
    write(annotation_dir / "reread_labels_adjudicated_v1.jsonl", [{**reread("r-a#0", "strength"), "decision": "reread", "reason": ""}])
    monkeypatch.setattr(build_gold, "REREADS", (Reread("v1", "voice_of_child", ("v1a",), "a test"),))
    gold, _, figures = build_gold.build(annotation_dir, annotation_dir)
    assert "voice_of_child" in gold[0]["themes"]  # the re-read changed the gold ...
    def readings_agreement(figures: dict) -> str:  # as JSON, where NaN (kappa of one-class readings) equals itself
        return json.dumps({k: v for k, v in figures.items() if k != "rereads"}, sort_keys=True)

    assert readings_agreement(figures) == readings_agreement(without)  # ... not the readings


@pytest.mark.parametrize(
    ("first", "second", "adjudicated", "message"),
    [
        # the re-reading finds the theme gold lacks, and nobody adjudicated
        ([reread("r-a#0", "strength"), reread("r-a#1", None)], [], [], r"1 findings .* no adjudicated verdict \(\['r-a#0'\]\)"),
        ([reread("r-b#0", "strength")], [], [], r"not gold: \['r-b#0'\]"),
        # the readings agree with gold (no theme), yet an adjudication would add it
        ([reread("r-a#0", None)], [], [{**reread("r-a#0", "strength"), "decision": "new", "reason": ""}], "although their readings agree"),
        ([reread("r-a#0", None)], [reread("r-a#1", None)], [], "no first reading of: \\['r-a#1'\\]"),
        ([reread("r-a#0", "good")], [], [], "r-a#0 gives voice_of_child 'good'"),
    ],
)
def test_a_reread_with_readings_that_do_not_fit_its_protocol_is_refused(annotation_dir, monkeypatch, first, second, adjudicated, message):
    monkeypatch.setattr(build_gold, "ROUNDS", (Round("1", ("a",), "at random", "_a"),))
    write(annotation_dir / "reread_labels_v1a.jsonl", first)
    write(annotation_dir / "reread_labels_double_v1.jsonl", second)
    write(annotation_dir / "reread_labels_adjudicated_v1.jsonl", adjudicated)
    monkeypatch.setattr(build_gold, "REREADS", (Reread("v1", "voice_of_child", ("v1a",), "a test"),))
    with pytest.raises(ValueError, match=message):
        build_gold.build(annotation_dir, annotation_dir)


def test_a_rereads_adjudication_queue_holds_the_disputed_findings_with_their_readings(annotation_dir, monkeypatch):
    monkeypatch.setattr(build_gold, "ROUNDS", (Round("1", ("a", "b"), "at random", "_a"),))
    # r-a#0: the re-readings disagree, already adjudicated. r-a#1: the re-read finds the theme gold
    # lacks. r-b#0: the re-read agrees with gold (no theme). r-b#1: the second re-reading finds it.
    write(annotation_dir / "reread_labels_v1a.jsonl", [reread("r-a#0", "strength"), {**reread("r-a#1", "weakness"), "note": "a visit"},
                                                       reread("r-b#0", None), reread("r-b#1", None)])
    write(annotation_dir / "reread_labels_double_v1.jsonl", [reread("r-a#0", None), reread("r-b#1", "mixed")])
    write(annotation_dir / "reread_labels_adjudicated_v1.jsonl", [{**reread("r-a#0", None), "decision": "earlier", "reason": ""}])
    monkeypatch.setattr(build_gold, "REREADS", (Reread("v1", "voice_of_child", ("v1a",), "a test"),))
    path, queue = build_gold.adjudication_file(annotation_dir, annotation_dir, build_gold.read_by_name("v1"))
    assert path == annotation_dir / "reread_disagreements_v1.jsonl"
    assert [(item["id"], item["earlier_reading"], item["reread"], item.get("reread_second")) for item in queue] == [
        ("r-a#0", {"voice_of_child": None, "other_themes": ["care_leavers"]}, {"voice_of_child": "strength", "note": ""}, {"voice_of_child": None, "note": ""}),
        ("r-a#1", {"voice_of_child": None, "other_themes": ["care_leavers"]}, {"voice_of_child": "weakness", "note": "a visit"}, None),
        ("r-b#1", {"voice_of_child": None, "other_themes": ["care_leavers"]}, {"voice_of_child": None, "note": ""}, {"voice_of_child": "mixed", "note": ""}),
    ]
    assert queue[1]["text"] == finding(1, "a")["text"]
    with pytest.raises(ValueError, match="no round or re-read named 'v2'"):
        build_gold.read_by_name("v2")


def test_a_rereads_queue_reads_the_gold_as_the_rereads_of_its_theme_before_it_left_it(annotation_dir, monkeypatch):
    monkeypatch.setattr(build_gold, "ROUNDS", (Round("1", ("a",), "at random", "_a"),))
    # v1 adds voice_of_child to r-a#0 by adjudication; v2, of another theme, is not adjudicated yet
    # (no decisions file); v3 re-reads voice_of_child and does not find it
    write(annotation_dir / "reread_labels_v1a.jsonl", [reread("r-a#0", "strength")])
    write(annotation_dir / "reread_labels_double_v1.jsonl", [])
    write(annotation_dir / "reread_labels_adjudicated_v1.jsonl", [{**reread("r-a#0", "strength"), "decision": "reread", "reason": ""}])
    write(annotation_dir / "reread_labels_v2a.jsonl", [{"id": "r-a#0", "adoption": "strength", "note": ""}])
    write(annotation_dir / "reread_labels_double_v2.jsonl", [])
    write(annotation_dir / "reread_labels_v3a.jsonl", [reread("r-a#0", None)])
    write(annotation_dir / "reread_labels_double_v3.jsonl", [])
    monkeypatch.setattr(build_gold, "REREADS", (Reread("v1", "voice_of_child", ("v1a",), "a test"), Reread("v2", "adoption", ("v2a",), "a test"),
                                                Reread("v3", "voice_of_child", ("v3a",), "a test")))
    _, queue = build_gold.adjudication_file(annotation_dir, annotation_dir, build_gold.read_by_name("v3"))
    assert [item["earlier_reading"]["voice_of_child"] for item in queue] == ["strength"]
    with pytest.raises(ValueError, match="re-read v2: 1 findings .* no adjudicated verdict"):
        build_gold.build(annotation_dir, annotation_dir)  # the gold itself waits for every adjudication


def test_a_rounds_disagreements_are_its_double_read_findings_whose_readings_differ(annotation_dir, monkeypatch):
    rounds = (Round("1", ("a",), "at random", "_a"), Round("2", ("b",), "at random", "_b", held_out=True))
    monkeypatch.setattr(build_gold, "ROUNDS", rounds)
    for batch in "ab":
        write(annotation_dir / f"batch_double_{batch}.jsonl", [finding(0, batch)])
    agreeing, differing = (build_gold.adjudication_file(annotation_dir, annotation_dir, build_gold.read_by_name(name)) for name in ("1", "2"))
    assert agreeing == (annotation_dir / "disagreements_a.jsonl", [])
    path, [disagreement] = differing
    assert path == annotation_dir / "disagreements_b.jsonl"
    assert disagreement == {**finding(0, "b"), "reading_a": {k: v for k, v in label(finding(0, "b"), "strength").items() if k != "id"},
                            "reading_b": {k: v for k, v in label(finding(0, "b"), "mixed").items() if k != "id"}}


def test_a_rounds_differing_readings_without_an_adjudicated_label_are_refused(annotation_dir, monkeypatch):
    monkeypatch.setattr(build_gold, "ROUNDS", (Round("2", ("b",), "at random", "_b"),))
    (annotation_dir / "labels_adjudicated_b.jsonl").unlink()  # the disagreements are written before any decision
    write(annotation_dir / "batch_double_b.jsonl", [finding(0, "b")])
    assert len(build_gold.adjudication_file(annotation_dir, annotation_dir, build_gold.read_by_name("2"))[1]) == 1
    with pytest.raises(ValueError, match=r"round 2: the two readings of r-b#0 differ .* --adjudicate 2"):
        build_gold.build(annotation_dir, annotation_dir)
