"""`suggest`: which findings to label next.

The ranking tests read probabilities from a table (`TableScorer`), so they say exactly which finding
the model is unsure of; the contract tests run the tiny trained pipeline of conftest end to end.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nlp.cli import app
from nlp.errors import SuggestInputError
from nlp.model_scores import ModelScores, scorer_for_model
from nlp.models import FindingLabels
from nlp.near_duplicates import normalise_text
from nlp.suggest import is_random_place, read_suggest_input, suggest_file, suggest_findings
from nlp.taxonomy import POLARITIES, THEME_IDS

THEMES = ("adoption", "workforce")
THRESHOLDS = np.array([0.4, 0.3])
POLARITY_LABELS = ("mixed", "neutral", "strength", "weakness")  # sklearn's order of classes_
CONFIDENT = {"themes": (0.01, 0.99), "polarity": (0.0, 0.0, 1.0, 0.0)}
QUEUE_FIELDS = {"rank", "id", "text", "score", "reasons", "drawn", "pre_annotation"}

runner = CliRunner()
_WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "po", "ru", "si", "te", "vu", "ze") for b in ("bar", "cen", "dol", "fim", "gor", "hul", "jax", "kip")]


def distinct_text(i: int) -> str:
    """A text sharing no 3-shingle with the others: no two are near duplicates."""
    words = random.Random(i).sample(_WORDS, 14)
    return " ".join(words).capitalize() + "."


class TableScorer:
    """A FindingScorer that looks each text's probabilities up in a table (default: confident)."""

    def __init__(self, table: dict[str, dict], name: str = "table") -> None:
        self.table = table
        self.name = name

    def _row(self, text: str) -> dict:
        return {**CONFIDENT, **self.table.get(text, {})}

    def scores(self, texts):
        rows = [self._row(text) for text in texts]
        return ModelScores(
            THEMES,
            np.array([row["themes"] for row in rows]).reshape(-1, len(THEMES)),
            THRESHOLDS,
            POLARITY_LABELS,
            np.array([row["polarity"] for row in rows]).reshape(-1, len(POLARITY_LABELS)),
        )

    def labels(self, texts):
        scores = self.scores(texts)
        labels = []
        for i in range(len(texts)):
            themes = [t for t, p, c in zip(THEMES, scores.theme_probabilities[i], THRESHOLDS) if p >= c]
            polarity = POLARITY_LABELS[int(np.argmax(scores.polarity_probabilities[i]))]
            labels.append(FindingLabels(themes, polarity, {t: polarity for t in themes}, dict(zip(THEMES, scores.theme_probabilities[i]))))
        return labels


def findings(count: int, **fields) -> list[dict]:
    return [{"id": f"f{i}", "text": distinct_text(i), **fields} for i in range(count)]


def queue_ids(queue: list[dict]) -> list[str]:
    return [record["id"] for record in queue]


# --- ranking -------------------------------------------------------------------------------------


def test_suggest_puts_a_finding_at_a_theme_threshold_before_confident_ones():
    candidates = findings(20)
    scorer = TableScorer({candidates[7]["text"]: {"themes": (0.41, 0.99)}, candidates[3]["text"]: {"themes": (0.7, 0.99)}})
    queue = suggest_findings(candidates, 3, scorer, random_share=0)
    assert queue_ids(queue)[:2] == ["f7", "f3"]
    assert queue[0]["reasons"][0] == "adoption at threshold (0.41 vs 0.40)"
    assert queue[0]["score"] > queue[1]["score"] > queue[2]["score"]


def test_suggest_puts_a_close_polarity_call_first_and_says_by_how_much():
    candidates = findings(20)
    scorer = TableScorer({candidates[5]["text"]: {"polarity": (0.46, 0.0, 0.5, 0.04)}})
    queue = suggest_findings(candidates, 1, scorer, random_share=0)
    assert queue_ids(queue) == ["f5"]
    assert "polarity margin 0.04 (strength vs mixed)" in queue[0]["reasons"]


def test_suggest_does_not_count_the_polarity_of_recommendations_which_the_schema_fixes():
    candidates = findings(20)
    candidates[5]["kind"] = "recommendation"
    candidates[6]["kind"] = "finding"
    close_call = {"polarity": (0.46, 0.0, 0.5, 0.04)}
    scorer = TableScorer({candidates[5]["text"]: close_call, candidates[6]["text"]: close_call})
    queue = suggest_findings(candidates, 20, scorer, random_share=0)
    assert queue_ids(queue)[0] == "f6"
    score = {record["id"]: record["score"] for record in queue}
    assert score["f5"] == score["f0"]
    recommendation = suggest_findings([candidates[5]], 1, scorer, random_share=0)[0]
    assert recommendation["pre_annotation"]["polarity"] == "weakness"
    assert not any(reason.startswith("polarity margin") for reason in recommendation["reasons"])


def test_suggest_counts_disagreement_with_a_second_model_and_names_it():
    candidates = findings(20)
    uncertain = {candidates[2]["text"]: {"polarity": (0.3, 0.0, 0.7, 0.0)}}
    disagreeing = {candidates[9]["text"]: {"themes": (0.9, 0.99), "polarity": (0.0, 0.0, 0.0, 1.0)}}
    queue = suggest_findings(candidates, 2, TableScorer(uncertain), compare=TableScorer(disagreeing, "fast"), random_share=0)
    assert queue_ids(queue) == ["f9", "f2"]
    assert "fast disagrees on themes: +adoption" in queue[0]["reasons"]
    assert "fast disagrees on polarity: weakness vs strength" in queue[0]["reasons"]
    alone = suggest_findings(candidates, 2, TableScorer(uncertain), random_share=0)
    assert queue_ids(alone)[0] == "f2"
    assert all("disagreement not used: no second model given" in record["reasons"] for record in alone)


# --- diversity -----------------------------------------------------------------------------------


def test_suggest_never_draws_an_excluded_text_nor_a_rewording_of_its_case_or_punctuation():
    candidates = findings(12)
    candidates[4]["text"] = "Return home interviews are TIMELY; and thorough!"
    scorer = TableScorer({candidates[4]["text"]: {"themes": (0.4, 0.3)}})
    queue = suggest_findings(candidates, 11, scorer, exclude_texts=["Return home interviews are timely, and thorough."], random_share=0)
    assert "f4" not in queue_ids(queue)
    with pytest.raises(SuggestInputError, match="only 11 of the 12"):
        suggest_findings(candidates, 12, scorer, exclude_texts=["Return home interviews are timely, and thorough."])


def test_suggest_draws_one_copy_of_boilerplate_and_none_of_labelled_boilerplate():
    boilerplate = "The local authority has an effective response to children who go missing from home, and return home interviews are offered to every child in {}."
    candidates = findings(30)
    for i, place in zip((1, 2, 3), ("Wigan", "Bury", "Leeds")):
        candidates[i]["text"] = boilerplate.format(place)
    candidates[4]["text"] = boilerplate.format("Hull") + " Managers check them."
    scorer = TableScorer({candidates[i]["text"]: {"themes": (0.4, 0.3)} for i in (1, 2, 3, 4)})
    drawn = queue_ids(suggest_findings(candidates, 10, scorer, random_share=0))
    assert len({"f1", "f2", "f3", "f4"} & set(drawn)) == 1
    drawn = queue_ids(suggest_findings(candidates, 10, scorer, exclude_texts=[boilerplate.format("Kent")], random_share=0))
    assert not {"f1", "f2", "f3", "f4"} & set(drawn)


def test_suggest_takes_at_most_the_cap_from_one_report():
    candidates = findings(40)
    for i, finding in enumerate(candidates):
        finding["report_id"] = "busy" if i < 20 else f"report-{i}"
    scorer = TableScorer({f["text"]: {"themes": (0.4, 0.3)} for f in candidates[:20]})
    queue = suggest_findings(candidates, 10, scorer, max_per_report=3, random_share=0)
    assert sum(record["report_id"] == "busy" for record in queue) == 3
    with pytest.raises(SuggestInputError, match="raise --max-per-report"):
        suggest_findings(candidates[:20], 5, scorer, max_per_report=3)


def test_suggest_spreads_the_queue_over_authorities():
    candidates = findings(60)
    for i, finding in enumerate(candidates):
        finding.update(report_id=f"r{i}", local_authority="Leeds" if i < 30 else "York")
    slightly_surer = {f["text"]: {"themes": (0.42 if f["local_authority"] == "Leeds" else 0.45, 0.99)} for f in candidates}
    queue = suggest_findings(candidates, 20, TableScorer(slightly_surer), random_share=0)
    york = sum(record["local_authority"] == "York" for record in queue)
    assert 6 <= york <= 14


def test_suggest_keeps_the_models_polarity_and_the_kind_near_their_shares():
    candidates = findings(40, kind="finding")
    for finding in candidates[30:]:
        finding["kind"] = "context"
    close_mixed = {"polarity": (0.5, 0.0, 0.46, 0.04)}
    scorer = TableScorer({f["text"]: close_mixed for f in candidates[:10]})
    queue = suggest_findings(candidates, 8, scorer, random_share=0)
    assert sum(record["pre_annotation"]["polarity"] == "mixed" for record in queue) == 2  # a quarter, as among the candidates
    assert queue_ids(queue)[0] in {f"f{i}" for i in range(10)}  # the most uncertain within the group first
    assert sum(record["kind"] == "context" for record in queue) == 2


def test_suggest_gives_the_random_share_evenly_spread_places():
    queue = suggest_findings(findings(100), 40, TableScorer({}), random_share=0.1, seed=3)
    assert [record["rank"] for record in queue if record["drawn"] == "random"] == [10, 20, 30, 40]
    assert queue[9]["reasons"][0] == "random draw (10% of the queue is a uniform sample)"
    assert [is_random_place(place, 0.25) for place in range(8)] == [False, False, False, True] * 2


def test_suggest_is_deterministic_with_a_seed():
    candidates = findings(200)
    scorer = TableScorer({f["text"]: {"themes": (0.4, 0.99)} for f in candidates[::3]})
    first = suggest_findings(candidates, 50, scorer, seed=11)
    assert suggest_findings(candidates, 50, scorer, seed=11) == first
    other = suggest_findings(candidates, 50, scorer, seed=12)
    assert queue_ids(other) != queue_ids(first)


@pytest.mark.parametrize(
    "settings, complaint",
    [
        ({"n": 0}, "at least 1"),
        ({"n": 3, "random_share": 1.5}, "between 0 and 1"),
        ({"n": 3, "max_per_report": 0}, "max_per_report"),
        ({"n": 31}, "only 30 of the 30"),
    ],
)
def test_suggest_refuses_bad_settings_by_name(settings, complaint):
    with pytest.raises(SuggestInputError, match=complaint):
        suggest_findings(findings(30), scorer=TableScorer({}), **settings)


def test_suggest_refuses_repeated_ids_and_findings_without_text():
    candidates = findings(5)
    with pytest.raises(SuggestInputError, match="given twice"):
        suggest_findings(candidates + [{"id": "f0", "text": "Another text entirely."}], 2, TableScorer({}))
    with pytest.raises(SuggestInputError, match='string "text"'):
        suggest_findings(candidates + [{"id": "x", "text": None}], 2, TableScorer({}))


# --- files and the command line, with the tiny trained pipeline ------------------------------------


@pytest.fixture
def findings_jsonl(tmp_path):
    path = tmp_path / "findings.jsonl"
    records = [
        {"id": i, "text": distinct_text(i), "report_id": f"report-{i % 8}", "kind": "finding"} for i in range(40)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def read_queue(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_suggest_cli_writes_n_contract_lines_without_excluded_or_repeated_text(findings_jsonl, tiny_pipeline_dir, tmp_path):
    excluded = [distinct_text(i).upper() for i in range(10)]
    for name, part in (("gold.jsonl", excluded[:6]), ("held-out.jsonl", excluded[6:])):
        (tmp_path / name).write_text("".join(json.dumps({"id": f"{name}{i}", "text": t}) + "\n" for i, t in enumerate(part)), encoding="utf-8")
    output = tmp_path / "queue.jsonl"
    exclusions = ["--exclude", str(tmp_path / "gold.jsonl"), "--exclude", str(tmp_path / "held-out.jsonl")]
    result = runner.invoke(
        app, ["suggest", str(findings_jsonl), "-n", "15", "-o", str(output), "--model", str(tiny_pipeline_dir), *exclusions, "-q"]
    )
    assert result.exit_code == 0, result.output
    queue = read_queue(output)
    assert len(queue) == 15
    assert [record["rank"] for record in queue] == list(range(1, 16))
    texts = [normalise_text(record["text"]) for record in queue]
    assert len(set(texts)) == 15 and not set(texts) & {normalise_text(t) for t in excluded}
    assert len({record["id"] for record in queue}) == 15
    for record in queue:
        assert QUEUE_FIELDS | {"report_id", "kind"} == set(record)
        assert record["reasons"] and all(isinstance(reason, str) for reason in record["reasons"])
        labels = record["pre_annotation"]
        assert set(labels) == {"model", "themes", "polarity", "theme_polarity"}
        assert set(labels["themes"]) <= set(THEME_IDS) and labels["polarity"] in POLARITIES
        assert set(labels["theme_polarity"]) == set(labels["themes"])
    assert max(sum(r["report_id"] == f"report-{k}" for r in queue) for k in range(8)) <= 3


def test_suggest_python_function_writes_what_the_cli_writes(findings_jsonl, tiny_pipeline_dir, tmp_path):
    from_cli, from_python = tmp_path / "cli.jsonl", tmp_path / "python.jsonl"
    arguments = ["suggest", str(findings_jsonl), "-n", "12", "-o", str(from_cli), "--model", str(tiny_pipeline_dir), "--seed", "4", "-q"]
    assert runner.invoke(app, arguments).exit_code == 0
    assert suggest_file(findings_jsonl, from_python, 12, model=tiny_pipeline_dir, seed=4) == 12
    assert from_cli.read_text() == from_python.read_text()


def test_suggest_reads_findings_parquet_with_report_index_ids(tmp_path, tiny_pipeline_dir):
    rows = [
        {"report_id": "wigan-2017-sif", "index": i, "local_authority": "Wigan", "framework": "SIF", "year": 2017,
         "kind": "recommendation" if i == 0 else "finding", "section": "S", "area": None, "text": distinct_text(i), "themes": []}
        for i in range(12)
    ]
    path = tmp_path / "findings.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    assert [f["id"] for f in read_suggest_input(tmp_path)][:2] == ["wigan-2017-sif#0", "wigan-2017-sif#1"]
    queue = suggest_findings(read_suggest_input(path), 5, scorer_for_model(tiny_pipeline_dir), max_per_report=5)
    for record in queue:
        assert record["id"] == f"{record['report_id']}#{record['index']}"
        assert {"local_authority", "framework", "year", "kind", "section", "area"} <= set(record)
        if record["kind"] == "recommendation":
            assert record["pre_annotation"]["polarity"] == "weakness"


@pytest.mark.parametrize(
    "content, complaint",
    [
        ('{"id": 1, "text": "A finding."}\n{"id": 2}\n', 'findings.jsonl:2: each line must be a JSON object with "id"'),
        ('{"id": 1, "text": "A finding."}\nnot json\n', "findings.jsonl:2: not valid JSON"),
        ('["a list"]\n', "findings.jsonl:1"),
    ],
)
def test_suggest_cli_names_the_bad_line(tmp_path, tiny_pipeline_dir, content, complaint):
    path = tmp_path / "findings.jsonl"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["suggest", str(path), "-n", "1", "-o", str(tmp_path / "q.jsonl"), "--model", str(tiny_pipeline_dir)])
    assert result.exit_code == 2
    assert complaint in result.output
    assert not (tmp_path / "q.jsonl").exists()


def test_suggest_names_missing_parquet_columns_and_bad_exclude_lines(tmp_path, findings_jsonl):
    path = tmp_path / "findings.parquet"
    pq.write_table(pa.Table.from_pylist([{"text": "A finding."}]), path)
    with pytest.raises(SuggestInputError, match=r"\['report_id', 'index'\] are missing"):
        read_suggest_input(path)
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(SuggestInputError, match="not a readable Parquet file"):
        read_suggest_input(tmp_path / "broken.parquet")
    exclude = tmp_path / "gold.jsonl"
    exclude.write_text('{"id": "g1"}\n', encoding="utf-8")
    with pytest.raises(SuggestInputError, match='gold.jsonl:1: each line of the exclude file must be a JSON object with a string "text"'):
        suggest_file(findings_jsonl, tmp_path / "q.jsonl", 3, exclude=exclude)


def test_suggest_cli_compares_with_a_second_model_when_given(findings_jsonl, tiny_pipeline_dir, tmp_path):
    output = tmp_path / "queue.jsonl"
    arguments = ["suggest", str(findings_jsonl), "-n", "5", "-o", str(output), "--model", str(tiny_pipeline_dir), "-q"]
    assert runner.invoke(app, arguments + ["--compare-model", str(tiny_pipeline_dir)]).exit_code == 0
    # The same model twice: disagreement is measured (and is nil), so no line says it was not used.
    assert not any("disagreement not used" in reason for record in read_queue(output) for reason in record["reasons"])
