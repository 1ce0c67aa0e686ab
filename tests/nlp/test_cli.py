"""The command line's own contract: `--version`, and the exit codes and messages of `segment`
(those of `label` are tested in test_batch.py, of `classify` in test_classify.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from nlp.cli import app
from tests.nlp.bad_inputs import NEWHAM, STOCKPORT, repeated_report, word_document


def test_cli_version_names_the_package_and_the_default_model():
    from nlp.about import __version__
    from nlp.classify import default_model_path

    result = CliRunner().invoke(app, ["--version"])

    meta = json.loads((default_model_path() / "meta.json").read_text(encoding="utf-8"))
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"inspection-themes {__version__}",
        f"default model: {meta['name']} {meta['version']} ({default_model_path()})",
    ]


def test_cli_segment_exits_0_and_writes_the_findings(tmp_path):
    output = tmp_path / "findings.jsonl"

    result = CliRunner().invoke(app, ["segment", str(NEWHAM), "-o", str(output)])

    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(records) > 10 and {record["report_id"] for record in records} == {NEWHAM.stem}


def test_cli_segment_a_long_report_beyond_spacys_default_limit(tmp_path):
    # 1.1 million characters: over spaCy's default max_length, under the report limit.
    text = STOCKPORT.read_text(encoding="utf-8")
    body = text[: text.index("The Office for Standards in Education")]
    path = tmp_path / "long.txt"
    path.write_text(body * (1_100_000 // len(body) + 1), encoding="utf-8")

    result = CliRunner().invoke(app, ["segment", str(path), "-o", str(tmp_path / "findings.jsonl")])

    assert result.exit_code == 0, result.output
    assert len((tmp_path / "findings.jsonl").read_text(encoding="utf-8").splitlines()) > 1000


def test_cli_segment_exits_2_with_what_to_do_when_the_file_cannot_be_read(tmp_path):
    huge = tmp_path / "huge.txt"
    huge.write_bytes(repeated_report(30 * 2**20))
    word = tmp_path / "report.pdf"
    word.write_bytes(word_document())

    for path, message in ((huge, "[too_large]"), (word, "[unsupported_type]")):
        result = CliRunner().invoke(app, ["segment", str(path)])

        assert result.exit_code == 2
        assert isinstance(result.exception, SystemExit), f"uncaught {result.exception!r}"
        assert result.stderr.startswith(f"error: {message} {path}: ")


def test_cli_segment_exits_2_when_misused(tmp_path):
    assert CliRunner().invoke(app, ["segment", str(tmp_path / "missing.txt")]).exit_code == 2
