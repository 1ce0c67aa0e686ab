"""Batch labelling on a Dask cluster: `inspection-themes label PATHS... -o OUTDIR --scheduler ADDRESS|local`.

`label_reports_on_dask` takes the inputs of `nlp.batch.label_reports` and writes the same three
tables to OUTDIR; only where the labelling runs differs.

- The client (the process that calls it) expands the inputs, fingerprints them and skips every
  report whose part is current, with `nlp.batch`'s own functions.
- The other reports go to the cluster in batches of `batch_size`, one task per batch. A task
  labels its reports one at a time (`nlp.batch.label_file`) and writes each report's part with
  `nlp.batch.write_part` (a temporary name, renamed when complete) into `OUTDIR/.parts/`: the
  layout of the local path, so either path resumes the other's run.
- Each worker process loads the model once, on its first task: `nlp.classify.load_pipeline` is
  cached per process, keyed by the model path.
- A part depends only on its input, so running a task twice gives the same parts. The scheduler
  reruns a task whose worker died on another worker (up to `distributed.scheduler.allowed-failures`
  deaths, 3 by default), and reruns a task that raised up to `retries` times; the rerun skips the
  reports whose parts the first attempt finished.
- The client rebuilds `findings.parquet`, `reports.parquet` and `errors.parquet` from the parts
  with `nlp.batch`'s functions, so the tables equal those of the local path for the same inputs.

Inputs are local paths or fsspec URLs (`file://`, `s3://` with s3fs, ...). The client lists and
fingerprints them, the workers read them, so both must see the same files: on a cluster of several
machines, give absolute paths on a filesystem every machine mounts at the same place, or URLs.
OUTDIR must be such a shared folder too (parts are renamed into place, which object stores do not
offer). Dask itself is imported only when this function runs (`pip install "inspection-themes[dask]"`).
"""

from __future__ import annotations

import json
import math
import os
import socket
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Iterator, Sequence

import fsspec
from fsspec.core import split_protocol, url_to_fs
from spacy.language import Language
from tqdm import tqdm

from .batch import (
    PARTS_DIR,
    LabelSummary,
    expand_inputs,
    finish_run,
    fingerprint,
    label_file,
    model_findings_schema,
    part_is_current,
    schema_of,
    unique_report_ids,
    write_part,
)
from .errors import ClusterSetupError
from .ingest import REPORT_SUFFIXES

if TYPE_CHECKING:
    from distributed import Client

BATCH_SIZE = 8
RETRIES = 2
# As `nlp.batch.expand_inputs`: a file without a suffix is labelled when named, not found in a folder.
_FOLDER_SUFFIXES = REPORT_SUFFIXES - {""}

# One report's work as sent to a worker: (report_id, path or URL, fingerprint).
Job = tuple[str, str, str]


# --- inputs ----------------------------------------------------------------------------------------


def is_url(argument: str | os.PathLike) -> bool:
    """Whether an input is an fsspec URL (`memory://...`, `s3://...`) rather than a local path."""
    return split_protocol(str(argument))[0] is not None


def expand_sources(paths: Sequence[str | os.PathLike]) -> tuple[list[Path | str], list[str]]:
    """`nlp.batch.expand_inputs` for local paths and fsspec URLs alike.

    A URL names a file, a folder (searched recursively for .pdf/.txt) or a glob pattern.
    RETURNS (tuple[list[Path | str], list[str]]): the files (local ones as Path, URLs as str), in
        a stable order without repeats, and the arguments that matched nothing.
    """
    files: dict[Path | str, None] = {}
    unmatched = []
    for argument in map(str, paths):
        if is_url(argument):
            found = _expand_url(argument)
            if not found:
                unmatched.append(argument)
        else:
            found, missing = expand_inputs([argument])
            unmatched += missing
        files.update(dict.fromkeys(found))
    return list(files), unmatched


def _expand_url(url: str) -> list[str]:
    fs, path = _filesystem(url)
    if fs.isdir(path):
        found = sorted(p for p in fs.find(path) if PurePosixPath(p).suffix.lower() in _FOLDER_SUFFIXES)
    elif fs.isfile(path):
        return [url]
    else:
        found = sorted(p for p in fs.glob(path) if fs.isfile(p))
    return [fs.unstrip_protocol(p) for p in found]


def _filesystem(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    try:
        return url_to_fs(url)
    except (ImportError, ValueError) as error:  # an unknown protocol, or its package (e.g. s3fs) missing
        raise ClusterSetupError(f"{url}: {error} (the client and every worker need it).") from error


def source_fingerprint(source: Path | str, model_id: str) -> str:
    """What a part is made from, for resuming: `nlp.batch.fingerprint` for a local file; for a URL,
    its size, fsspec's `ukey` (a hash of its details: modification time, ETag, ...) and the model."""
    if isinstance(source, Path):
        return fingerprint(source, model_id)
    fs, path = _filesystem(source)
    # `path` is the key `nlp.batch.write_tables_from_parts` reads an unreadable report's source from.
    return json.dumps({"path": source, "size": fs.size(path), "ukey": fs.ukey(path), "model": model_id})


# --- on a worker -----------------------------------------------------------------------------------


def label_batch(batch: Sequence[Job], parts: str, model: str) -> int:
    """Label a batch of reports into their parts (a task, run on a worker).

    batch (Sequence[Job]): (report_id, path or URL, fingerprint) per report.
    parts (str): the parts folder, `OUTDIR/.parts`.
    model (str): the model folder, loaded once per worker process.
    RETURNS (int): how many reports of the batch have their part now (all of them).
    """
    from .classify import load_pipeline  # here: the client never loads a model (scikit-learn, skops: seconds)

    nlp = load_pipeline(model, threads=1, with_evidence=False)  # workers run one thread each
    folder = Path(parts)
    for report_id, source, file_fingerprint in batch:
        # A task rerun after its worker died skips what the first attempt finished.
        if part_is_current(folder, report_id, file_fingerprint):
            continue
        rows, error = label_url(source, nlp) if is_url(source) else _label_path(Path(source), nlp)
        write_part(folder, report_id, rows, error, file_fingerprint, schema_of(nlp))
    return len(batch)


def _label_path(path: Path, nlp: Language) -> tuple[list[dict], str | None]:
    # The client found the file, so a worker that cannot is set up wrong; `label_file` would record
    # that as a bad input, and a rerun would skip the report as done.
    if not path.exists():
        raise ClusterSetupError(
            f"{path}: the client found this file but worker {socket.gethostname()} (pid {os.getpid()}) cannot; "
            "give absolute paths on a filesystem every worker mounts at the same place, or fsspec URLs."
        )
    return label_file(path, nlp)


def label_url(url: str, nlp: Language) -> tuple[list[dict], str | None]:
    """`nlp.batch.label_file` for a report given as an fsspec URL, read on this machine.

    The bytes are copied to a private local file under the report's own name, so the report is read
    exactly as a local file would be (`nlp.ingest.read_report` takes a path); the rows and the
    reason of an unreadable report then name the URL, not the copy.
    RETURNS (tuple[list[dict], str | None]): as `nlp.batch.label_file`.
    """
    fs, path = _filesystem(url)
    try:
        data = fs.cat_file(path)
    except OSError as error:
        raise ClusterSetupError(
            f"{url}: worker {socket.gethostname()} cannot read it ({error!r}); every worker needs the "
            "filesystem's fsspec package (e.g. s3fs) and its credentials."
        ) from error
    with tempfile.TemporaryDirectory(prefix="inspection-themes-") as scratch:
        copy = Path(scratch) / PurePosixPath(path).name
        copy.write_bytes(data)
        rows, error = label_file(copy, nlp)
    for row in rows:
        row["source"] = url
    if error is not None:
        details = json.loads(error)
        details["reason"] = details["reason"].replace(str(copy), url)
        error = json.dumps(details)
    return rows, error


# --- the run ---------------------------------------------------------------------------------------


def label_reports_on_dask(
    paths: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    scheduler: str | Client = "local",
    n_workers: int | None = None,
    model: str | os.PathLike | None = None,
    batch_size: int = BATCH_SIZE,
    retries: int = RETRIES,
    progress: bool | None = None,
) -> LabelSummary:
    """Label every report under `paths` into `outdir` on a Dask cluster (see the module docstring).

    paths (Sequence): files, folders and glob patterns of .pdf / .txt reports, as local paths or
        fsspec URLs that the client and every worker can read.
    outdir (PathLike): output folder shared by the client and the workers; reruns on the same
        folder, by either this function or `nlp.batch.label_reports`, skip finished reports.
    scheduler (str | Client): a scheduler address (`tcp://host:8786`), "local" for a
        `LocalCluster` on this machine for the run, or a connected `distributed.Client`.
    n_workers (int | None): worker processes of a "local" cluster; default: the CPU count.
    model (PathLike | None): model folder every worker can read; default: the committed one.
    batch_size (int): reports per task.
    retries (int): reruns of a task that raises (a transient read error, say) before the run fails.
    progress (bool | None): show a progress bar (default: when stderr is a terminal).
    RETURNS (LabelSummary): counts of what this run did.
    RAISES (ClusterSetupError): Dask is not installed, the scheduler cannot be reached, or a worker
        cannot read an input.
    """
    from .classify import model_fingerprint

    outdir = Path(outdir)
    parts = outdir / PARTS_DIR
    model_id = model_fingerprint(model)  # also refuses a folder that is no model, before any work
    schema = model_findings_schema(model)
    files, unmatched = expand_sources(paths)
    inputs = unique_report_ids(files)
    todo = []
    for report_id, source in inputs.items():
        file_fingerprint = source_fingerprint(source, model_id)
        if not part_is_current(parts, report_id, file_fingerprint):
            todo.append((report_id, str(source), file_fingerprint))
    if todo:
        show = sys.stderr.isatty() if progress is None else progress
        with _client(scheduler, n_workers) as client, tqdm(
            total=len(todo), disable=not show, unit="report", desc="labelling"
        ) as bar:
            batches = _batches(todo, batch_size, sum(client.nthreads().values()))
            # pure=False: a rerun in the same session must label again, not return cached futures.
            futures = client.map(
                label_batch, batches, parts=str(parts), model=_model_location(model), retries=retries, pure=False
            )
            for future in _distributed().as_completed(futures):
                bar.update(future.result())
    return finish_run(outdir, inputs, files, unmatched, {report_id for report_id, _, _ in todo}, schema)


def _batches(todo: list[Job], batch_size: int, threads: int) -> list[list[Job]]:
    """`todo` in batches of `batch_size`, or smaller ones when there are too few reports to give
    every worker thread a task (`threads` is 0 while no worker has joined: then `batch_size`)."""
    size = max(1, min(batch_size, math.ceil(len(todo) / threads))) if threads else batch_size
    return [todo[start : start + size] for start in range(0, len(todo), size)]


def _model_location(model: str | os.PathLike | None) -> str:
    """The model as workers can find it: an absolute folder (their working directory may differ
    from the client's), or the name of an installed model package as given."""
    from .classify import default_model_path

    location = Path(model) if model is not None else default_model_path()
    return str(location.resolve()) if location.exists() else str(location)


def _distributed():
    try:
        import distributed
    except ModuleNotFoundError as error:
        raise ClusterSetupError(
            f"--scheduler needs Dask ({error}); install it with: pip install \"inspection-themes[dask]\"."
        ) from error
    return distributed


@contextmanager
def _client(scheduler: str | Client, n_workers: int | None) -> Iterator[Client]:
    """A client of the cluster `scheduler` names; a cluster or client made here is closed after."""
    distributed = _distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
    elif scheduler == "local":
        import dask

        # One thread per worker: pdfium is not thread-safe (nlp.pdf serialises it under a lock) and
        # the labelling holds the GIL, so more threads would only queue; processes run in parallel.
        # No worker profiler: its stack sample every 10 ms (for the dashboard) added about 13% to
        # the CPU time of labelling corpus reports in a worker.
        with dask.config.set({"distributed.worker.profile.enabled": False}), distributed.LocalCluster(
            n_workers=n_workers or os.cpu_count(), threads_per_worker=1, processes=True
        ) as cluster, distributed.Client(cluster) as client:
            yield client
    else:
        try:
            client = distributed.Client(scheduler)
        except OSError as error:
            raise ClusterSetupError(
                f"cannot reach the Dask scheduler at {scheduler} ({error}); start one (`dask scheduler`, "
                "then `dask worker ADDRESS --nthreads 1` on each machine) or use --scheduler local."
            ) from error
        with client:
            yield client
