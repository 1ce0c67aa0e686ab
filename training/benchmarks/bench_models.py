"""Benchmark: the accurate and the fast model side by side, in one run.

    python -m training.benchmarks.bench_models [--reports 40] [--findings 3000] [--model fast]

For each committed model (`accurate`, `fast`, or those `--model` names), on the same inputs:

- loading (`load_pipeline`, in a fresh process: cold imports excluded) and its size on disk;
- `classify` JSONL -> JSONL on the findings of the corpus text reports (the first `--findings`),
  findings/s and MB/s, on one core (the process is pinned to it), against the yardstick of a bare
  `TfidfVectorizer(ngram_range=(1, 2))` transform of the same findings on the same core;
- `label` with `--jobs 1` and `--jobs 2` on the first `--reports` corpus text reports and on as
  many PDFs, each run in a fresh process (`bench_label.parallel_run`): reports/s, MB/s, peak
  resident memory of the client and of each worker. The corpus has 7 PDFs: each is copied under
  as many names as it takes (`pdf_copies`), so that starting the workers and loading the model
  weigh on the PDF run as they do on the text run; on the 7 alone they are most of its time.

The baseline of every row is the same row for the other model; the keyword rules of
`training.evaluate` give a floor for `classify`, the TF-IDF transform its yardstick (`of_yardstick`:
findings/s as a share of the yardstick's). Results: training/benchmarks/results/models.json.
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
from contextlib import contextmanager
from pathlib import Path

import typer
from sklearn.feature_extraction.text import TfidfVectorizer

from nlp.classify import classify_file, resolve_model
from nlp.corpus import corpus_dir
from nlp.pipeline import make_segmenter
from training.benchmarks.bench_label import parallel_run
from training.benchmarks.common import folder_megabytes, measure, print_table, save
from training.evaluate import keyword_baseline

MODELS = ("accurate", "fast")
LOAD = "import sys, time; from nlp.classify import load_pipeline; t = time.perf_counter(); load_pipeline(sys.argv[1]); print(time.perf_counter() - t)"


def load_seconds(model: Path) -> float:
    """Loading the model in a fresh interpreter, after its imports."""
    output = subprocess.run([sys.executable, "-c", LOAD, str(model)], capture_output=True, text=True, check=True).stdout
    return round(float(output.strip().splitlines()[-1]), 2)


@contextmanager
def one_core():
    """Run the block on one core (the first this process may use), then give the others back."""
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)


def pdf_copies(pdfs: list[Path], count: int, folder: Path) -> list[Path]:
    """`count` PDF files in `folder`: `pdfs` in turn, each copy under a name (report id) of its own."""
    if not pdfs:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for i in range(count):
        source = pdfs[i % len(pdfs)]
        copy = folder / f"{source.stem}-copy{i // len(pdfs)}{source.suffix}"
        shutil.copyfile(source, copy)
        copies.append(copy)
    return copies


def label_rows(model: Path, paths: list[Path], kind: str, scratch: Path) -> list[dict]:
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    rows = []
    for jobs in (1, 2):
        arguments = {"paths": [str(p) for p in paths], "model": str(model), "progress": False, "outdir": str(scratch / f"{model.name}-{kind}-{jobs}"), "jobs": jobs}
        row = parallel_run(f"label {kind} --jobs {jobs}", jobs, "jobs", arguments, {"seconds": 1.0, "cpu_seconds": 0.0})
        row = {key: value for key, value in row.items() if key not in ("speedup", "overhead_ms_per_report", "cpu_overhead_ms_per_report")}
        rows.append({**row, "mb_per_second": round(megabytes / row["seconds"], 3)})
    return rows


def main(
    reports: int = typer.Option(40, help="Corpus text reports labelled by `label` (the first N), and as many PDFs (copies of the corpus's 7)."),
    findings: int = typer.Option(3000, help="Findings classified by `classify` (of the corpus text reports, in order)."),
    model: list[str] = typer.Option(list(MODELS), help="Models to measure (short name or folder)."),
) -> None:
    corpus = corpus_dir()
    texts = sorted((corpus / "text").glob("*.txt"))
    pdfs = sorted((corpus / "pdf").glob("*.pdf"))
    segmenter = make_segmenter()
    sample = []
    for doc in segmenter.pipe((p.read_text(encoding="utf-8") for p in texts), batch_size=8):
        sample.extend(span.text for span in doc.spans["findings"])
        if len(sample) >= findings:
            break
    sample = sample[:findings]
    sample_mb = sum(len(t.encode()) for t in sample) / 1e6
    results, classify_rows, label_table = {}, [], []
    with one_core():
        with measure("keyword rules (floor)", len(sample), sample_mb) as m:
            keyword_baseline(sample)
        classify_rows.append(m[0].row())
        vectorizer = TfidfVectorizer(ngram_range=(1, 2)).fit(sample)
        with measure("TfidfVectorizer((1, 2)) transform (yardstick)", len(sample), sample_mb) as m:
            vectorizer.transform(sample)
        yardstick = m[0].row()
    classify_rows.append(yardstick)
    with tempfile.TemporaryDirectory(prefix="bench-models-") as scratch:
        scratch = Path(scratch)
        pdf_inputs = pdf_copies(pdfs, min(reports, len(texts)), scratch / "pdf")
        source = scratch / "findings.jsonl"
        source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(sample)), encoding="utf-8")
        for kind in model:
            folder = resolve_model(kind).resolve()
            results[kind] = {"model": str(folder), "load_seconds": load_seconds(folder), "folder_mb": round(folder_megabytes(folder), 1)}
            started = time.perf_counter()
            with one_core():
                classify_file(source, scratch / "warm.jsonl", str(folder))  # warm: loads the model once
                with measure(f"{kind}: classify JSONL -> JSONL", len(sample), sample_mb) as m:
                    classify_file(source, scratch / f"{kind.replace('/', '_')}.jsonl", str(folder))
            classify_rows.append(m[0].row())
            results[kind]["first_classify_seconds_including_load"] = round(time.perf_counter() - started - m[0].seconds, 1)
            for name, paths in (("text", texts[:reports]), ("PDF", pdf_inputs)):
                for row in label_rows(folder, paths, name, scratch):
                    label_table.append({"model": kind, **row})
    for row in classify_rows:
        row["of_yardstick"] = round(row["items_per_second"] / yardstick["items_per_second"], 3)
    print(json.dumps(results, indent=2))
    print_table(classify_rows, ("name", "items", "megabytes", "seconds", "items_per_second", "items_per_cpu_second", "mb_per_second", "of_yardstick"))
    print_table(label_table, ("model", "name", "reports", "seconds", "reports_per_second", "mb_per_second", "peak_rss_mb_client", "peak_rss_mb_per_worker", "load_before", "load_after"))
    path = save(
        "models" if list(model) == list(MODELS) else "models-" + "-".join(Path(m).name for m in model),
        {
            "machine": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "models": results,
            "findings": len(sample),
            "reports": reports,
            "pdfs": {"files": len(pdf_inputs), "distinct": len(pdfs)},
            "classify": classify_rows,
            "label": label_table,
        },
    )
    print(f"-> {path}")


if __name__ == "__main__":
    typer.run(main)
