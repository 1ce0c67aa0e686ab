"""A random annotation round: uniform over unread findings, reproducible, never redrawn over readings."""

from __future__ import annotations

import random

import pytest
from typer.testing import CliRunner

from training.sample_random_round import draw_round


WORDS = "children leaders plans visits carers adoption court health schools police missing risk staff audits panels reviews".split()


def findings(n: int) -> list[dict]:
    """Findings whose texts share few shingles, so that none is a near duplicate of another."""
    rng = random.Random(0)
    return [{"id": f"r#{i}", "text": " ".join(rng.choice(WORDS) + str(rng.randrange(10**6)) for _ in range(12))} for i in range(n)]


def test_a_random_round_never_draws_a_finding_already_read_and_is_reproducible():
    pool = findings(200)
    read = [f["text"] for f in pool[:50]]
    dealt, second = draw_round(pool, read, count=60, batches=4, double=10, seed=3)
    drawn = [f["id"] for batch in dealt for f in batch]
    assert [len(batch) for batch in dealt] == [15, 15, 15, 15]
    assert len(set(drawn)) == 60 and not set(drawn) & {f["id"] for f in pool[:50]}
    assert {f["id"] for f in second} <= set(drawn) and len({f["id"] for f in second}) == 10
    assert draw_round(pool, read, count=60, batches=4, double=10, seed=3) == (dealt, second)


def test_a_round_is_never_redrawn_over_batches_that_exist(tmp_path):
    from training.sample_random_round import main
    import typer

    (tmp_path / "batch_9b.jsonl").write_text("{}\n")
    app = typer.Typer()
    app.command()(main)
    result = CliRunner().invoke(app, ["--name", "9", "--batches", "3", "--annotation-dir", str(tmp_path)])
    assert result.exit_code != 0 and "batch_9b.jsonl exist" in str(result.exception) + result.output
    assert (tmp_path / "batch_9b.jsonl").read_text() == "{}\n"
