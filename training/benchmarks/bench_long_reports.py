"""Benchmark: what a long report costs to label, and what a batch of bad files costs on top of its good ones.

    python -m training.benchmarks.bench_long_reports [--model PATH]

The figures behind the size limits of `nlp.limits`. Every measurement runs in a fresh Python process
(its peak resident memory is the kernel's `ru_maxrss` of that process and the workers it waited
for), with the committed model unless `--model` names another:

- long reports: `nlp.batch.label_file` on the longest report of the corpus (the baseline) and on
  that report's body repeated to 0.5, 1 and 2 million characters (`MAX_REPORT_CHARS`) as one report;
  per run, seconds, characters per second, findings, the peak memory, and the peak above the memory
  of the process with the model loaded (measured in the same process, before labelling);
- the hostile batch of the tests (`tests/nlp/bad_inputs.write_hostile_batch`: three good reports,
  and empty, random, truncated, encrypted, scanned, misnamed, 40 MB and joined files): `inspection-
  themes label` with `--jobs 1` and `--jobs 2`, against the same command on the good reports alone.
  Its exit code must be 3, and its peak memory that of the good reports: the 40 MB file is refused
  by its size before it is read.

Results go to training/benchmarks/results/long_reports.json.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer

from nlp.classify import default_model_path
from nlp.corpus import corpus_dir
from nlp.limits import MAX_REPORT_CHARS
from training.benchmarks.common import print_table, save

LONGEST_REPORT = "leeds-2015-sif"
LENGTHS = (500_000, 1_000_000, MAX_REPORT_CHARS)
CLI = str(Path(sys.executable).with_name("inspection-themes"))
LONG_COLUMNS = ("name", "chars", "findings", "seconds", "chars_per_second", "peak_rss_mb", "model_rss_mb", "above_model_mb")
BATCH_COLUMNS = ("name", "files", "exit_code", "seconds", "peak_rss_mb")

# One report labelled in a fresh interpreter: the peak memory with the model loaded, then after labelling.
LABEL_ONE = """
import json, resource, sys, time
from pathlib import Path
from nlp.batch import label_file
from nlp.classify import load_pipeline

nlp = load_pipeline(sys.argv[2])
model_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
rows, error = label_file(Path(sys.argv[1]), nlp)
assert error is None, error
print(json.dumps({"seconds": time.perf_counter() - started, "findings": len(rows), "model_rss_mb": model_rss}))
"""


def run_measured(command: list[str]) -> tuple[int, str, float, float]:
    """RETURNS (tuple): exit code, stdout, wall seconds, and peak resident MB of the process and the
    children it waited for."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    return os.waitstatus_to_exitcode(status), output, time.perf_counter() - started, usage.ru_maxrss / 1024


def long_report_row(name: str, path: Path, model: str) -> dict:
    code, output, _, peak = run_measured([sys.executable, "-c", LABEL_ONE, str(path), model])
    if code:
        raise RuntimeError(f"{name}: labelling failed (exit code {code})")
    measured = json.loads(output.splitlines()[-1])
    chars = len(path.read_text(encoding="utf-8"))
    return {
        "name": name,
        "chars": chars,
        "findings": measured["findings"],
        "seconds": round(measured["seconds"], 1),
        "chars_per_second": round(chars / measured["seconds"]),
        "peak_rss_mb": round(peak),
        "model_rss_mb": round(measured["model_rss_mb"]),
        "above_model_mb": round(peak - measured["model_rss_mb"]),
    }


def batch_row(name: str, folder: Path, outdir: Path, model: str, jobs: int) -> dict:
    command = [CLI, "label", str(folder), "-o", str(outdir), "--model", model, "--jobs", str(jobs), "-q"]
    code, _, seconds, peak = run_measured(command)
    return {
        "name": name,
        "files": len(list(folder.iterdir())),
        "exit_code": code,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak),
    }


def main(model: Optional[Path] = typer.Option(None, help="Model folder (default: the committed one).")) -> None:
    from tests.nlp.bad_inputs import write_hostile_batch  # the batch the tests label, from the repository

    model_path = str((model or default_model_path()).resolve())
    longest = corpus_dir() / "text" / f"{LONGEST_REPORT}.txt"
    text = longest.read_text(encoding="utf-8")
    # The body only: the layout stops at a report's closing page, so repeats after it would not be read.
    body = text[: text.index("The Office for Standards in Education")]
    with tempfile.TemporaryDirectory(prefix="bench-long-") as scratch:
        scratch = Path(scratch)
        long_rows = [long_report_row(f"baseline: {LONGEST_REPORT}, the longest corpus report", longest, model_path)]
        for length in LENGTHS:
            path = scratch / f"long-{length}.txt"
            path.write_text((body * (length // len(body) + 1))[:length], encoding="utf-8")
            long_rows.append(long_report_row(f"its body repeated to {length:,} characters", path, model_path))

        good, _ = write_hostile_batch(scratch / "hostile")
        (scratch / "good").mkdir()
        for path in good:
            shutil.copy(path, scratch / "good")
        batch_rows = [
            batch_row("baseline: the good reports alone, --jobs 1", scratch / "good", scratch / "out-good", model_path, 1),
            batch_row("hostile batch, --jobs 1", scratch / "hostile", scratch / "out-1", model_path, 1),
            batch_row("hostile batch, --jobs 2", scratch / "hostile", scratch / "out-2", model_path, 2),
        ]

    print_table(long_rows, LONG_COLUMNS)
    print()
    print_table(batch_rows, BATCH_COLUMNS)
    path = save(
        "long_reports",
        {
            "machine": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "model": model_path,
            "load_average_after": round(os.getloadavg()[0], 2),
            "max_report_chars": MAX_REPORT_CHARS,
            "long_reports": long_rows,
            "hostile_batch": batch_rows,
            "peak_rss_note": "ru_maxrss of the process and the children it waited for (pool workers): the largest one, not a sum",
        },
    )
    print(f"-> {path}")


if __name__ == "__main__":
    typer.run(main)
