"""The notebooks run top to bottom against the package (the corpus one on a few reports)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def run_notebook(name: str, env: dict[str, str]) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    previous = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", "")) + str(output.get("data", {}).get("text/html", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


@pytest.mark.slow
def test_notebooks_quickstart_labels_one_report_and_draws_its_profile():
    notebook = run_notebook("1.0-quickstart-label-one-report.ipynb", {})
    text = outputs(notebook)
    assert "Newham" in text  # the report's metadata
    assert "displacy" in text or "spans" in text  # the highlighted findings
    assert 'class="it-report"' in text and "it-evidence" in text  # the page of the report, inline
    assert any(output.get("data", {}).get("image/png") for cell in notebook.cells for output in cell.get("outputs", []))


@pytest.mark.slow
@pytest.mark.corpus
def test_notebooks_corpus_analysis_runs_on_a_few_reports(corpus, tmp_path):
    notebook = run_notebook(
        "2.0-corpus-analysis.ipynb",
        {"INSPECTION_THEMES_NOTEBOOK_LIMIT": "12", "INSPECTION_THEMES_NOTEBOOK_OUTDIR": str(tmp_path / "out")},
    )
    text = outputs(notebook)
    assert "12 reports labelled" in text
    assert "spearman_rho" in text
    assert (tmp_path / "out" / "findings.parquet").exists()
