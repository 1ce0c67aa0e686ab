"""The `classify` contract other teams script against, run with the committed model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from nlp.classify import classify_texts, load_pipeline
from nlp.cli import app
from nlp.taxonomy import POLARITIES, THEME_IDS

FINDINGS = [
    {"id": "a-1", "text": "Return home interviews are offered to every child who goes missing from home, and the information is used well to reduce risk."},
    {"id": 17, "text": "Adopters are recruited and approved quickly, and children are matched with their adoptive families without delay."},
    {
        "id": "a-3",
        "text": "Improve the quality of pathway plans for care leavers, so that they are specific about how young people will be helped to find suitable accommodation.",
    },
]
CONTRACT_FIELDS = {"id", "themes", "polarity", "theme_polarity", "scores"}

runner = CliRunner()


@pytest.fixture
def findings_file(tmp_path):
    path = tmp_path / "findings.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in FINDINGS), encoding="utf-8")
    return path


def read_output(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_classify_cli_writes_one_contract_line_per_finding_in_order(findings_file, tmp_path):
    output = tmp_path / "labels.jsonl"
    result = runner.invoke(app, ["classify", str(findings_file), "-o", str(output)])
    assert result.exit_code == 0, result.output
    lines = read_output(output)
    assert [line["id"] for line in lines] == [record["id"] for record in FINDINGS]
    for line in lines:
        assert set(line) == CONTRACT_FIELDS
        assert set(line["themes"]) <= set(THEME_IDS)
        assert line["polarity"] in POLARITIES
        assert set(line["theme_polarity"]) == set(line["themes"])
        assert set(line["theme_polarity"].values()) <= set(POLARITIES)
        assert list(line["scores"]) == list(THEME_IDS)
        assert all(0.0 <= score <= 1.0 for score in line["scores"].values())


def test_classify_labels_plain_findings_as_a_reader_would(findings_file, tmp_path):
    output = tmp_path / "labels.jsonl"
    assert runner.invoke(app, ["classify", str(findings_file), "-o", str(output)]).exit_code == 0
    missing, adoption, care_leavers = read_output(output)
    assert "missing_children" in missing["themes"] and missing["polarity"] == "strength"
    assert "adoption" in adoption["themes"] and adoption["polarity"] == "strength"
    assert "care_leavers" in care_leavers["themes"] and care_leavers["polarity"] == "weakness"


def test_classify_python_function_gives_what_the_cli_writes(findings_file, tmp_path):
    output = tmp_path / "labels.jsonl"
    assert runner.invoke(app, ["classify", str(findings_file), "-o", str(output)]).exit_code == 0
    labels = classify_texts([record["text"] for record in FINDINGS], load_pipeline())
    assert [{"id": record["id"], **label.to_dict()} for record, label in zip(FINDINGS, labels)] == read_output(output)


def test_classify_evidence_names_sentences_of_the_finding(findings_file, tmp_path):
    output = tmp_path / "labels.jsonl"
    assert runner.invoke(app, ["classify", str(findings_file), "-o", str(output), "--evidence"]).exit_code == 0
    first = read_output(output)[0]
    assert set(first["evidence"]) == set(first["themes"])
    text = FINDINGS[0]["text"]
    for evidence in first["evidence"].values():
        sentences = evidence["sentences"]
        assert sentences and all(text[s["start"] : s["end"]] == s["text"] for s in sentences)


@pytest.mark.parametrize(
    "content, complaint",
    [
        ('{"id": 1, "text": "Fine."}\n{"id": 2}\n', ":2:"),
        ('{"id": 1, "text": "Fine."}\nnot json\n', "not valid JSON"),
        ('{"id": 1, "text": 42}\n', '"text"'),
        (b'{"id": 0, "text": "fine"}\n' * 2000 + b'{"id": 1, "text": "caf\xe9"}\n', ":2001: not UTF-8"),
    ],
    ids=["missing-text", "not-json", "text-not-string", "not-utf8"],
)
def test_classify_bad_input_fails_with_a_named_line_and_writes_nothing(tmp_path, content, complaint):
    source = tmp_path / "bad.jsonl"
    (source.write_bytes if isinstance(content, bytes) else source.write_text)(content)
    output = tmp_path / "labels.jsonl"
    result = runner.invoke(app, ["classify", str(source), "-o", str(output)])
    assert result.exit_code == 2
    assert complaint in result.output and "bad.jsonl" in result.output
    assert not output.exists()


def test_classify_reads_a_file_that_starts_with_a_byte_order_mark(findings_file, tmp_path):
    findings_file.write_bytes(b"\xef\xbb\xbf" + findings_file.read_bytes())
    output = tmp_path / "labels.jsonl"
    assert runner.invoke(app, ["classify", str(findings_file), "-o", str(output)]).exit_code == 0
    assert [line["id"] for line in read_output(output)] == [record["id"] for record in FINDINGS]


def test_classify_with_a_folder_that_is_not_a_model_says_so(findings_file, tmp_path):
    result = runner.invoke(app, ["classify", str(findings_file), "-o", str(tmp_path / "out.jsonl"), "--model", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a model folder" in result.output
