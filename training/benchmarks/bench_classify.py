"""Benchmark: the committed model's load time and size, `classify` and full PDF -> labels throughput.

    python -m training.benchmarks.bench_classify [--limit N] [--model PATH]

Measured in one run, on the findings of the corpus reports (segmented once, up front):

- loading the model (`spacy.load` of the artifact, cold in this process), and its size on disk;
- `classify` on a JSON-lines file of findings (the CLI contract: read, label, write), with and
  without evidence, against the keyword baseline of `training.evaluate` on the same findings;
- PDF -> labels for the corpus PDFs (extraction, layout, segmentation and labelling), against
  PDF -> findings without labelling;
- peak resident memory of the process, and the peak Python heap (tracemalloc, which sees numpy's
  buffers) of labelling a sample of findings.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer

from nlp.classify import classify_file, classify_texts, default_model_path, load_pipeline
from nlp.corpus import corpus_dir
from nlp.pdf import extract_pdf_text
from nlp.pipeline import make_segmenter
from training.benchmarks.common import measure, print_table, process_peak_rss_mb, save
from training.evaluate import keyword_baseline

HEAP_SAMPLE = 2000  # findings whose labelling is traced for the heap peak
COLUMNS = ("name", "items", "megabytes", "seconds", "items_per_second", "mb_per_second", "peak_heap_mb")


def folder_megabytes(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main(
    limit: int = typer.Option(0, help="Only the findings of the first N text reports (0: all)."),
    model: Optional[Path] = typer.Option(None, help="Model folder (default: the committed one)."),
) -> None:
    corpus = corpus_dir()
    model_dir = model or default_model_path()
    reports = sorted((corpus / "text").glob("*.txt"))
    reports = reports[:limit] if limit else reports
    segmenter = make_segmenter()
    findings = [
        span.text
        for doc in segmenter.pipe((p.read_text(encoding="utf-8") for p in reports), batch_size=8)
        for span in doc.spans["findings"]
    ]
    findings_mb = sum(len(text.encode()) for text in findings) / 1e6
    pdfs = sorted((corpus / "pdf").glob("*.pdf"))
    pdf_mb = sum(p.stat().st_size for p in pdfs) / 1e6

    started = time.perf_counter()
    nlp = load_pipeline(model_dir)
    load_seconds = time.perf_counter() - started
    artifact = {
        "model": str(model_dir),
        "load_seconds": round(load_seconds, 3),
        "folder_mb": round(folder_megabytes(model_dir), 2),
        "classifier_file_mb": round((model_dir / "themes" / "model.skops").stat().st_size / 1e6, 2),
    }
    rows = []

    with measure("baseline: keyword rules (schema lexicon)", len(findings), findings_mb) as m:
        keyword_baseline(findings)
    rows.append(m[0].row())

    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "findings.jsonl"
        source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(findings)), encoding="utf-8")
        for evidence in (False, True):
            name = f"classify JSONL -> JSONL{' --evidence' if evidence else ''}"
            with measure(name, len(findings), findings_mb) as m:
                classify_file(source, Path(scratch) / "labels.jsonl", model_dir, with_evidence=evidence)
            rows.append(m[0].row())

    with measure("baseline: PDF -> findings (no labelling)", len(pdfs), pdf_mb) as m:
        count = sum(len(segmenter(extract_pdf_text(path)).spans["findings"]) for path in pdfs)
    rows.append(m[0].row() | {"findings": count})

    with measure("PDF -> labels (extraction, segmentation, labelling with evidence)", len(pdfs), pdf_mb) as m:
        count = sum(len(nlp(extract_pdf_text(path)).spans["findings"]) for path in pdfs)
    rows.append(m[0].row() | {"findings": count})

    sample = findings[:HEAP_SAMPLE]
    with measure("heap: label findings", len(sample), sum(len(t.encode()) for t in sample) / 1e6, heap=True) as m:
        classify_texts(sample, nlp)
    heap_row = m[0].row() | {"seconds": None, "items_per_second": None, "mb_per_second": None}

    print(f"model: {artifact}")
    print(f"{len(findings)} findings from {len(reports)} reports, {findings_mb:.2f} MB of text")
    print_table(rows + [heap_row], COLUMNS + ("findings",))
    peak = round(process_peak_rss_mb(), 1)
    print(f"peak RSS of the process: {peak} MB")
    path = save(
        "classify",
        {
            "machine": platform.platform(),
            "python": platform.python_version(),
            "artifact": artifact,
            "findings": len(findings),
            "reports": len(reports),
            "peak_rss_mb": peak,
            "rows": rows + [heap_row],
        },
    )
    print(f"-> {path}")


if __name__ == "__main__":
    typer.run(main)
