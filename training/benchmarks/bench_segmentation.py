"""Benchmark: report text -> Doc and PDF -> Doc throughput over the corpus, against baselines.

    python -m training.benchmarks.bench_segmentation [--limit N]

Each PDF row runs `--pdf-passes` passes over the corpus's 7 PDFs (one pass is a fraction of a
second of CPU, too short to time). Baselines measured in the same run: for text, splitting the raw text at blank lines (what a
pipeline without layout analysis would do); for PDF, pypdfium2's own text without our layout
reconstruction. The difference is what furniture removal, paragraph rebuilding and the spaCy
pipeline cost. PDF -> Doc is also split into its two halves (extraction, and layout + pipeline on the
extracted text). `items_per_cpu_second` is throughput per core, steady on a busy machine; PDF rows
also give `cpu_vs_raw_pdfium`, their CPU time per report over the raw-text baseline's in the same run,
a ratio that holds on a machine busy with other work where absolute figures do not.
"""

from __future__ import annotations

import platform

import pypdfium2 as pdfium
import typer

from nlp.corpus import corpus_dir
from nlp.pdf import extract_pdf_text
from nlp.pipeline import make_segmenter
from training.benchmarks.common import Measurement, measure, print_table, process_peak_rss_mb, save

HEAP_SAMPLE = 20  # reports whose Python heap peak is traced (tracemalloc is slow)
COLUMNS = ("name", "items", "megabytes", "seconds", "items_per_second", "items_per_cpu_second", "mb_per_second", "peak_heap_mb", "cpu_vs_raw_pdfium")


def main(
    limit: int = typer.Option(0, help="Only the first N text reports (0: all)."),
    pdf_passes: int = typer.Option(5, help="Passes over the corpus's PDFs in each PDF row: 7 PDFs take a fraction of a second, too short to time once."),
) -> None:
    corpus = corpus_dir()
    texts = [p.read_text(encoding="utf-8") for p in sorted((corpus / "text").glob("*.txt"))]
    texts = texts[:limit] if limit else texts
    pdfs = sorted((corpus / "pdf").glob("*.pdf")) * pdf_passes
    text_mb = sum(len(t.encode()) for t in texts) / 1e6
    pdf_mb = sum(p.stat().st_size for p in pdfs) / 1e6
    nlp = make_segmenter()
    rows = []

    with measure("baseline: text split at blank lines", len(texts), text_mb) as m:
        paragraphs = sum(len([p for p in t.split("\n\n") if p.strip()]) for t in texts)
    rows.append(m[0].row() | {"paragraphs": paragraphs})

    with measure("text -> Doc (layout + spaCy pipeline)", len(texts), text_mb) as m:
        findings = sum(len(doc.spans["findings"]) for doc in nlp.pipe(texts, batch_size=8))
    rows.append(m[0].row() | {"paragraphs": findings})

    with measure("baseline: pypdfium2 raw text", len(pdfs), pdf_mb) as m:
        for path in pdfs:
            document = pdfium.PdfDocument(path)
            for page in document:
                textpage = page.get_textpage()
                textpage.get_text_range()
                textpage.close()
                page.close()
            document.close()
    raw_pdfium = m[0]
    rows.append(raw_pdfium.row())

    def against_raw_pdfium(measurement: Measurement) -> dict:
        return measurement.row() | {"cpu_vs_raw_pdfium": round(measurement.cpu_seconds / raw_pdfium.cpu_seconds, 2)}

    with measure("PDF -> text (our extraction)", len(pdfs), pdf_mb) as m:
        pdf_texts = [extract_pdf_text(path) for path in pdfs]
    rows.append(against_raw_pdfium(m[0]))

    with measure("PDF -> Doc (our extraction + layout + spaCy pipeline)", len(pdfs), pdf_mb) as m:
        findings = sum(len(nlp(extract_pdf_text(path)).spans["findings"]) for path in pdfs)
    rows.append(against_raw_pdfium(m[0]) | {"paragraphs": findings})

    with measure("PDF text -> Doc (layout + spaCy pipeline)", len(pdfs), pdf_mb) as m:
        findings = sum(len(doc.spans["findings"]) for doc in nlp.pipe(pdf_texts, batch_size=8))
    rows.append(m[0].row() | {"paragraphs": findings})
    pdfs = pdfs[: len(pdfs) // pdf_passes]  # the heap is traced over one pass

    sample = texts[:HEAP_SAMPLE]
    with measure("heap: text -> Doc", len(sample), sum(len(t.encode()) for t in sample) / 1e6, heap=True) as m:
        for doc in nlp.pipe(sample, batch_size=8):
            pass
    heap_rows = [m[0]]
    # tracemalloc sees Python objects and numpy arrays, not pdfium's own memory: the process's peak
    # RSS below covers that.
    with measure("heap: PDF -> Doc", len(pdfs), pdf_mb / pdf_passes, heap=True) as m:
        for path in pdfs:
            nlp(extract_pdf_text(path))
    heap_rows.append(m[0])
    untimed = {"seconds": None, "cpu_seconds": None, "items_per_second": None, "items_per_cpu_second": None, "mb_per_second": None}
    heap_rows = [heap.row() | untimed for heap in heap_rows]

    print_table(rows + heap_rows, COLUMNS + ("paragraphs",))
    peak = round(process_peak_rss_mb(), 1)
    print(f"peak RSS of the process: {peak} MB")
    path = save("segmentation", {"machine": platform.platform(), "python": platform.python_version(), "peak_rss_mb": peak, "rows": rows + heap_rows})
    print(f"-> {path}")


if __name__ == "__main__":
    typer.run(main)
