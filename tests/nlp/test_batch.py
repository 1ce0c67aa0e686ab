"""Batch labelling: the three tables, bad inputs recorded and skipped, resume after a kill, the CLI,
a hostile batch (every kind of bad file beside good reports), a fuzz of the per-file function, and
the exit codes.

Every run uses the tiny trained pipeline of conftest (`tiny_pipeline_dir`), so a report takes a
fraction of a second; inputs are the bundled samples in examples/reports, copies of them under
other names, and bad files built here. The interruption test runs `inspection-themes label` as a
subprocess and kills it with SIGKILL once it has written the part of a report it had to label.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nlp import batch
from nlp import errors as errors_module
from nlp.batch import (
    ERROR_COLUMNS,
    ERRORS_FILE,
    FINDING_COLUMNS,
    finding_schema,
    FINDINGS_FILE,
    PART_SUFFIX,
    PARTS_DIR,
    REPORT_SCHEMA,
    REPORTS_FILE,
    label_file,
    label_reports,
    part_path,
    read_findings,
    write_part,
    write_tables_from_parts,
)
from nlp.classify import load_pipeline
from nlp.cli import app
from nlp.errors import ReportInputError
from nlp.ingest import read_report
from nlp.taxonomy import DEFAULT_TAXONOMY, POLARITIES, THEME_IDS
from tests.conftest import fit_tiny_fast_model, tiny_training_set
from tests.nlp.parts import part_identity
from tests.runtime import cli_without_training_libraries
from tests.nlp.bad_inputs import (
    ENCRYPTED,
    NEWHAM,
    RECIPE,
    SAMPLES,
    STOCKPORT,
    about,
    png_image,
    random_bytes_with_nuls,
    scanned_pdf,
    write_hostile_batch,
)
CLI = [str(Path(sys.executable).with_name("inspection-themes"))]
if not Path(CLI[0]).exists():  # not installed as a script: the same app through its module
    CLI = [sys.executable, "-m", "nlp.cli"]


def label(paths, outdir, model, **options):
    return label_reports([str(path) for path in paths], outdir, model=model, progress=False, **options)


def sorted_table(path: Path) -> pa.Table:
    return pq.read_table(path).sort_by([("report_id", "ascending"), ("index", "ascending")])


def differing_columns(left: pa.Table, right: pa.Table) -> list[str]:
    """Columns whose values differ (all of them if the row counts differ)."""
    assert left.column_names == right.column_names
    if left.num_rows != right.num_rows:
        return left.column_names
    return [name for name in left.column_names if not left.column(name).equals(right.column(name))]


def assert_same_findings(left: pa.Table, right: pa.Table) -> None:
    """Same rows in the same order (both sorted by report_id, index), every column equal."""
    assert differing_columns(left, right) == []


def sorted_frame(path: Path, keys: list[str]) -> pd.DataFrame:
    return pd.read_parquet(path).sort_values(keys).reset_index(drop=True)


def copy_as(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *arguments], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def samples_run(tiny_pipeline_dir, tmp_path_factory):
    """The bundled samples labelled once, with one job: (outdir, summary)."""
    outdir = tmp_path_factory.mktemp("samples") / "out"
    return outdir, label([SAMPLES], outdir, tiny_pipeline_dir)


@pytest.fixture
def two_copies(tmp_path) -> list[Path]:
    """The two samples under other names, in a folder of their own (so they can be touched)."""
    return [
        copy_as(STOCKPORT, tmp_path / "in" / "alpha.txt"),
        copy_as(NEWHAM, tmp_path / "in" / "beta.pdf"),
    ]


# -- the three tables -------------------------------------------------------------------------------


def test_batch_labels_the_samples_into_three_tables(samples_run):
    outdir, summary = samples_run

    for name in (FINDINGS_FILE, REPORTS_FILE, ERRORS_FILE):
        assert (outdir / name).is_file()
    findings = pq.read_table(outdir / FINDINGS_FILE)
    assert (summary.labelled, summary.skipped, summary.failed) == (2, 0, 0)
    assert summary.findings == findings.num_rows > 0
    assert pq.read_table(outdir / ERRORS_FILE).num_rows == 0
    assert sorted(path.name for path in (outdir / PARTS_DIR).iterdir()) == [
        f"newham-2019-ilacs{PART_SUFFIX}",
        f"stockport-2022-ilacs{PART_SUFFIX}",
    ]


def test_batch_findings_table_has_the_finding_schema_of_the_models_taxonomy(samples_run):
    outdir, _ = samples_run
    schema = pq.read_schema(outdir / FINDINGS_FILE)

    assert schema.names == list(FINDING_COLUMNS)
    assert [field.type for field in schema] == [field.type for field in finding_schema(THEME_IDS)]
    assert [field.name for field in schema.field("scores").type] == list(THEME_IDS)


def test_batch_findings_table_has_one_row_per_finding_of_each_report(samples_run, tiny_pipeline_dir):
    outdir, _ = samples_run
    findings = read_findings(outdir)
    nlp = load_pipeline(str(tiny_pipeline_dir))

    for source in (NEWHAM, STOCKPORT):
        rows = findings[findings["report_id"] == source.stem]
        doc = nlp(read_report(source).text)
        spans = doc.spans["findings"]
        assert len(rows) == len(spans) > 0
        assert rows["index"].tolist() == list(range(len(spans)))
        assert rows["text"].tolist() == [span.text for span in spans]
        assert [list(themes) for themes in rows["themes"]] == [list(span._.themes) for span in spans]
        assert rows["polarity"].tolist() == [span._.polarity for span in spans]
        assert set(rows["source"]) == {str(source)}


def test_batch_findings_carry_report_metadata_and_valid_labels(samples_run):
    findings = read_findings(samples_run[0])

    by_report = findings.groupby("report_id")[["local_authority", "framework", "year"]].agg(set)
    assert by_report.to_dict("index") == {
        "newham-2019-ilacs": {"local_authority": {"Newham"}, "framework": {"ILACS"}, "year": {2019}},
        "stockport-2022-ilacs": {"local_authority": {"Stockport"}, "framework": {"ILACS"}, "year": {2022}},
    }
    assert set(findings["kind"]) >= {"finding", "recommendation"}
    assert findings["area"].notna().any() and findings["section"].notna().any()
    assert (findings["page_start"] <= findings["page_end"]).all()
    assert (findings["char_start"] < findings["char_end"]).all()
    assert set(findings["polarity"]) <= set(POLARITIES)
    for row in findings.itertuples():
        assert set(row.themes) <= set(THEME_IDS)
        assert set(row.theme_polarity) == set(row.themes)
        assert set(row.theme_polarity.values()) <= set(POLARITIES)
        assert set(row.scores) == set(THEME_IDS)
        assert all(0.0 <= score <= 1.0 for score in row.scores.values())
    assert findings["theme_polarity"].map(len).sum() > 0  # the tiny model does find themes


def test_batch_read_findings_gives_theme_polarity_of_the_findings_own_themes(samples_run):
    outdir, _ = samples_run
    findings = read_findings(outdir)
    raw = pq.read_table(outdir / FINDINGS_FILE).column("theme_polarity").to_pylist()

    assert all(isinstance(value, dict) for value in findings["theme_polarity"])
    assert all(isinstance(value, dict) and len(value) == len(THEME_IDS) for value in findings["scores"])
    # Stored as a struct with a field per theme; read back without the themes a finding lacks.
    assert all(set(stored) == set(THEME_IDS) for stored in raw)
    assert list(findings["theme_polarity"]) == [{k: v for k, v in stored.items() if v is not None} for stored in raw]


def test_batch_reports_table_counts_agree_with_the_findings(samples_run):
    outdir, _ = samples_run
    findings = read_findings(outdir)
    reports = pd.read_parquet(outdir / REPORTS_FILE)

    expected: dict[tuple, Counter] = {}
    for row in findings.itertuples():
        area = row.area if isinstance(row.area, str) else "none"
        for theme, polarity in row.theme_polarity.items():
            expected.setdefault((row.report_id, area, theme), Counter())[polarity] += 1
    assert len(reports) == len(expected) > 0
    for row in reports.itertuples():
        counts = expected[(row.report_id, row.area, row.theme)]
        assert [row.strength, row.weakness, row.mixed, row.neutral] == [counts[p] for p in POLARITIES]
        assert row.findings == sum(counts.values())
        assert row.net == pytest.approx((counts["strength"] - counts["weakness"]) / row.findings)
    metadata = findings.groupby("report_id")[["local_authority", "framework", "year"]].first()
    for row in reports.itertuples():
        assert (row.local_authority, row.framework, row.year) == tuple(metadata.loc[row.report_id])


def test_batch_tables_do_not_depend_on_how_findings_are_chunked(samples_run, tiny_pipeline_dir, tmp_path, monkeypatch):
    # The tables are streamed from the parts in chunks of whole reports; tiny chunks give one per report
    # (two row groups, two profiles), and must give the same tables.
    monkeypatch.setattr(batch, "_ROW_GROUP_ROWS", 7)
    outdir, _ = samples_run
    label([SAMPLES], tmp_path / "chunked", tiny_pipeline_dir)
    assert pq.ParquetFile(tmp_path / "chunked" / FINDINGS_FILE).num_row_groups == 2  # a chunk per report
    for name in (FINDINGS_FILE, REPORTS_FILE):
        assert pq.read_table(tmp_path / "chunked" / name).equals(pq.read_table(outdir / name))


def finding_row(report_id: str, year: int | None, theme_polarity: dict[str, str]) -> dict:
    row = {name: None for name in FINDING_COLUMNS}
    row.update(
        report_id=report_id,
        local_authority=report_id.title(),
        framework="SIF",
        year=year,
        index=0,
        area="help_and_protection",
        text="A finding.",
        themes=list(theme_polarity),
        polarity="strength",
        theme_polarity=theme_polarity,
    )
    return row


def test_batch_tables_keep_their_types_when_a_chunk_has_no_themes_or_no_year(tmp_path, monkeypatch):
    reports = {
        "alpha": [finding_row("alpha", 2017, {"adoption": "strength"})],
        "beta": [finding_row("beta", 2018, {})],  # findings, but no theme: an empty profile
        "gamma": [finding_row("gamma", None, {"adoption": "weakness", "care_leavers": "mixed"})],
    }
    for report_id, rows in reports.items():
        write_part(tmp_path / PARTS_DIR, report_id, rows, None, "{}", finding_schema(THEME_IDS))
    for outdir, rows_per_chunk in (("whole", 1000), ("chunked", 1)):
        monkeypatch.setattr(batch, "_ROW_GROUP_ROWS", rows_per_chunk)
        (tmp_path / outdir).mkdir()
        write_tables_from_parts(tmp_path / outdir, tmp_path / PARTS_DIR, list(reports), finding_schema(THEME_IDS))
    for name in (FINDINGS_FILE, REPORTS_FILE):
        assert pq.read_table(tmp_path / "chunked" / name).equals(pq.read_table(tmp_path / "whole" / name)), name
    assert len(pq.read_table(tmp_path / "whole" / REPORTS_FILE)) == 3
    assert pq.read_schema(tmp_path / "chunked" / REPORTS_FILE).remove_metadata() == REPORT_SCHEMA


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace(
            "Inspection dates: 28 March to 1 April 2022", "Inspection dates: see above"
        ),
        lambda text: text.split("\n", 4)[4],
    ],
    ids=["no-inspection-dates", "no-title-lines"],
)
def test_batch_reports_table_keeps_reports_whose_metadata_is_incomplete(tmp_path, tiny_pipeline_dir, edit):
    path = tmp_path / "stockport-extract.txt"
    path.write_text(edit(STOCKPORT.read_text(encoding="utf-8")), encoding="utf-8")

    label([path], tmp_path / "out", tiny_pipeline_dir)

    findings = read_findings(tmp_path / "out")
    themed = findings[findings["theme_polarity"].map(len) > 0]
    assert len(themed) > 0
    reports = pd.read_parquet(tmp_path / "out" / REPORTS_FILE)
    assert reports["findings"].sum() == themed["theme_polarity"].map(len).sum()


# -- bad inputs -------------------------------------------------------------------------------------


def test_batch_with_bad_files_finishes_labels_the_good_ones_and_lists_the_bad(tmp_path, tiny_pipeline_dir):
    good = [
        copy_as(STOCKPORT, tmp_path / "good" / STOCKPORT.name),
        copy_as(NEWHAM, tmp_path / "good" / NEWHAM.name),
    ]
    bad = tmp_path / "bad"
    bad.mkdir()
    expected_types = {
        "empty.txt": ("EmptyReportError", b""),
        "blank.txt": ("EmptyReportError", b"  \n\n\t \r\n"),
        "noise.txt": ("UnsupportedFileTypeError", random_bytes_with_nuls()),
        "locked.pdf": ("EncryptedPdfError", ENCRYPTED.read_bytes()),
        "scanned.pdf": ("NoTextLayerError", scanned_pdf(2)),
        "corrupt.pdf": ("CorruptPdfError", NEWHAM.read_bytes()[:5000]),
        "recipe.txt": ("NotAnInspectionReportError", about(RECIPE).encode()),
    }
    for name, (_, data) in expected_types.items():
        (bad / name).write_bytes(data)
    picture = tmp_path / "picture.png"
    picture.write_bytes(png_image())
    duplicate = copy_as(STOCKPORT, tmp_path / "other" / STOCKPORT.name)
    nothing = str(tmp_path / "missing" / "*.pdf")

    summary = label(
        [tmp_path / "good", bad, picture, duplicate, nothing], tmp_path / "out", tiny_pipeline_dir
    )

    findings = read_findings(tmp_path / "out")
    assert set(findings["report_id"]) == {path.stem for path in good}
    assert set(findings["source"]) == {str(path) for path in good}
    assert set(pd.read_parquet(tmp_path / "out" / REPORTS_FILE)["report_id"]) <= {path.stem for path in good}

    errors = pd.read_parquet(tmp_path / "out" / ERRORS_FILE)
    assert list(errors.columns) == list(ERROR_COLUMNS)
    assert summary.failed == len(errors) == len(expected_types) + 3
    by_source = {
        row.source if row.error_type == "NoSuchInput" else Path(row.source).name: row
        for row in errors.itertuples()
    }
    for name, (error_type, _) in expected_types.items():
        row = by_source[name]
        assert (row.error_type, row.report_id) == (error_type, Path(name).stem)
        assert Path(row.source) == (bad / name).resolve()
        with pytest.raises(ReportInputError) as raised:  # the same message read_report gives
            read_report(bad / name)
        assert row.reason == str(raised.value)
    png_row = by_source["picture.png"]
    assert png_row.error_type == "UnsupportedFileTypeError" and str(picture) in png_row.reason
    duplicate_row = errors[errors["error_type"] == "DuplicateReportId"].iloc[0]
    assert duplicate_row["source"] == str(duplicate)
    assert str(good[0]) in duplicate_row["reason"] and "rename" in duplicate_row["reason"]
    assert by_source[nothing].error_type == "NoSuchInput"
    assert pd.isna(by_source[nothing].report_id) and "no report file matches" in by_source[nothing].reason


def test_batch_summary_counts_unreadable_files_as_failed_not_labelled(tmp_path, tiny_pipeline_dir):
    good = copy_as(STOCKPORT, tmp_path / "in" / "good.txt")
    (tmp_path / "in" / "empty.txt").write_bytes(b"")

    summary = label([tmp_path / "in"], tmp_path / "out", tiny_pipeline_dir)

    assert set(read_findings(tmp_path / "out")["report_id"]) == {good.stem}
    assert (summary.labelled, summary.failed) == (1, 1)


@pytest.mark.parametrize("inputs", ["glob-matching-nothing", "only-an-empty-file"])
def test_batch_with_only_bad_inputs_still_writes_the_tables(tmp_path, tiny_pipeline_dir, inputs):
    if inputs == "only-an-empty-file":
        (tmp_path / "empty.txt").write_bytes(b"")
        paths = [tmp_path / "empty.txt"]
    else:
        paths = [tmp_path / "typo" / "*.pdf"]

    summary = label(paths, tmp_path / "out", tiny_pipeline_dir)

    assert summary.failed == 1
    assert pq.read_table(tmp_path / "out" / ERRORS_FILE).num_rows == 1
    findings = pq.read_table(tmp_path / "out" / FINDINGS_FILE)
    assert findings.num_rows == 0 and findings.schema.names == list(FINDING_COLUMNS)


# -- resuming ---------------------------------------------------------------------------------------


def test_batch_rerun_on_a_finished_outdir_labels_nothing_new(tmp_path, tiny_pipeline_dir, two_copies):
    outdir = tmp_path / "out"
    label(two_copies, outdir, tiny_pipeline_dir)
    before = sorted_table(outdir / FINDINGS_FILE)
    parts = {path.stem: part_identity(outdir, path.stem) for path in two_copies}

    summary = label(two_copies, outdir, tiny_pipeline_dir)

    assert (summary.labelled, summary.skipped, summary.failed) == (0, 2, 0)
    assert summary.findings == before.num_rows
    assert {path.stem: part_identity(outdir, path.stem) for path in two_copies} == parts
    assert_same_findings(sorted_table(outdir / FINDINGS_FILE), before)


def test_batch_touching_or_changing_one_input_redoes_only_that_one(tmp_path, tiny_pipeline_dir, two_copies):
    alpha, beta = two_copies
    outdir = tmp_path / "out"
    label(two_copies, outdir, tiny_pipeline_dir)
    before = sorted_table(outdir / FINDINGS_FILE)
    beta_part = part_identity(outdir, beta.stem)

    stat = alpha.stat()
    os.utime(alpha, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    alpha_part = part_identity(outdir, alpha.stem)
    touched = label(two_copies, outdir, tiny_pipeline_dir)

    assert (touched.labelled, touched.skipped) == (1, 1)
    assert part_identity(outdir, alpha.stem) != alpha_part
    assert part_identity(outdir, beta.stem) == beta_part
    assert_same_findings(sorted_table(outdir / FINDINGS_FILE), before)

    alpha.write_text(
        STOCKPORT.read_text(encoding="utf-8").replace(
            "continues to provide good services", "continues to provide markedly good services"
        ),
        encoding="utf-8",
    )
    changed = label(two_copies, outdir, tiny_pipeline_dir)

    assert (changed.labelled, changed.skipped) == (1, 1)
    assert part_identity(outdir, beta.stem) == beta_part
    findings = read_findings(outdir)
    alpha_text = " ".join(findings.loc[findings["report_id"] == alpha.stem, "text"])
    assert "markedly good services" in alpha_text


def test_batch_leftover_temporary_part_is_not_taken_as_done(tmp_path, tiny_pipeline_dir, two_copies):
    alpha = two_copies[0]
    outdir = tmp_path / "out"
    label(two_copies, outdir, tiny_pipeline_dir)
    before = sorted_table(outdir / FINDINGS_FILE)
    part = part_path(outdir / PARTS_DIR, alpha.stem)
    # What a kill during write_part leaves: half a part under its temporary name, none under its own.
    half = part.read_bytes()[: part.stat().st_size // 2]
    part.unlink()
    (outdir / PARTS_DIR / f".{alpha.stem}.k2m9x4.tmp").write_bytes(half)  # write_part's mkstemp name
    (outdir / f".{FINDINGS_FILE}.tmp").write_bytes(half)

    summary = label(two_copies, outdir, tiny_pipeline_dir)

    assert (summary.labelled, summary.skipped) == (1, 1)
    assert_same_findings(sorted_table(outdir / FINDINGS_FILE), before)
    assert sorted(path.name for path in (outdir / PARTS_DIR).iterdir()) == sorted(
        f"{path.stem}{PART_SUFFIX}" for path in two_copies
    )
    assert not (outdir / f".{FINDINGS_FILE}.tmp").exists()


def test_batch_damaged_part_is_labelled_again(tmp_path, tiny_pipeline_dir, two_copies):
    alpha = two_copies[0]
    outdir = tmp_path / "out"
    label(two_copies, outdir, tiny_pipeline_dir)
    before = sorted_table(outdir / FINDINGS_FILE)
    part = part_path(outdir / PARTS_DIR, alpha.stem)
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])  # cut short, as by a full disk

    summary = label(two_copies, outdir, tiny_pipeline_dir)

    assert (summary.labelled, summary.skipped) == (1, 1)
    assert_same_findings(sorted_table(outdir / FINDINGS_FILE), before)


def as_parquet_part_of_an_earlier_version(outdir: Path, report_id: str) -> Path:
    """Replace a report's part by the Parquet file that inspection-themes before 0.3.2 wrote instead."""
    part = part_path(outdir / PARTS_DIR, report_id)
    with pa.OSFile(str(part)) as source:
        table = pa.ipc.open_file(source).read_all()
    old = part.with_suffix(".parquet")
    pq.write_table(table, old)
    part.unlink()
    return old


def test_batch_folder_labelled_before_parts_were_arrow_files_is_not_labelled_again(tmp_path, tiny_pipeline_dir, two_copies):
    outdir = tmp_path / "out"
    label(two_copies, outdir, tiny_pipeline_dir)
    before = sorted_table(outdir / FINDINGS_FILE)
    old_parts = [as_parquet_part_of_an_earlier_version(outdir, path.stem) for path in two_copies]

    summary = label(two_copies, outdir, tiny_pipeline_dir)

    assert (summary.labelled, summary.skipped, summary.failed) == (0, 2, 0)
    assert_same_findings(sorted_table(outdir / FINDINGS_FILE), before)
    assert sorted(path.name for path in (outdir / PARTS_DIR).iterdir()) == sorted(
        f"{path.stem}{PART_SUFFIX}" for path in two_copies
    )
    assert not any(old.exists() for old in old_parts)


def test_batch_damaged_part_of_an_earlier_version_is_labelled_again_and_removed(tmp_path, tiny_pipeline_dir, two_copies):
    alpha = two_copies[0]
    outdir = tmp_path / "out"
    label(two_copies, outdir, tiny_pipeline_dir)
    before = sorted_table(outdir / FINDINGS_FILE)
    old = as_parquet_part_of_an_earlier_version(outdir, alpha.stem)
    old.write_bytes(old.read_bytes()[: old.stat().st_size // 2])

    summary = label(two_copies, outdir, tiny_pipeline_dir)

    assert (summary.labelled, summary.skipped) == (1, 1)
    assert_same_findings(sorted_table(outdir / FINDINGS_FILE), before)
    assert not old.exists()


@pytest.fixture(scope="module")
def flipped_pipeline_dir(tmp_path_factory):
    """Another tiny pipeline, trained with strength and weakness swapped: a retrained model."""
    from nlp.classify import save_pipeline
    from nlp.models.kinds import NgramFindingModel
    from nlp.pipeline import make_segmenter

    flip = {"strength": "weakness", "weakness": "strength"}
    records = [
        {**r, "polarity": flip[r["polarity"]], "theme_polarity": {theme: flip[p] for theme, p in r["theme_polarity"].items()}}
        for r in tiny_training_set()
    ]
    nlp = make_segmenter()
    nlp.add_pipe("ofsted_theme_classifier_v2", name="themes").set_model(NgramFindingModel(fit_tiny_fast_model(records)), DEFAULT_TAXONOMY)
    return save_pipeline(nlp, tmp_path_factory.mktemp("flipped") / "ofsted_themes-0.0.2")


def test_batch_rerun_with_another_model_relabels(
    tmp_path, tiny_pipeline_dir, flipped_pipeline_dir, two_copies
):
    outdir = tmp_path / "out"
    label(two_copies, outdir, tiny_pipeline_dir)
    label(two_copies, tmp_path / "fresh", flipped_pipeline_dir)
    fresh = sorted_table(tmp_path / "fresh" / FINDINGS_FILE)
    # The two models do label differently, so keeping the old labels shows.
    assert "polarity" in differing_columns(sorted_table(outdir / FINDINGS_FILE), fresh)

    label(two_copies, outdir, flipped_pipeline_dir)

    assert_same_findings(sorted_table(outdir / FINDINGS_FILE), fresh)


def test_batch_run_killed_part_way_resumes_to_the_same_tables(tmp_path, tiny_pipeline_dir):
    # Six reports under their own names; the first is labelled by an earlier, complete run. The run
    # is killed as soon as the part of the second exists, with four reports (~0.2 s each) still to go.
    inputs = [
        copy_as(source, tmp_path / "in" / f"report-{number}{source.suffix}")
        for number, source in enumerate([STOCKPORT, NEWHAM] * 3, start=1)
    ]
    outdir = tmp_path / "out"
    label(inputs[:1], outdir, tiny_pipeline_dir)
    previous = {name: pq.read_table(outdir / name) for name in (FINDINGS_FILE, REPORTS_FILE, ERRORS_FILE)}
    parts = outdir / PARTS_DIR
    first_new_part = part_path(parts, inputs[1].stem)

    process = subprocess.Popen(
        [
            *CLI,
            "label",
            *map(str, inputs),
            "-o",
            str(outdir),
            "--model",
            str(tiny_pipeline_dir),
            "--jobs",
            "1",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while not first_new_part.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        still_running = process.poll() is None
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        _, stderr = process.communicate(timeout=30)
    assert first_new_part.exists(), f"no part was written: {stderr.decode()[-2000:]}"
    assert still_running, "the run finished before it could be interrupted"
    assert process.returncode == -signal.SIGKILL

    done = sorted(path.name for path in parts.glob(f"*{PART_SUFFIX}"))
    assert 2 <= len(done) < len(inputs)
    # The tables are the complete ones of the earlier run: the killed run never got to rewrite them.
    for name, table in previous.items():
        assert pq.read_table(outdir / name).equals(table)

    resumed = label(inputs, outdir, tiny_pipeline_dir)

    assert (resumed.labelled, resumed.skipped, resumed.failed) == (len(inputs) - len(done), len(done), 0)
    uninterrupted = label(inputs, tmp_path / "fresh", tiny_pipeline_dir)
    assert resumed.findings == uninterrupted.findings
    assert_same_findings(
        sorted_table(outdir / FINDINGS_FILE), sorted_table(tmp_path / "fresh" / FINDINGS_FILE)
    )
    keys = ["report_id", "area", "theme"]
    pd.testing.assert_frame_equal(
        sorted_frame(outdir / REPORTS_FILE, keys), sorted_frame(tmp_path / "fresh" / REPORTS_FILE, keys)
    )
    assert set(read_findings(outdir)["report_id"]) == {path.stem for path in inputs}
    assert not list(parts.glob(".*.tmp"))


# -- processes and the command line ----------------------------------------------------------------


def test_batch_two_jobs_give_the_same_tables_as_one(samples_run, tiny_pipeline_dir, tmp_path):
    outdir, _ = samples_run

    summary = label([SAMPLES], tmp_path / "out", tiny_pipeline_dir, jobs=2)

    assert (summary.labelled, summary.failed) == (2, 0)
    assert_same_findings(sorted_table(tmp_path / "out" / FINDINGS_FILE), sorted_table(outdir / FINDINGS_FILE))
    keys = ["report_id", "area", "theme"]
    pd.testing.assert_frame_equal(
        sorted_frame(tmp_path / "out" / REPORTS_FILE, keys), sorted_frame(outdir / REPORTS_FILE, keys)
    )


def test_batch_cli_label_exits_0_and_prints_a_summary(samples_run, tiny_pipeline_dir, tmp_path):
    # One job: a worker pool costs seconds of start-up in a fresh process; --jobs 2 is the same
    # label_reports(jobs=2) call as test_batch_two_jobs_give_the_same_tables_as_one.
    outdir = tmp_path / "out"

    result = run_cli("label", str(SAMPLES), "-o", str(outdir), "--model", str(tiny_pipeline_dir))

    assert result.returncode == 0, result.stderr
    findings = pq.read_table(outdir / FINDINGS_FILE)
    assert (
        f"2 reports labelled, 0 already done, 0 could not be read; {findings.num_rows} findings -> {outdir}"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert_same_findings(sorted_table(outdir / FINDINGS_FILE), sorted_table(samples_run[0] / FINDINGS_FILE))


def _segmenter_only(path: Path) -> Path:
    from nlp.pipeline import make_segmenter

    make_segmenter().to_disk(path)
    return path


@pytest.mark.parametrize(
    "make_model",
    [
        pytest.param(
            lambda tmp_path: tmp_path / "no-such-model",
            id="missing-folder",
        ),
        pytest.param(
            lambda tmp_path: (tmp_path / "empty-folder").mkdir() or tmp_path / "empty-folder",
            id="empty-folder",
        ),
        pytest.param(
            lambda tmp_path: _segmenter_only(tmp_path / "segmenter"), id="pipeline-without-classifier"
        ),
    ],
)
def test_batch_cli_bad_model_path_fails_with_a_clear_message(tmp_path, make_model):
    # In process (CliRunner) to keep the module fast: an uncaught exception is what prints a traceback.
    model = make_model(tmp_path)

    result = CliRunner().invoke(
        app, ["label", str(STOCKPORT), "-o", str(tmp_path / "out"), "--model", str(model)]
    )

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), f"uncaught {result.exception!r}"
    assert result.stderr.startswith("error: ") and str(model) in result.stderr
    assert not (tmp_path / "out" / FINDINGS_FILE).exists()


# -- no report ends a batch ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory) -> tuple[Path, list[Path], dict[str, str]]:
    """`bad_inputs.write_hostile_batch`'s folder: (folder, good reports, bad file -> error_type)."""
    folder = tmp_path_factory.mktemp("hostile") / "in"
    return folder, *write_hostile_batch(folder)


def run_cli_measured(*arguments: str) -> tuple[int, str, float]:
    """Run the command line as a labelling user runs it (without torch, which thinc would otherwise
    import); RETURNS (exit code, stderr, peak resident memory in MB of it and its worker processes)."""
    with tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "peak"
        done = subprocess.run(
            [*cli_without_training_libraries(), *arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PEAK_MEMORY_FILE": str(peak_file)},
        )
        return done.returncode, done.stderr, float(peak_file.read_text())


@pytest.fixture(scope="module")
def hostile_run(hostile_batch, tiny_pipeline_dir, tmp_path_factory):
    """`inspection-themes label` on the hostile batch, one job: (outdir, exit code, stderr, peak MB)."""
    folder, _, _ = hostile_batch
    outdir = tmp_path_factory.mktemp("hostile-out") / "out"
    code, stderr, peak = run_cli_measured("label", str(folder), "-o", str(outdir), "--model", str(tiny_pipeline_dir), "-q")
    return outdir, code, stderr, peak


def test_batch_hostile_batch_labels_every_good_report_and_names_every_bad_file(hostile_batch, hostile_run):
    folder, good, bad = hostile_batch
    outdir, code, stderr, peak_mb = hostile_run

    assert code == 3, stderr
    assert "Traceback" not in stderr
    findings = read_findings(outdir)  # the tables are readable
    assert set(findings["report_id"]) == {path.stem for path in good}
    assert all((findings["report_id"] == path.stem).sum() > 10 for path in good)
    assert set(pd.read_parquet(outdir / REPORTS_FILE)["report_id"]) == {path.stem for path in good}
    errors = pd.read_parquet(outdir / ERRORS_FILE)
    assert sorted(Path(source).name for source in errors["source"]) == sorted(bad)
    for row in errors.itertuples():
        name = Path(row.source).name
        assert row.error_type == bad[name], name
        assert row.reason.startswith("[") and f"{folder / name}: " in row.reason
    # The latin-1 text reads as the UTF-8 original does, but for its quotes and bullets.
    assert (findings["report_id"] == "stockport-latin1").sum() == (findings["report_id"] == STOCKPORT.stem).sum()
    # The 40 MB text is refused before it is read: the run stays at the size of a model and two reports.
    assert peak_mb < 600, f"peak resident memory {peak_mb:.0f} MB"


def test_batch_hostile_batch_with_two_jobs_gives_the_same_tables(hostile_batch, hostile_run, tiny_pipeline_dir, tmp_path):
    folder, _, _ = hostile_batch
    outdir, _, _, _ = hostile_run

    summary = label([folder], tmp_path / "out", tiny_pipeline_dir, jobs=2)

    assert summary.failed == len(hostile_batch[2])
    for name in (FINDINGS_FILE, REPORTS_FILE, ERRORS_FILE):
        assert pq.read_table(tmp_path / "out" / name).equals(pq.read_table(outdir / name)), name


def test_batch_cli_lists_the_failed_files_with_reason_and_advice(hostile_batch, hostile_run):
    _, _, bad = hostile_batch
    outdir, _, stderr, _ = hostile_run
    errors = pd.read_parquet(outdir / ERRORS_FILE)

    listing = stderr[stderr.index(f"{len(bad)} inputs could not be labelled:") :].splitlines()
    assert listing[1:11] == [f"  {reason}" for reason in errors["reason"][:10]]
    assert listing[11] == f"  … and {len(bad) - 10} more in {outdir / ERRORS_FILE}"
    assert len(listing) == 12
    # Each line names the file, what is wrong and what to do: the reasons of errors.parquet.
    assert any("qpdf --password=PASSWORD --decrypt" in line for line in listing)


def test_batch_failure_list_shows_all_failures_when_there_are_few(tmp_path, tiny_pipeline_dir):
    (tmp_path / "empty.txt").write_bytes(b"")
    typo = str(tmp_path / "reprots" / "*.pdf")

    summary = label([STOCKPORT, tmp_path / "empty.txt", typo], tmp_path / "out", tiny_pipeline_dir)

    lines = summary.failure_list().splitlines()
    assert lines[0] == "2 inputs could not be labelled:"
    assert lines[1].startswith(f"  [empty_file] {tmp_path / 'empty.txt'}: ") and "re-extract" in lines[1]
    assert lines[2].startswith(f"  [no_such_input] {typo}: no report file matches; check the path")
    assert len(lines) == 3


def fail_on_report(report_id: str):
    """A stand-in for `nlp.batch.finding_rows` that fails, as a bug would, on one report."""
    original = batch.finding_rows

    def finding_rows(doc, source):
        if Path(source).stem == report_id:
            raise IndexError("list index out of range")
        return original(doc, source)

    return finding_rows


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_unexpected_exception_on_one_report_is_recorded_and_the_batch_goes_on(
    tmp_path, tiny_pipeline_dir, two_copies, monkeypatch, jobs
):
    alpha, beta = two_copies
    monkeypatch.setattr(batch, "finding_rows", fail_on_report(beta.stem))  # worker processes are forked: they see it

    summary = label(two_copies, tmp_path / "out", tiny_pipeline_dir, jobs=jobs)

    assert (summary.labelled, summary.failed) == (1, 1)
    assert set(read_findings(tmp_path / "out")["report_id"]) == {alpha.stem}
    row = pd.read_parquet(tmp_path / "out" / ERRORS_FILE).iloc[0]
    assert (row["report_id"], row["source"], row["error_type"]) == (beta.stem, str(beta.resolve()), "IndexError")
    assert row["reason"].startswith(f"[internal_error] {beta}: labelling it raised IndexError: list index out of range (at nlp/batch.py:")
    assert "please report it" in row["reason"]


# A seeded fuzz of `label_file`, the function every worker runs on each file: random bytes, random
# text in each encoding, foreign and PDF headers over noise, report fragments with random edits, and
# report phrases strung together over noise. About one input in seven reaches the whole pipeline.
FUZZ_INPUTS = 2000
_FUZZ_ALPHABET = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:()-\n\n\n\f\t•◼’“”–\uf06e©"
_FUZZ_HEADERS = (b"%PDF-1.7\n", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"<!DOCTYPE html>", b"\xff\xfe", b"\xef\xbb\xbf")
_FUZZ_PHRASES = (
    "Ofsted", "inspection of children's services", "local authority", "social workers", "care leavers",
    "safeguarding", "child protection", "Inspection dates: 1 to 5 May 2019", "Overall effectiveness",
    "Requires improvement to be good", "Recommendations", "1.", "2.", "\f", "\n\n", "© Crown copyright 2019",
)


def _edited(rng, text: str) -> str:
    """`text` with random insertions, deletions and repeats."""
    pieces = list(text)
    for _ in range(rng.randint(1, 30)):
        at, roll = rng.randrange(len(pieces) + 1), rng.random()
        if roll < 0.4:
            pieces[at:at] = rng.choices(_FUZZ_ALPHABET, k=rng.randint(1, 30))
        elif roll < 0.7:
            del pieces[at : at + rng.randint(1, 300)]
        else:
            start = rng.randrange(len(pieces) + 1)
            pieces[at:at] = pieces[start : start + rng.randint(1, 300)]
    return "".join(pieces)


def fuzz_input(rng, index: int, report: str) -> bytes:
    encoding = rng.choice(["utf-8", "utf-8", "cp1252", "utf-16"])
    kind = index % 14
    if kind < 4:
        return rng.randbytes(rng.randint(0, 3000))
    if kind < 7:
        return "".join(rng.choices(_FUZZ_ALPHABET, k=rng.randint(0, 3000))).encode(encoding, errors="replace")
    if kind < 10:
        return rng.choice(_FUZZ_HEADERS) + rng.randbytes(rng.randint(0, 2000))
    if kind < 12:  # too short to be a report after the edits: refused by the report check
        start = rng.randrange(len(report))
        return _edited(rng, report[start : start + 1200]).encode(encoding, errors="replace")
    if kind == 12:
        start = rng.randrange(len(report))
        return _edited(rng, report[:1500] + report[start : start + rng.randint(100, 1500)]).encode(encoding, errors="replace")
    words = (rng.choice(_FUZZ_PHRASES) + " " + "".join(rng.choices(_FUZZ_ALPHABET, k=rng.randint(0, 50))) for _ in range(60))
    return " ".join(words).encode(encoding, errors="replace")


def test_batch_label_file_fuzz_never_raises_and_fails_only_with_named_errors(tmp_path, tiny_pipeline_dir):
    nlp = load_pipeline(str(tiny_pipeline_dir))
    rng = random.Random(20240611)
    report = STOCKPORT.read_text(encoding="utf-8")
    named = {cls.__name__ for cls in vars(errors_module).values() if isinstance(cls, type) and issubclass(cls, ReportInputError)}
    outcomes = Counter()
    for index in range(FUZZ_INPUTS):
        path = tmp_path / f"input-{index}{rng.choice(['.txt', '.pdf', '.text', ''])}"
        path.write_bytes(fuzz_input(rng, index, report))

        rows, error = label_file(path, nlp)

        if error is None:
            pa.Table.from_pylist(rows, schema=finding_schema(THEME_IDS))  # rows a part can hold
            outcomes["labelled"] += 1
        else:
            details = json.loads(error)
            assert details["error_type"] in named, f"{path.name}: {details['reason']}"
            assert details["reason"].startswith("[") and str(path) in details["reason"]
            outcomes[details["error_type"]] += 1
        path.unlink()
    # Every way through the per-file function was taken.
    assert outcomes["labelled"] >= 100
    assert {"UnsupportedFileTypeError", "CorruptPdfError", "NotAnInspectionReportError", "TextEncodingError"} <= set(outcomes)


# -- exit codes -------------------------------------------------------------------------------------


def invoke_label(*arguments: str, model: Path):
    return CliRunner().invoke(app, ["label", *arguments, "--model", str(model), "-q"])


def test_batch_cli_exit_code_0_when_every_input_is_labelled(tmp_path, tiny_pipeline_dir):
    result = invoke_label(str(STOCKPORT), "-o", str(tmp_path / "out"), model=tiny_pipeline_dir)

    assert result.exit_code == 0, result.output
    assert "could not be labelled" not in result.output


def test_batch_cli_exit_code_3_when_some_inputs_fail(tmp_path, tiny_pipeline_dir):
    (tmp_path / "empty.txt").write_bytes(b"")

    result = invoke_label(str(STOCKPORT), str(tmp_path / "empty.txt"), "-o", str(tmp_path / "out"), model=tiny_pipeline_dir)

    assert result.exit_code == 3, result.output
    assert "1 reports labelled, 0 already done, 1 could not be read" in result.output
    assert f"1 inputs could not be labelled:\n  [empty_file] {tmp_path / 'empty.txt'}: " in result.output
    assert set(read_findings(tmp_path / "out")["report_id"]) == {STOCKPORT.stem}
    # A rerun labels nothing new, and the failure still stands.
    assert invoke_label(str(STOCKPORT), str(tmp_path / "empty.txt"), "-o", str(tmp_path / "out"), model=tiny_pipeline_dir).exit_code == 3


@pytest.mark.parametrize("inputs", ["mistyped-path", "empty-folder", "only-bad-files"])
def test_batch_cli_exit_code_2_when_nothing_is_labelled(tmp_path, tiny_pipeline_dir, inputs):
    folder = tmp_path / "in"
    folder.mkdir()
    if inputs == "only-bad-files":
        (folder / "empty.txt").write_bytes(b"")
        (folder / "recipe.txt").write_text(about(RECIPE), encoding="utf-8")
    argument = str(tmp_path / "nI") if inputs == "mistyped-path" else str(folder)

    result = invoke_label(argument, "-o", str(tmp_path / "out"), model=tiny_pipeline_dir)

    assert result.exit_code == 2, result.output
    assert "0 reports labelled" in result.output and "could not be labelled:" in result.output
    assert pq.read_table(tmp_path / "out" / FINDINGS_FILE).num_rows == 0


def test_batch_cli_exit_code_2_when_misused(tmp_path, tiny_pipeline_dir):
    assert invoke_label(str(STOCKPORT), model=tiny_pipeline_dir).exit_code == 2  # no -o
    assert invoke_label(str(STOCKPORT), "-o", str(tmp_path), "--jobs", "0", model=tiny_pipeline_dir).exit_code == 2
