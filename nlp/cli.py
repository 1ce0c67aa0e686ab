"""`inspection-themes`: the command line, a thin shell over importable functions.

Exit codes, the same for every command: 0 every input was labelled; 3 some inputs could not be
labelled (`label` wrote its tables and lists the failures); 2 nothing could be labelled, or the
command was misused (a bad option, a missing file, a model that is not one). A traceback with exit
code 1 is a fault of this package.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .about import __title__, __version__
from .errors import InspectionThemesError

EXIT_NOTHING_LABELLED = 2  # also click's exit code for a usage error
EXIT_SOME_FAILED = 3
MODEL_HELP = (
    "accurate (default: the fine-tuned encoder), fast (the word n-gram model), a model folder, or an installed model "
    "package's name."
)

app = typer.Typer(
    name=__title__,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # help paragraphs are reflowed, as docstrings are wrapped
)


def version_text() -> str:
    """The package's version and the default model's name, version and folder."""
    from .classify import default_model_path

    try:
        model = default_model_path()
        meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    except (InspectionThemesError, OSError, ValueError) as error:
        return f"{__title__} {__version__}\ndefault model: none usable ({error})"
    return f"{__title__} {__version__}\ndefault model: {meta.get('name')} {meta.get('version')} ({model})"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the package and default model versions."
    ),
) -> None:
    """Themes and strength/weakness polarity for the findings of Ofsted children's services reports:
    segment reports, classify findings, label corpora, and train a model for your own taxonomy.

    Exit codes: 0 every input labelled; 3 some inputs could not be labelled (tables written, failures
    listed); 2 nothing could be labelled, or the command was misused.
    """


def _fail(error: Exception) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=EXIT_NOTHING_LABELLED)


@app.command()
def segment(
    report: Path = typer.Argument(..., exists=True, dir_okay=False, help="A report as .pdf or extracted text."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="findings.jsonl to write (default: stdout)."),
) -> None:
    """Split a report into findings: one JSON line per finding with its place in the report.

    Exit codes: 0 the report was segmented; 2 it could not be (the message says why and what to do),
    or the command was misused.
    """
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
    model: Optional[str] = typer.Option(None, "--model", help=MODEL_HELP),
    evidence: bool = typer.Option(False, "--evidence", help="Add the sentences and n-grams behind each theme."),
) -> None:
    """Label findings given as text: themes, polarity, polarity per theme, and theme probabilities.

    Exit codes: 0 every line was labelled; 2 a line breaks the input contract (nothing is written;
    the message names the line), or the command was misused.
    """
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
    model: Optional[str] = typer.Option(None, "--model", help=MODEL_HELP),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", help="Dask scheduler address, or 'local' for a LocalCluster (needs the [dask] extra)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Label a corpus of reports: one row per finding, per report x area x theme, and per unreadable file.

    Exit codes: 0 every input labelled; 3 some inputs could not be labelled (the tables hold the
    others; errors.parquet and the end of the output list the failures, with what to do); 2 nothing
    could be labelled (no input matched, or none could be read), or the command was misused.
    """
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
    if summary.failed:
        typer.echo(summary.failure_list(), err=True)
        raise typer.Exit(code=EXIT_SOME_FAILED if summary.in_tables else EXIT_NOTHING_LABELLED)


@app.command()
def show(
    source: Path = typer.Argument(..., exists=True, help="A report (.pdf, .txt), or a folder written by `label`."),
    output: Path = typer.Option(..., "-o", "--output", help="HTML file to write."),
    report_id: Optional[str] = typer.Option(None, "--report-id", help="The report of a `label` folder to show (needed when it holds several)."),
    model: Optional[str] = typer.Option(None, "--model", help=MODEL_HELP),
) -> None:
    """Write one labelled report as a self-contained HTML page: its findings by polarity, themes, evidence and grades.

    Exit codes: 0 the page was written; 2 the report could not be read or labelled (the message says
    why and what to do), or the command was misused.
    """
    from .show import write_report_page

    try:
        view = write_report_page(source, output, report_id=report_id, model=model)
    except InspectionThemesError as error:
        _fail(error)
    typer.echo(f"{len(view.findings)} findings of {view.report.get('report_id')} -> {output}", err=True)


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
    exclude: Optional[list[Path]] = typer.Option(
        None,
        "--exclude",
        exists=True,
        dir_okay=False,
        help="JSON lines of labelled findings (e.g. gold.jsonl), matched by text; repeat it for several files (e.g. held-out.jsonl too).",
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


class ModelKind(str, Enum):
    accurate = "accurate"
    fast = "fast"


@app.command()
def train(
    data: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help='JSON lines: {"id", "text", "themes", "polarity", "theme_polarity"} (+ a grouping field).'
    ),
    taxonomy: Path = typer.Option(..., "--taxonomy", exists=True, dir_okay=False, help="TAXONOMY.json: name, version, themes, polarities."),
    output: Path = typer.Option(..., "-o", "--output", help="Model folder to write."),
    model_kind: ModelKind = typer.Option(ModelKind.fast, "--model-kind", help="fast (word n-grams) or accurate (fine-tuned encoder; needs the [train] extra)."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds."),
    group_by: str = typer.Option(
        "local_authority", "--group-by", help="Field no fold splits (default local_authority; none if no line has it)."
    ),
    name: Optional[str] = typer.Option(None, "--name", help="Model name in its meta and card (default: the folder's name)."),
    model_version: str = typer.Option("0.1.0", "--model-version", help="Model version in its meta and card."),
) -> None:
    """Train a model for your own taxonomy: check the data, run grouped cross-validation, fit, and write
    a loadable model folder with its model card; print the cross-validated figures.

    Exit codes: 0 the model was written; 2 the taxonomy or the data cannot train a model (the message
    names the line or the theme and what to do), or the command was misused.
    """
    from .train import performance_summary, train_from_files

    try:
        folder, trained = train_from_files(
            data, taxonomy, output, kind=model_kind.value, folds=folds, group_by=group_by, name=name, version=model_version,
            log=lambda line: typer.echo(line, err=True),
        )
    except InspectionThemesError as error:
        _fail(error)
    typer.echo(f"model -> {folder}", err=True)
    figures = {"cross_validation": trained.metrics["cross_validation"], **performance_summary(trained.metrics)}
    typer.echo(json.dumps(figures, indent=2))


if __name__ == "__main__":
    app()
