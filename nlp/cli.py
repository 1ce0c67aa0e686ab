"""`inspection-themes`: the command line, a thin shell over importable functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from .errors import InspectionThemesError

app = typer.Typer(
    name="inspection-themes",
    help="Themes and strength/weakness polarity for the findings of Ofsted children's services reports.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """Segment reports, classify findings and label corpora."""


def _fail(error: Exception) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=2)


@app.command()
def segment(
    report: Path = typer.Argument(..., exists=True, dir_okay=False, help="A report as .pdf or extracted text."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="findings.jsonl to write (default: stdout)."),
) -> None:
    """Split a report into findings: one JSON line per finding with its place in the report."""
    from .jsonl import write_jsonl
    from .pipeline import finding_records, segment_report

    try:
        records = finding_records(segment_report(report))
    except InspectionThemesError as error:
        _fail(error)
    if output is None:
        for record in records:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        count = write_jsonl(records, output)
        typer.echo(f"{count} findings -> {output}", err=True)


@app.command()
def classify(
    input_path: Path = typer.Argument(..., exists=True, dir_okay=False, help='JSON lines: {"id": ..., "text": ...}.'),
    output: Path = typer.Option(..., "-o", "--output", help="JSON lines to write, one per input line."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: the committed one)."),
    evidence: bool = typer.Option(False, "--evidence", help="Add the sentences and n-grams behind each theme."),
) -> None:
    """Label findings given as text: themes, polarity, polarity per theme, and theme probabilities."""
    from .classify import classify_file

    try:
        count = classify_file(input_path, output, model, with_evidence=evidence)
    except InspectionThemesError as error:
        _fail(error)
    typer.echo(f"{count} findings -> {output}", err=True)


@app.command()
def label(
    paths: list[str] = typer.Argument(..., help="Report files (.pdf, .txt), folders and glob patterns."),
    outdir: Path = typer.Option(..., "-o", "--outdir", help="Folder for findings.parquet, reports.parquet, errors.parquet."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Worker processes."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: the committed one)."),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", help="Dask scheduler address, or 'local' for a LocalCluster (needs the [dask] extra)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Label a corpus of reports: one row per finding, per report x area x theme, and per unreadable file."""
    try:
        if scheduler is None:
            from .batch import label_reports

            summary = label_reports(paths, outdir, jobs=jobs, model=model, progress=False if quiet else None)
        else:
            from .distributed import label_reports_on_dask

            workers = jobs if jobs > 1 else None  # for --scheduler local; a running cluster has its own
            summary = label_reports_on_dask(
                paths, outdir, scheduler=scheduler, n_workers=workers, model=model, progress=not quiet
            )
    except InspectionThemesError as error:
        _fail(error)
    typer.echo(str(summary), err=True)


@app.command()
def suggest(
    input_path: Path = typer.Argument(
        ..., exists=True, help='findings.parquet written by `label` (or its folder), or JSON lines {"id": ..., "text": ...}.'
    ),
    n: int = typer.Option(..., "-n", "--number", min=1, help="How many findings to suggest."),
    output: Path = typer.Option(..., "-o", "--output", help="Queue to write: JSON lines, best first."),
    model: Optional[str] = typer.Option(None, "--model", help="Model folder or package (default: the committed one)."),
    compare_model: Optional[str] = typer.Option(
        None, "--compare-model", help="A second model; findings the two models disagree on rank higher."
    ),
    exclude: Optional[Path] = typer.Option(
        None, "--exclude", exists=True, dir_okay=False, help="JSON lines of labelled findings (e.g. gold.jsonl), matched by text."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the random share and of tie-breaking."),
    max_per_report: Optional[int] = typer.Option(None, "--max-per-report", min=1, help="Cap per report (default: from -n)."),
    random_share: Optional[float] = typer.Option(
        None, "--random-share", min=0.0, max=1.0, help="Share of the queue drawn uniformly at random (default: 0.1)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Which findings to label next: those the model is least sure of, spread over reports and authorities."""
    from .suggest import suggest_file

    try:
        count = suggest_file(
            input_path,
            output,
            n,
            model=model,
            compare_model=compare_model,
            exclude=exclude,
            seed=seed,
            max_per_report=max_per_report,
            progress=not quiet,
            **({} if random_share is None else {"random_share": random_share}),
        )
    except InspectionThemesError as error:
        _fail(error)
    typer.echo(f"{count} findings -> {output}", err=True)


if __name__ == "__main__":
    app()
