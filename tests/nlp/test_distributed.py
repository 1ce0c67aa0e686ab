"""Batch labelling on a Dask cluster: the tables of the local path, a worker killed mid-task,
resuming, fsspec URLs, readers, and no Dask import without `--scheduler`.

Every run uses the tiny trained pipeline of conftest (`tiny_pipeline_dir`) on the bundled samples,
a few corpus text files when the corpus is there, and one empty file (a row of errors.parquet).
The expected tables come from the local path (`nlp.batch.label_reports`, two jobs) on the same
folder. Clusters are `LocalCluster`s of worker processes, one thread each, as `--scheduler local`
starts them; the whole module takes about 75 s on two cores.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nlp.batch import ERRORS_FILE, FINDINGS_FILE, PART_SUFFIX, PARTS_DIR, REPORTS_FILE, label_reports, part_path, read_findings
from nlp.cli import app
from nlp.corpus import corpus_dir
from nlp.distributed import expand_sources, label_batch, label_reports_on_dask
from nlp.errors import ClusterSetupError
from tests.nlp.parts import part_identity

distributed = pytest.importorskip("distributed")  # nlp.distributed imports it only when a run starts

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "examples" / "reports"
TABLES = (FINDINGS_FILE, REPORTS_FILE, ERRORS_FILE)
CORPUS_REPORTS = 4
UNREADABLE = 1  # the empty file of `reports`


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """A folder of reports: the samples, a few corpus texts if the corpus is there, an empty file."""
    folder = tmp_path_factory.mktemp("reports")
    for sample in SAMPLES.iterdir():
        shutil.copy(sample, folder)
    texts = sorted((corpus_dir() / "text").glob("*.txt"))
    # Spread over the alphabet, so over authorities and inspection frameworks.
    for text in texts[:: max(1, len(texts) // CORPUS_REPORTS)][:CORPUS_REPORTS]:
        shutil.copy(text, folder)
    (folder / "z-empty.txt").write_bytes(b"")  # named to sort last, after the reports of the first batch
    return folder


@pytest.fixture(scope="module")
def local_run(reports, tiny_pipeline_dir, tmp_path_factory) -> Path:
    """The expected tables: the local path with two jobs."""
    outdir = tmp_path_factory.mktemp("local") / "out"
    label_reports([str(reports)], outdir, jobs=2, model=tiny_pipeline_dir, progress=False)
    return outdir


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def local_cluster_run(reports, tiny_pipeline_dir, tmp_path_factory):
    """`--scheduler local` with two workers: (outdir, summary)."""
    outdir = tmp_path_factory.mktemp("dask") / "out"
    summary = label_reports_on_dask(
        [str(reports)], outdir, scheduler="local", n_workers=2, model=tiny_pipeline_dir, batch_size=2, progress=False
    )
    return outdir, summary


def assert_same_tables(outdir: Path, expected: Path) -> None:
    for name in TABLES:
        assert pq.read_table(outdir / name).equals(pq.read_table(expected / name), check_metadata=True), name


def report_count(reports: Path) -> int:
    return len(list(reports.iterdir()))


# -- the tables of the local path ------------------------------------------------------------------


@pytest.mark.slow
def test_local_cluster_gives_the_tables_of_the_local_jobs_path(local_cluster_run, local_run, reports):
    outdir, summary = local_cluster_run

    assert (summary.labelled, summary.skipped, summary.failed) == (report_count(reports) - UNREADABLE, 0, UNREADABLE)
    assert_same_tables(outdir, local_run)
    assert not list((outdir / PARTS_DIR).glob(".*.tmp"))


def plain_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as Python values: arrays as lists, every kind of missing value as None."""

    def plain(value):
        if isinstance(value, (np.ndarray, list)):
            return [plain(item) for item in value]
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return None if pd.isna(value) else value

    return [{name: plain(value) for name, value in row.items()} for row in frame.to_dict("records")]


@pytest.mark.slow
def test_tables_read_alike_with_pandas_dask_and_datasets(local_cluster_run):
    import dask.dataframe as dd
    import datasets

    outdir, _ = local_cluster_run
    for name in TABLES:
        with_pandas = pd.read_parquet(outdir / name)
        with_dask = dd.read_parquet(outdir / name).compute().reset_index(drop=True)
        assert plain_records(with_dask) == plain_records(with_pandas), name

    for name in (FINDINGS_FILE, REPORTS_FILE):
        table = datasets.Dataset.from_parquet(str(outdir / name))
        assert table.num_rows == len(pd.read_parquet(outdir / name)), name
    findings = datasets.Dataset.from_parquet(str(outdir / FINDINGS_FILE))
    expected = read_findings(outdir)
    assert findings["text"] == expected["text"].tolist()
    assert [{k: v for k, v in row.items() if v is not None} for row in findings["theme_polarity"]] == expected[
        "theme_polarity"
    ].tolist()


# -- a worker dies -------------------------------------------------------------------------------


def stall_first_worker_on(report_name: str, marker_dir: str) -> None:
    """Make the first worker that reaches `report_name` hang there (run in each worker by `client.run`).

    The worker claims the stall by renaming `marker_dir/armed` to `stalled-<its pid>`, so only one
    worker ever stalls, and the rerun of its task elsewhere labels the report normally.
    """
    import nlp.distributed

    label_file = nlp.distributed.label_file

    def stalling_label_file(path, nlp):
        if Path(path).name == report_name:
            try:
                os.rename(Path(marker_dir) / "armed", Path(marker_dir) / f"stalled-{os.getpid()}")
            except FileNotFoundError:
                pass  # another worker stalled on it already
            else:
                time.sleep(120)
        return label_file(path, nlp)

    nlp.distributed.label_file = stalling_label_file


@pytest.mark.slow
def test_worker_killed_mid_task_loses_nothing(reports, local_run, tiny_pipeline_dir, tmp_path):
    files, _ = expand_sources([str(reports)])
    finished, stalled = files[0], files[1]  # one batch of two: the first is labelled, the second hangs
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "armed").touch()
    outdir = tmp_path / "out"
    killed = {}

    def kill_the_stalled_worker() -> None:
        deadline = time.monotonic() + 50
        while time.monotonic() < deadline:
            claims = list(markers.glob("stalled-*"))
            if claims:
                killed["finished_part"] = part_identity(outdir, finished.stem)
                killed["pid"] = int(claims[0].name.split("-")[1])
                os.kill(killed["pid"], signal.SIGKILL)
                return
            time.sleep(0.05)

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:
        client.run(stall_first_worker_on, stalled.name, str(markers))
        killer = threading.Thread(target=kill_the_stalled_worker)
        killer.start()
        summary = label_reports_on_dask([str(reports)], outdir, scheduler=client, model=tiny_pipeline_dir, batch_size=2)
        killer.join()
        survivors = set(client.run(os.getpid).values())

    assert "pid" in killed, "no worker stalled, so none was killed"
    assert killed["pid"] not in survivors
    assert (summary.labelled, summary.failed) == (report_count(reports) - UNREADABLE, UNREADABLE)
    assert_same_tables(outdir, local_run)
    # The rerun of the killed task kept the part its first attempt had finished.
    assert part_identity(outdir, finished.stem) == killed["finished_part"]


# -- resuming ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_resume_skips_the_finished_parts_of_a_local_run(reports, local_run, client, tiny_pipeline_dir, tmp_path):
    outdir = tmp_path / "out"
    shutil.copytree(local_run / PARTS_DIR, outdir / PARTS_DIR)
    redo = "stockport-2022-ilacs"
    part_path(outdir / PARTS_DIR, redo).unlink()
    kept = {path.stem: part_identity(outdir, path.stem) for path in (outdir / PARTS_DIR).glob(f"*{PART_SUFFIX}")}

    summary = label_reports_on_dask([str(reports)], outdir, scheduler=client, model=tiny_pipeline_dir, progress=False)

    assert (summary.labelled, summary.skipped) == (1, report_count(reports) - 1)
    assert {report_id: part_identity(outdir, report_id) for report_id in kept} == kept
    assert_same_tables(outdir, local_run)


def test_rerun_on_a_finished_outdir_needs_no_cluster(reports, local_run, tiny_pipeline_dir, tmp_path):
    outdir = tmp_path / "out"
    shutil.copytree(local_run / PARTS_DIR, outdir / PARTS_DIR)

    # Nothing listens on port 9: the run must not try to connect.
    summary = label_reports_on_dask([str(reports)], outdir, scheduler="tcp://127.0.0.1:9", model=tiny_pipeline_dir)

    assert (summary.labelled, summary.skipped) == (0, report_count(reports))
    assert_same_tables(outdir, local_run)


# -- fsspec URLs ----------------------------------------------------------------------------------


def assert_same_tables_with_urls(outdir: Path, expected: Path, url_of) -> None:
    """The tables of `expected`, each local path in them replaced by `url_of(path)`."""
    findings = read_findings(expected)
    findings["source"] = findings["source"].map(url_of)
    pd.testing.assert_frame_equal(read_findings(outdir), findings)
    errors = pd.read_parquet(expected / ERRORS_FILE)
    errors["reason"] = [reason.replace(source, url_of(source)) for reason, source in zip(errors["reason"], errors["source"])]
    errors["source"] = errors["source"].map(url_of)
    pd.testing.assert_frame_equal(pd.read_parquet(outdir / ERRORS_FILE), errors)
    assert pq.read_table(outdir / REPORTS_FILE).equals(pq.read_table(expected / REPORTS_FILE))


@pytest.mark.slow
def test_file_urls_give_the_tables_of_the_local_paths(reports, local_run, client, tiny_pipeline_dir, tmp_path):
    summary = label_reports_on_dask(
        [f"file://{reports}"], tmp_path / "out", scheduler=client, model=tiny_pipeline_dir, progress=False
    )

    assert (summary.labelled, summary.failed) == (report_count(reports) - UNREADABLE, UNREADABLE)
    assert_same_tables_with_urls(tmp_path / "out", local_run, lambda path: f"file://{path}")


def test_memory_urls_are_read_on_the_worker(reports, local_run, tiny_pipeline_dir, tmp_path):
    import fsspec

    memory = fsspec.filesystem("memory")
    root = f"/{tmp_path.name}/reports"  # the memory filesystem is this process's, shared by the tests
    for path in reports.iterdir():
        memory.pipe_file(f"{root}/{path.name}", path.read_bytes())
    try:
        assert expand_sources([f"memory://{root}/*.pdf", f"memory://{root}/missing/*.txt"]) == (
            [f"memory://{root}/newham-2019-ilacs.pdf"],
            [f"memory://{root}/missing/*.txt"],
        )
        # Worker threads in this process: only they see this process's memory filesystem.
        with distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster, distributed.Client(cluster) as client:
            summary = label_reports_on_dask(
                [f"memory://{root}"], tmp_path / "out", scheduler=client, model=tiny_pipeline_dir, progress=False
            )
    finally:
        memory.rm(f"/{tmp_path.name}", recursive=True)

    assert (summary.labelled, summary.failed) == (report_count(reports) - UNREADABLE, UNREADABLE)
    assert_same_tables_with_urls(tmp_path / "out", local_run, lambda path: f"memory://{root}/{Path(path).name}")


# -- the command line, setup errors, imports -------------------------------------------------------


@pytest.mark.slow
def test_cli_label_with_a_scheduler_address(reports, local_run, client, tiny_pipeline_dir, tmp_path):
    arguments = ["label", str(reports), "-o", str(tmp_path / "out"), "--model", str(tiny_pipeline_dir), "-q"]

    result = CliRunner().invoke(app, [*arguments, "--scheduler", client.scheduler.address])

    assert result.exit_code == 3, result.output  # labelled, but for the empty file
    assert f"{report_count(reports) - UNREADABLE} reports labelled" in result.output
    assert f"  [empty_file] {reports / 'z-empty.txt'}: " in result.output
    assert_same_tables(tmp_path / "out", local_run)


def test_unreachable_scheduler_is_a_setup_error(reports, tiny_pipeline_dir, tmp_path):
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), pytest.raises(ClusterSetupError, match="dask scheduler"):
        label_reports_on_dask([str(reports)], tmp_path / "out", scheduler="tcp://127.0.0.1:9", model=tiny_pipeline_dir)


def test_worker_that_cannot_see_an_input_fails_the_task_instead_of_recording_it(tiny_pipeline_dir, tmp_path):
    # What a worker sees when the client's file is not on a filesystem the workers share.
    job = ("gone", str(tmp_path / "gone.txt"), '{"path": "gone.txt"}')

    with pytest.raises(ClusterSetupError, match="cannot"):
        label_batch([job], str(tmp_path / PARTS_DIR), str(tiny_pipeline_dir))
    assert not part_path(tmp_path / PARTS_DIR, "gone").exists()


def test_label_without_scheduler_never_imports_dask(tiny_pipeline_dir, tmp_path):
    script = """
import sys
from typer.testing import CliRunner
import nlp.batch, nlp.cli

def loaded(*packages):
    return sorted(name for name in sys.modules if name.split(".")[0] in packages)

assert not loaded("dask", "distributed"), loaded("dask", "distributed")
result = CliRunner().invoke(nlp.cli.app, ["label", sys.argv[1], "-o", sys.argv[2], "--model", sys.argv[3], "-q"])
assert result.exit_code == 0, result.output
# Not `dask`: loading a model imports it when it is installed, though nothing here uses it (skops
# lists scikit-learn's estimators by importing every sklearn module, and one wraps dask.array).
assert not loaded("distributed"), loaded("distributed")
"""
    arguments = [str(SAMPLES / "stockport-2022-ilacs.txt"), str(tmp_path / "out"), str(tiny_pipeline_dir)]

    result = subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True, text=True, timeout=120, cwd=REPO, check=False)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / FINDINGS_FILE).exists()


# -- no report ends a run --------------------------------------------------------------------------


@pytest.mark.slow
def test_hostile_batch_on_a_local_cluster_gives_the_tables_of_the_local_path(tiny_pipeline_dir, tmp_path):
    from tests.nlp.bad_inputs import write_hostile_batch

    _, bad = write_hostile_batch(tmp_path / "in")
    label_reports([str(tmp_path / "in")], tmp_path / "local", model=tiny_pipeline_dir, progress=False)
    arguments = ["label", str(tmp_path / "in"), "-o", str(tmp_path / "dask"), "--model", str(tiny_pipeline_dir), "-q"]

    result = CliRunner().invoke(app, [*arguments, "--scheduler", "local", "--jobs", "2"])

    assert result.exit_code == 3, result.output
    assert f"{len(bad)} inputs could not be labelled:" in result.output
    assert_same_tables(tmp_path / "dask", tmp_path / "local")


def test_unexpected_exception_on_a_worker_is_recorded_and_the_run_goes_on(tiny_pipeline_dir, tmp_path, monkeypatch):
    import nlp.batch

    original = nlp.batch.finding_rows

    def failing_on_stockport(doc, source):
        if Path(source).stem == "stockport-2022-ilacs":
            raise KeyError("area")
        return original(doc, source)

    monkeypatch.setattr(nlp.batch, "finding_rows", failing_on_stockport)
    # Worker threads in this process: they see the stand-in.
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:
        summary = label_reports_on_dask([str(SAMPLES)], tmp_path / "out", scheduler=client, model=tiny_pipeline_dir, progress=False)

    assert (summary.labelled, summary.failed) == (1, 1)
    errors = pd.read_parquet(tmp_path / "out" / ERRORS_FILE)
    assert errors[["report_id", "error_type"]].values.tolist() == [["stockport-2022-ilacs", "KeyError"]]
    assert errors["reason"][0].startswith(
        f"[internal_error] {SAMPLES / 'stockport-2022-ilacs.txt'}: labelling it raised KeyError: 'area'"
    )
    assert set(read_findings(tmp_path / "out")["report_id"]) == {"newham-2019-ilacs"}
