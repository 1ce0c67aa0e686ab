"""A model of a taxonomy of one's own, shared by the tests of training (`test_train`) and of the
page (`test_show`): trained once per session, since it takes a while even for the fast kind.

The taxonomy is 4 themes made from gold by merging themes (`training.benchmarks.bench_own_taxonomy`).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from nlp.cli import app
from nlp.jsonl import write_jsonl
from training.benchmarks.bench_own_taxonomy import GOLD, TAXONOMY_RECORD, merged_findings

FINDINGS = 300
FOLDS = 3


@pytest.fixture(scope="session")
def taxonomy_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("taxonomy") / "merged.taxonomy.json"
    path.write_text(json.dumps(TAXONOMY_RECORD), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def data_file(tmp_path_factory):
    if not GOLD.exists():
        pytest.skip(f"gold set not found at {GOLD}")
    path = tmp_path_factory.mktemp("data") / "merged.jsonl"
    write_jsonl(merged_findings(FINDINGS), path)
    return path


@pytest.fixture(scope="session")
def fast_model_dir(taxonomy_file, data_file, tmp_path_factory):
    """The fast kind, trained through the command line as another team would."""
    output = tmp_path_factory.mktemp("models") / "merged_fast"
    result = CliRunner().invoke(
        app, ["train", str(data_file), "--taxonomy", str(taxonomy_file), "-o", str(output), "--model-kind", "fast", "--folds", str(FOLDS)]
    )
    assert result.exit_code == 0, result.output
    return output
