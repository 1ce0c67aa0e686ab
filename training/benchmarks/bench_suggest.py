"""Benchmark: `suggest` over every corpus finding, against classifying the same findings.

    python -m training.benchmarks.bench_suggest [--findings findings.parquet] [--n 1500] [--limit N]

The findings are those of `--findings` (a `findings.parquet` written by `label`), or else the
corpus's text reports segmented here. Two runs, each in a fresh Python process timed from just
before its work (imports left out), with the default model:

- baseline: `nlp.classify.classify_texts` over all the findings in batches of 256, the labelling
  work `label` does for them;
- `suggest`: `nlp.suggest.suggest_file` end to end: read the findings, drop the gold texts and
  their near duplicates, score the rest, draw `--n` with the diversity rules, pre-annotate them,
  write the queue.

Per run: wall and CPU seconds, findings per second, and peak resident memory of the process. The
1-minute load average before and after says how busy the machine was. Results go to
training/benchmarks/results/suggest.json.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer

from nlp.classify import default_model_path
from nlp.corpus import corpus_dir, load_corpus_index
from nlp.jsonl import write_jsonl
from nlp.pipeline import finding_records, make_segmenter, segment_reports
from nlp.ingest import read_report
from nlp.suggest import read_suggest_input
from training.benchmarks.common import print_table, save

GOLD = Path("training/data/gold/gold.jsonl")
COLUMNS = ("name", "findings", "seconds", "findings_per_second", "cpu_seconds", "peak_rss_mb", "load_before", "load_after")

RUN = """
import json, resource, sys, time
mode, arguments = sys.argv[1], json.loads(sys.argv[2])
if mode == "classify":
    from nlp.classify import classify_texts, load_pipeline
    from nlp.jsonl import read_jsonl
    nlp = load_pipeline()
    texts = [record["text"] for _, record in read_jsonl(arguments["findings"])]
else:
    from nlp.suggest import suggest_file
started, cpu = time.perf_counter(), time.process_time()
if mode == "classify":
    for start in range(0, len(texts), 256):
        classify_texts(texts[start : start + 256], nlp)
else:
    suggest_file(**arguments)
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "cpu_seconds": time.process_time() - cpu,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def corpus_findings(limit: int | None) -> list[dict]:
    """Every finding of the corpus's text reports, as `segment` gives them, with report metadata."""
    corpus = corpus_dir()
    index = load_corpus_index(corpus)
    paths = sorted((corpus / "text").glob("*.txt"))[:limit]
    findings = []
    for doc in segment_reports((read_report(path) for path in paths), make_segmenter()):
        report = doc._.report
        meta = index.get(report["report_id"], {})
        for record in finding_records(doc):
            findings.append(
                {
                    "id": f"{record['report_id']}#{record['index']}",
                    "local_authority": meta.get("local_authority"),
                    "framework": meta.get("framework"),
                    "year": int(meta["published"][:4]) if meta.get("published") else None,
                    **{key: record[key] for key in ("report_id", "index", "kind", "section", "area", "text")},
                }
            )
    return findings


def run(name: str, mode: str, arguments: dict, findings: int) -> dict:
    load_before = os.getloadavg()[0]
    output = subprocess.run([sys.executable, "-c", RUN, mode, json.dumps(arguments)], capture_output=True, text=True, check=True)
    measured = json.loads(output.stdout.strip().splitlines()[-1])
    return {
        "name": name,
        "findings": findings,
        "seconds": round(measured["seconds"], 1),
        "findings_per_second": round(findings / measured["seconds"], 1),
        "cpu_seconds": round(measured["cpu_seconds"], 1),
        "peak_rss_mb": round(measured["peak_rss_mb"], 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def main(
    findings_path: Optional[Path] = typer.Option(None, "--findings", exists=True, help="findings.parquet written by `label`."),
    n: int = typer.Option(1500, help="Queue length."),
    limit: Optional[int] = typer.Option(None, help="Only the first N corpus reports (when segmenting here)."),
    seed: int = typer.Option(7),
) -> None:
    findings = read_suggest_input(findings_path) if findings_path else corpus_findings(limit)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "findings.jsonl"
        write_jsonl(findings, source)
        rows = [
            run("baseline: classify the same findings", "classify", {"findings": str(source)}, len(findings)),
            run(
                f"suggest -n {n} --exclude gold.jsonl",
                "suggest",
                {"input_path": str(source), "output_path": str(Path(scratch) / "queue.jsonl"), "n": n, "exclude": str(GOLD), "seed": seed},
                len(findings),
            ),
        ]
    print_table(rows, COLUMNS)
    path = save(
        "suggest",
        {
            "machine": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "model": str(default_model_path()),
            "findings": len(findings),
            "reports": len({f["report_id"] for f in findings}),
            "source": str(findings_path) if findings_path else "corpus text reports, segmented",
            "rows": rows,
        },
    )
    print(f"-> {path}")


if __name__ == "__main__":
    typer.run(main)
