"""Benchmark: `label` on the corpus in one process, with the local process pool and on a local Dask cluster.

    python -m training.benchmarks.bench_label [--model PATH] [--workers 2] [--limit N]

Labels the text reports of the corpus four ways, each into a fresh output folder:

- baseline: one process, model already loaded, `nlp.batch.label_file` + `write_part` per report:
  the labelling work itself;
- `label --jobs 1`: `nlp.batch.label_reports` in the calling process, end to end;
- `label --jobs N`: `nlp.batch.label_reports` with a process pool of N;
- `label --scheduler local`: `nlp.distributed.label_reports_on_dask` on a `LocalCluster` of N
  worker processes, started by the run as the command line does.

The two parallel runs each run in a fresh Python process, timed from the call of the labelling
function (interpreter start and the client's imports are left out of both). Per run: wall time
(pool or cluster start, model loading in every worker, labelling, building the three tables),
reports/s, speed-up over the baseline's labelling time, CPU seconds of the client and its workers,
peak resident memory of the client and of each worker process (Linux's VmHWM, read every 0.1 s
while it lives), and
two overheads per report against the baseline:

- wall: worker-seconds not spent on the baseline's labelling work, `(wall * N - baseline) / reports`:
  process start, imports and model loading in every worker, scheduling and result traffic, workers
  idle at the end, the final tables, and any CPU taken by other programs;
- CPU: `(client + workers CPU seconds - baseline CPU seconds) / reports`: the same costs without
  idle time and other programs, so it holds on a busy machine.

The 1-minute load average before and after each run says how busy the machine was. Results go to
training/benchmarks/results/label.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

import psutil
import pyarrow.parquet as pq
import typer

from nlp.batch import ERRORS_FILE, FINDINGS_FILE, PARTS_DIR, REPORTS_FILE, fingerprint, label_file, schema_of, write_part
from nlp.classify import REPO_MODELS, default_model_path, load_pipeline, model_fingerprint
from nlp.corpus import corpus_dir
from nlp.distributed import BATCH_SIZE
from training.benchmarks.common import print_table, save

COLUMNS = (
    "name",
    "workers",
    "seconds",
    "reports_per_second",
    "speedup",
    "cpu_seconds",
    "peak_rss_mb_client",
    "peak_rss_mb_per_worker",
    "overhead_ms_per_report",
    "cpu_overhead_ms_per_report",
    "load_before",
    "load_after",
)
SAMPLE_SECONDS = 0.1

# Each parallel run gets a fresh interpreter that imports what `inspection-themes label` imports, so
# it inherits neither modules nor the model of the baseline (a forked pool worker would find the
# model already in `load_pipeline`'s cache). It prints its wall and CPU seconds as JSON; the workers'
# CPU is that of its reaped child processes, which the pool and the LocalCluster both are by then.
RUN = """
import json, resource, sys, time
mode, arguments = sys.argv[1], json.loads(sys.argv[2])
if mode == "jobs":
    from nlp.batch import label_reports as label
else:
    from nlp.distributed import label_reports_on_dask as label

def cpu(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime

started, client, workers = time.perf_counter(), cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
label(**arguments)
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "client_cpu": cpu(resource.RUSAGE_SELF) - client,
    "workers_cpu": cpu(resource.RUSAGE_CHILDREN) - workers,
}))
"""


class WorkerMemory(threading.Thread):
    """Peak resident memory of process `pid` and of every process it started, polled until `stop()`."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.client = psutil.Process(pid)
        self.peaks: dict[int, float] = {}
        self.client_peak = 0.0
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(SAMPLE_SECONDS):
            try:
                workers = self.client.children(recursive=True)
                self.client_peak = max(self.client_peak, _peak_rss_mb(self.client))
            except psutil.Error:
                return  # the run is over
            for worker in workers:
                try:
                    if not _is_helper(worker):
                        self.peaks[worker.pid] = max(self.peaks.get(worker.pid, 0.0), _peak_rss_mb(worker))
                except psutil.Error:
                    pass  # it exited between listing and reading

    def stop(self) -> list[float]:
        """Stop polling. RETURNS (list[float]): peak RSS in MB per worker process."""
        self._stopped.set()
        self.join()
        return sorted(round(peak, 1) for peak in self.peaks.values())


def _is_helper(process: psutil.Process) -> bool:
    # multiprocessing's resource tracker is a child too, but it does none of the work.
    return any("resource_tracker" in part for part in process.cmdline())


def _peak_rss_mb(process: psutil.Process) -> float:
    """A process's peak resident memory so far (Linux's high-water mark), else its current one."""
    try:
        with open(f"/proc/{process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return process.memory_info().rss / 2**20


def baseline(texts: list[Path], model: str, scratch: Path) -> tuple[dict, dict]:
    """Label every report in this process, one at a time, as a worker does.

    RETURNS (tuple[dict, dict]): the table row, and the details (model load, seconds per report).
    """
    started = time.perf_counter()
    nlp = load_pipeline(model)
    load_seconds = time.perf_counter() - started
    model_id = model_fingerprint(model)
    load_before = os.getloadavg()[0]
    seconds = []
    cpu_started = time.process_time()
    for path in texts:
        started = time.perf_counter()
        rows, error = label_file(path, nlp)
        write_part(scratch / PARTS_DIR, path.stem, rows, error, fingerprint(path, model_id), schema_of(nlp))
        seconds.append(time.perf_counter() - started)
    cpu_seconds = time.process_time() - cpu_started
    row = {
        "name": "baseline: 1 process, model loaded",
        "workers": 1,
        "reports": len(texts),
        "seconds": round(sum(seconds), 2),
        "reports_per_second": round(len(texts) / sum(seconds), 2),
        "speedup": 1.0,
        "cpu_seconds": round(cpu_seconds, 2),
        "client_cpu_seconds": 0.0,
        "workers_cpu_seconds": round(cpu_seconds, 2),
        "peak_rss_mb_client": round(_peak_rss_mb(psutil.Process()), 1),
        "peak_rss_mb_per_worker": [round(_peak_rss_mb(psutil.Process()), 1)],
        "overhead_ms_per_report": 0.0,
        "cpu_overhead_ms_per_report": 0.0,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    details = {
        "model_load_seconds_after_imports": round(load_seconds, 2),
        "ms_per_report_mean": round(1000 * statistics.mean(seconds), 1),
        "ms_per_report_median": round(1000 * statistics.median(seconds), 1),
        "ms_per_report_max": round(1000 * max(seconds), 1),
    }
    return row, details


def parallel_run(name: str, workers: int, mode: str, arguments: dict, base: dict) -> dict:
    """Run `label` in a fresh process (mode "jobs" or "dask") and measure it against the baseline row."""
    load_before = os.getloadavg()[0]
    process = subprocess.Popen([sys.executable, "-c", RUN, mode, json.dumps(arguments)], stdout=subprocess.PIPE, text=True)
    memory = WorkerMemory(process.pid)
    memory.start()
    output, _ = process.communicate()
    peaks = memory.stop()
    client_peak = round(memory.client_peak, 1)
    if process.returncode:
        raise RuntimeError(f"{name} failed (exit code {process.returncode})")
    measured = json.loads(output.splitlines()[-1])
    seconds, cpu_seconds = measured["seconds"], measured["client_cpu"] + measured["workers_cpu"]
    reports = len(arguments["paths"])
    return {
        "name": name,
        "workers": workers,
        "reports": reports,
        "seconds": round(seconds, 2),
        "reports_per_second": round(reports / seconds, 2),
        "speedup": round(base["seconds"] / seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "client_cpu_seconds": round(measured["client_cpu"], 2),
        "workers_cpu_seconds": round(measured["workers_cpu"], 2),
        "peak_rss_mb_client": client_peak,
        "peak_rss_mb_per_worker": peaks or [client_peak],
        "overhead_ms_per_report": round(1000 * (seconds * workers - base["seconds"]) / reports, 1),
        "cpu_overhead_ms_per_report": round(1000 * (cpu_seconds - base["cpu_seconds"]) / reports, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def same_tables(left: Path, right: Path) -> bool:
    tables = (FINDINGS_FILE, REPORTS_FILE, ERRORS_FILE)
    return all(pq.read_table(left / name).equals(pq.read_table(right / name)) for name in tables)


def model_description(model: Path) -> dict:
    meta = json.loads((model / "meta.json").read_text(encoding="utf-8")) if (model / "meta.json").exists() else {}
    return {
        "path": str(model),
        "committed": model.resolve().parent == REPO_MODELS,
        "name": meta.get("name"),
        "version": meta.get("version"),
    }


def main(
    model: Optional[Path] = typer.Option(None, help="Model folder (default: the committed one under models/)."),
    workers: int = typer.Option(2, min=1, help="Pool processes and Dask workers."),
    batch_size: int = typer.Option(BATCH_SIZE, min=1, help="Reports per Dask task."),
    limit: int = typer.Option(0, help="Only the first N text reports (0: all)."),
    note: str = typer.Option("", help="Free text stored with the results, e.g. which model this is."),
) -> None:
    model = (model or default_model_path()).resolve()
    texts = sorted((corpus_dir() / "text").glob("*.txt"))
    texts = texts[:limit] if limit else texts
    inputs = [str(path) for path in texts]
    with tempfile.TemporaryDirectory(prefix="bench-label-") as scratch:
        scratch = Path(scratch)
        base, details = baseline(texts, str(model), scratch / "baseline")
        common = {"paths": inputs, "model": str(model), "progress": False}
        serial = {**common, "outdir": str(scratch / "serial"), "jobs": 1}
        jobs = {**common, "outdir": str(scratch / "jobs"), "jobs": workers}
        dask = {**common, "outdir": str(scratch / "dask"), "scheduler": "local", "n_workers": workers, "batch_size": batch_size}
        rows = [
            base,
            parallel_run("label --jobs 1", 1, "jobs", serial, base),
            parallel_run(f"label --jobs {workers}", workers, "jobs", jobs, base),
            parallel_run(f"label --scheduler local ({workers} workers, batches of {batch_size})", workers, "dask", dask, base),
        ]
        identical = same_tables(scratch / "serial", scratch / "jobs") and same_tables(scratch / "jobs", scratch / "dask")

    print_table(rows, COLUMNS)
    print(f"baseline: {details}")
    print(f"tables of the three runs identical: {identical}")
    path = save(
        "label",
        {
            "machine": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "model": model_description(model),
            "note": note,
            "reports": len(texts),
            "baseline": details,
            "identical_tables": identical,
            "rows": rows,
        },
    )
    print(f"-> {path}")


if __name__ == "__main__":
    typer.run(main)
