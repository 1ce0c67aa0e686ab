"""Batch labelling of report corpora: files, folders and globs in; analysis tables out.

`label_reports(paths, outdir)` writes to OUTDIR:

- `findings.parquet`: one row per finding (`finding_schema` of the model's themes), with the
  model's taxonomy in its schema metadata (`findings_taxonomy` reads it back);
- `reports.parquet`: one row per report x judgement area x theme, with polarity counts and a net
  score (`nlp.aggregate.report_profile`);
- `errors.parquet`: one row per input file that could not be labelled, with the reason and what
  to do. No single report stops a run: a bad input gets its named error, and any other exception
  raised while labelling one report is recorded against it too (`label_file`).

Each report's result is first written as its own part (`OUTDIR/.parts/<report_id>.arrow`, an Arrow
IPC file, renamed into place when complete), so an interrupted run loses only the reports in flight, and a
rerun skips every report whose part matches the file it came from. The three tables are rebuilt
from the parts at the end of each run, each written to a temporary file and renamed.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from spacy.language import Language
from tqdm import tqdm

from .aggregate import COUNTED_COLUMNS, report_profile
from .errors import DuplicateReportId, NoSuchInput, ReportInputError, UnexpectedLabellingError
from .extensions import FINDING_ATTRIBUTES, spans_with_texts
from .ingest import REPORT_SUFFIXES, read_report, report_id_for
from .taxonomy import POLARITIES, Taxonomy

FINDINGS_FILE = "findings.parquet"
REPORTS_FILE = "reports.parquet"
ERRORS_FILE = "errors.parquet"
PARTS_DIR = ".parts"
# Parts are Arrow IPC files, not Parquet: the client reads every part back when it builds the tables,
# and the 391 corpus reports' parts read in 0.2 s as IPC against 2.2 s as Parquet. Uncompressed, they
# take 61 MB against Parquet's 35 (lz4 would take 35 MB and 0.8 s; ad hoc measurements).
PART_SUFFIX = ".arrow"
_PARQUET_PART_SUFFIX = ".parquet"  # parts before 0.3.2
_ERROR_KEY = b"inspection_themes.error"
_FINGERPRINT_KEY = b"inspection_themes.fingerprint"
_TAXONOMY_KEY = b"inspection_themes.taxonomy"



@lru_cache(maxsize=8)
def finding_schema(theme_ids: tuple[str, ...]) -> pa.Schema:
    """The schema of `findings.parquet` for a model that labels with `theme_ids` (its taxonomy's)."""
    return pa.schema(
    [
        ("report_id", pa.string()),
        ("source", pa.string()),
        ("local_authority", pa.string()),
        ("framework", pa.string()),
        ("inspection_start", pa.date32()),
        ("inspection_end", pa.date32()),
        ("published", pa.date32()),
        ("year", pa.int16()),
        ("index", pa.int32()),
        ("number", pa.int32()),
        ("kind", pa.string()),
        ("section", pa.string()),
        ("area", pa.string()),
        ("page_start", pa.int32()),
        ("page_end", pa.int32()),
        ("char_start", pa.int64()),
        ("char_end", pa.int64()),
        ("text", pa.string()),
        ("themes", pa.list_(pa.string())),
        ("polarity", pa.string()),
        # Fixed structs, one field per theme of the taxonomy (null where a finding lacks the theme):
        # unlike Arrow maps, pandas, dask.dataframe and Hugging Face datasets all read them.
        ("theme_polarity", pa.struct([(theme, pa.string()) for theme in theme_ids])),
        ("scores", pa.struct([(theme, pa.float32()) for theme in theme_ids])),
        # Per theme, the character spans (in `text`) of the sentences behind it.
        ("evidence", pa.struct([(theme, pa.list_(pa.struct([("start", pa.int32()), ("end", pa.int32())]))) for theme in theme_ids])),
    ]
    )


FINDING_COLUMNS: tuple[str, ...] = tuple(finding_schema(()).names)


def model_findings_schema(model: str | os.PathLike | None) -> pa.Schema:
    """The schema of `findings.parquet` for `model`, its taxonomy in the schema metadata: the table
    names only theme ids, and whoever reads the folder later (`show`) needs what the model meant by them.

    RAISES (ModelCompatibilityError): not a trained model folder.
    """
    from .classify import model_taxonomy

    taxonomy = model_taxonomy(model)
    return finding_schema(taxonomy.theme_ids).with_metadata({_TAXONOMY_KEY: json.dumps(taxonomy.to_record()).encode()})


def findings_taxonomy(outdir: str | os.PathLike) -> Taxonomy | None:
    """The taxonomy of the model that labelled a `label` folder, as `model_findings_schema` recorded it;
    None for a folder written before `label` recorded it.

    RAISES (TaxonomyError): the recorded taxonomy is damaged.
    """
    path = Path(outdir) / FINDINGS_FILE
    record = (pq.read_schema(path).metadata or {}).get(_TAXONOMY_KEY)
    return None if record is None else Taxonomy.from_record(json.loads(record), f"the taxonomy recorded in {path}")
# `nlp.aggregate.report_profile`'s columns. A fixed schema, not one inferred from pandas: the table
# is built in chunks, and an inferred type would depend on the chunk (an empty profile has untyped
# columns; a year column with a missing year is float).
REPORT_SCHEMA = pa.schema(
    [
        ("report_id", pa.string()),
        ("local_authority", pa.string()),
        ("framework", pa.string()),
        ("year", pa.int16()),
        ("area", pa.string()),
        ("theme", pa.string()),
        *[(polarity, pa.int64()) for polarity in POLARITIES],
        ("findings", pa.int64()),
        ("net", pa.float64()),
    ]
)
ERROR_COLUMNS = ("report_id", "source", "error_type", "reason")
# Failed inputs the end-of-run message lists; the rest are counted and left to errors.parquet.
LISTED_FAILURES = 10
# Rows per row group of findings.parquet: parts are small, and readers are slow on tiny row groups.
_ROW_GROUP_ROWS = 20_000


@dataclass
class LabelSummary:
    """What a run did. `labelled` counts reports labelled in this run, `skipped` those already done;
    `in_tables` the reports whose findings the tables hold (from this run or an earlier one), and
    `errors` the rows of errors.parquet (`ERROR_COLUMNS`)."""

    outdir: Path
    labelled: int
    skipped: int
    in_tables: int
    findings: int
    errors: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)

    def __str__(self) -> str:
        return (
            f"{self.labelled} reports labelled, {self.skipped} already done, {self.failed} could not be read; "
            f"{self.findings} findings -> {self.outdir}"
        )

    def failure_list(self, limit: int = LISTED_FAILURES) -> str:
        """The first `limit` failed inputs, one a line with the reason and what to do, then how many
        more errors.parquet lists; empty when nothing failed."""
        if not self.errors:
            return ""
        lines = [f"{self.failed} inputs could not be labelled:"]
        lines += [f"  {row['reason']}" for row in self.errors[:limit]]
        if self.failed > limit:
            lines.append(f"  … and {self.failed - limit} more in {self.outdir / ERRORS_FILE}")
        return "\n".join(lines)


# --- inputs ----------------------------------------------------------------------------------------


def expand_inputs(paths: Sequence[str | os.PathLike]) -> tuple[list[Path], list[str]]:
    """Report files named by paths, folders (searched recursively for .pdf/.txt) and glob patterns.

    RETURNS (tuple[list[Path], list[str]]): the files, in a stable order without repeats, and the
    arguments that matched nothing.
    """
    files: dict[Path, None] = {}
    unmatched = []
    for argument in map(str, paths):
        path = Path(argument)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES - {""})
        elif path.is_file():
            found = [path]
        else:
            found = sorted(Path(p) for p in glob.glob(argument, recursive=True) if Path(p).is_file())
        if not found:
            unmatched.append(argument)
        files.update(dict.fromkeys(found))
    return list(files), unmatched


def fingerprint(path: Path, model_id: str) -> str:
    """What a part was made from: the file (a changed size or modification time means redo it) and
    the model (labels of another model are not reused)."""
    stat = path.stat()
    return json.dumps({"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "model": model_id})


# --- one report ------------------------------------------------------------------------------------


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def finding_rows(doc, source: Path) -> list[dict]:
    """Rows of `findings.parquet` for one labelled report Doc."""
    report = doc._.report or {}
    year_from = report.get("inspection_end") or report.get("published")
    common = {
        "report_id": report.get("report_id"),
        "source": str(source),
        "local_authority": report.get("local_authority"),
        "framework": report.get("framework"),
        "inspection_start": _date(report.get("inspection_start")),
        "inspection_end": _date(report.get("inspection_end")),
        "published": _date(report.get("published")),
        "year": int(year_from[:4]) if year_from else None,
    }
    # One accessor per finding: spaCy makes a new one on every `span._`.
    return [_finding_row(common, span._, text) for span, text in spans_with_texts(doc, doc.spans["findings"])]


def _finding_row(common: dict, attributes, text: str) -> dict:
    return {
        **common,
        **{name: getattr(attributes, name) for name in FINDING_ATTRIBUTES},
        "text": text,
        "themes": list(attributes.themes),
        "polarity": attributes.polarity,
        "theme_polarity": dict(attributes.theme_polarity),
        "scores": dict(attributes.scores),
        "evidence": {
            theme: [{"start": s["start"], "end": s["end"]} for s in item["sentences"]]
            for theme, item in (attributes.evidence or {}).items()
        },
    }


def label_file(path: Path, nlp: Language) -> tuple[list[dict], str | None]:
    """Label one report file: (finding rows, None), or ([], why it could not be labelled).

    Never raises for a fault of one report, so that no file ends a batch: a bad input gives its
    named error (`ReportInputError`), and any other exception is recorded as a fault of this
    package (`UnexpectedLabellingError`), under the exception's own type. The reason is JSON:
    {"error_type", "reason"}.
    """
    try:
        report = read_report(path)
        doc = nlp(report.text)
        doc._.report = {**(doc._.report or {}), "report_id": report.report_id}
        return finding_rows(doc, path), None
    except ReportInputError as error:
        return [], json.dumps({"error_type": type(error).__name__, "reason": str(error)})
    except Exception as error:  # noqa: BLE001 - one report's fault must not end the batch
        reason = str(UnexpectedLabellingError(path, error))
        return [], json.dumps({"error_type": type(error).__name__, "reason": reason})


def write_part(parts: Path, report_id: str, rows: list[dict], error: str | None, file_fingerprint: str, schema: pa.Schema) -> Path:
    """Write one report's rows (or its error) as an Arrow IPC part of `schema`, renamed into place when complete."""
    metadata = {_FINGERPRINT_KEY: file_fingerprint.encode()}
    if error is not None:
        metadata[_ERROR_KEY] = error.encode()
    return _place_part(parts, report_id, pa.Table.from_pylist(rows, schema=schema).replace_schema_metadata(metadata))


def _place_part(parts: Path, report_id: str, table: pa.Table) -> Path:
    parts.mkdir(parents=True, exist_ok=True)
    # A unique temporary name: a task rerun elsewhere may write the same report at the same time.
    handle, temporary = tempfile.mkstemp(dir=parts, prefix=f".{report_id}.", suffix=".tmp")
    os.close(handle)
    with pa.OSFile(temporary, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    final = part_path(parts, report_id)
    os.replace(temporary, final)
    return final


def part_path(parts: Path, report_id: str) -> Path:
    """Where the part of a report is (or will be) in the parts folder."""
    return parts / f"{report_id}{PART_SUFFIX}"


def _read_part(path: Path) -> pa.Table:
    """A part as written by `write_part`, its schema metadata included. RAISES (ArrowInvalid, OSError)."""
    with pa.OSFile(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def part_is_current(parts: Path, report_id: str, file_fingerprint: str) -> bool:
    """Whether the report's part was made from this file and model (a Parquet part of a version
    before 0.3.2 is converted first)."""
    part = part_path(parts, report_id)
    if not part.exists() and not _converted_parquet_part(parts, report_id):
        return False
    try:
        with pa.OSFile(str(part)) as source:
            metadata = pa.ipc.open_file(source).schema.metadata or {}
    except (pa.ArrowInvalid, OSError):
        return False  # a damaged part (e.g. left by a crash before it reached the disk) is redone
    return metadata.get(_FINGERPRINT_KEY, b"").decode() == file_fingerprint


def _converted_parquet_part(parts: Path, report_id: str) -> bool:
    """Turn the Parquet part that a version before 0.3.2 left for this report into a part of this
    version, so that upgrading does not relabel a finished folder; RETURNS whether there is one now."""
    old = parts / f"{report_id}{_PARQUET_PART_SUFFIX}"
    if not old.exists():
        return False
    # missing_ok: another process converting the same part may have removed it.
    try:
        table = pq.read_table(old)
    except (pa.ArrowInvalid, OSError):
        old.unlink(missing_ok=True)  # damaged: the report is labelled again
        return False
    _place_part(parts, report_id, table)
    old.unlink(missing_ok=True)
    return True


# --- workers ---------------------------------------------------------------------------------------

_worker_nlp: Language | None = None


def _start_worker(model: str | None, threads: int) -> None:
    """Load the model once per worker process, not once per report.

    Tables store evidence sentences, not n-grams: the model is loaded without the evidence n-grams.
    """
    global _worker_nlp
    from .classify import load_pipeline

    _worker_nlp = load_pipeline(model, threads=threads, with_evidence=False)


def schema_of(nlp: Language) -> pa.Schema:
    """The findings schema of a loaded pipeline: one struct field per theme its model assigns."""
    from .classify import CLASSIFIER_PIPE

    return finding_schema(tuple(nlp.get_pipe(CLASSIFIER_PIPE).labels))


def _label_into_part(path: Path, report_id: str, parts: Path, file_fingerprint: str) -> None:
    rows, error = label_file(path, _worker_nlp)
    write_part(parts, report_id, rows, error, file_fingerprint, schema_of(_worker_nlp))


# --- the run ---------------------------------------------------------------------------------------


def label_reports(
    paths: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    jobs: int = 1,
    model: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> LabelSummary:
    """Label every report under `paths` into `outdir` (see the module docstring for the outputs).

    paths (Sequence): files, folders and glob patterns of .pdf / .txt reports.
    outdir (PathLike): output folder; reruns on the same folder skip finished reports.
    jobs (int): worker processes.
    model (PathLike | None): model folder; default: the committed one.
    progress (bool | None): show a progress bar (default: when stderr is a terminal).
    RETURNS (LabelSummary): counts of what this run did.
    """
    from .classify import model_fingerprint

    outdir = Path(outdir)
    parts = outdir / PARTS_DIR
    model_id = model_fingerprint(model)  # also refuses a folder that is no model, before any work
    schema = model_findings_schema(model)
    files, unmatched = expand_inputs(paths)
    inputs = unique_report_ids(files)
    fingerprints = {report_id: fingerprint(path, model_id) for report_id, path in inputs.items()}
    todo = {rid: path for rid, path in inputs.items() if not part_is_current(parts, rid, fingerprints[rid])}
    model_name = str(model) if model is not None else None
    show = sys.stderr.isatty() if progress is None else progress
    with tqdm(total=len(todo), disable=not show, unit="report", desc="labelling") as bar:
        if jobs <= 1:
            if todo:
                _start_worker(model_name, threads=0)
            for rid, path in todo.items():
                _label_into_part(path, rid, parts, fingerprints[rid])
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=(model_name, 1)) as pool:
                futures = [pool.submit(_label_into_part, path, rid, parts, fingerprints[rid]) for rid, path in todo.items()]
                for future in as_completed(futures):
                    future.result()
                    bar.update()
    return finish_run(outdir, inputs, files, unmatched, set(todo), schema)


def finish_run(
    outdir: Path, inputs: dict[str, object], files: list, unmatched: list[str], todo: set[str], schema: pa.Schema
) -> LabelSummary:
    """Build the three tables from the parts of `inputs` (findings of `schema`) and count what this run did.

    Shared by the local and the Dask paths. A report counts as labelled in this run when it was to
    do and its part holds no error: counted from the parts, since a retried task cannot tell how
    its first attempt fared.
    """
    parts = outdir / PARTS_DIR
    for leftover in parts.glob(".*.tmp"):  # half-written parts of an interrupted run; all tasks are done
        leftover.unlink()
    outdir.mkdir(parents=True, exist_ok=True)
    findings, errors = write_tables_from_parts(outdir, parts, list(inputs), schema)
    unlabelled = set(errors["report_id"])
    errors = pd.concat([errors, _unmatched_errors(unmatched), _duplicate_errors(files, inputs)], ignore_index=True)
    _write_atomically(pa.Table.from_pandas(errors, preserve_index=False), outdir / ERRORS_FILE)
    return LabelSummary(
        outdir,
        labelled=len(todo - unlabelled),
        skipped=len(inputs) - len(todo),
        in_tables=len(set(inputs) - unlabelled),
        findings=findings,
        errors=errors.to_dict("records"),
    )


def unique_report_ids(files: list[Path]) -> dict[str, Path]:
    """report_id -> file; the first file wins when two share a name (the others become errors)."""
    inputs: dict[str, Path] = {}
    for path in files:
        inputs.setdefault(report_id_for(path), path)
    return inputs


def _duplicate_errors(files: list[Path], inputs: dict[str, Path]) -> pd.DataFrame:
    rows = [
        {
            "report_id": report_id_for(path),
            "source": str(path),
            "error_type": DuplicateReportId.__name__,
            "reason": str(DuplicateReportId(path, inputs[report_id_for(path)])),
        }
        for path in files
        if inputs[report_id_for(path)] != path
    ]
    return pd.DataFrame(rows, columns=list(ERROR_COLUMNS))


def _unmatched_errors(unmatched: Iterable[str]) -> pd.DataFrame:
    rows = [
        {"report_id": None, "source": argument, "error_type": NoSuchInput.__name__, "reason": str(NoSuchInput(argument))}
        for argument in unmatched
    ]
    return pd.DataFrame(rows, columns=list(ERROR_COLUMNS))


def write_tables_from_parts(outdir: Path, parts: Path, report_ids: Iterable[str], schema: pa.Schema) -> tuple[int, pd.DataFrame]:
    """Write `findings.parquet` (of `schema`) and `reports.parquet` from the parts of the given reports.

    Parts are read in order and written to the findings table in chunks of whole reports, and each
    chunk's profile is computed on its own (a profile row never spans two reports): the findings
    of the corpus are never in memory at once, only one chunk and the (much smaller) reports table.

    RETURNS (tuple[int, pd.DataFrame]): the number of findings, and one row per part that holds an
        error instead of findings.
    """
    findings_path = outdir / FINDINGS_FILE
    temporary = findings_path.with_name(f".{findings_path.name}.tmp")
    count, errors, profiles, chunk, chunk_rows = 0, [], [], [], 0

    def flush(writer: pq.ParquetWriter) -> None:
        table = pa.concat_tables(chunk) if chunk else schema.empty_table()
        writer.write_table(table)
        profile = report_profile(_with_theme_dicts(table.select(list(COUNTED_COLUMNS)).to_pandas()))
        profiles.append(pa.Table.from_pandas(profile, schema=REPORT_SCHEMA, preserve_index=False))
        chunk.clear()

    with pq.ParquetWriter(temporary, schema) as writer:
        for report_id in report_ids:
            table = _read_part(part_path(parts, report_id))
            error = (table.schema.metadata or {}).get(_ERROR_KEY)
            if error is not None:
                details = json.loads(error)
                source = json.loads(table.schema.metadata[_FINGERPRINT_KEY])["path"]
                errors.append({"report_id": report_id, "source": source, **details})
            if table.num_rows:
                chunk.append(table.replace_schema_metadata(None))
                chunk_rows += table.num_rows
                count += table.num_rows
            if chunk_rows >= _ROW_GROUP_ROWS:
                flush(writer)
                chunk_rows = 0
        if chunk or not count:
            flush(writer)
    os.replace(temporary, findings_path)
    # Rows ordered as one `report_profile` of the whole corpus would order them (Arrow sorts stably).
    reports = pa.concat_tables(profiles).replace_schema_metadata(None)
    reports = reports.take(pc.sort_indices(reports, [("report_id", "ascending")]))
    _write_atomically(reports, outdir / REPORTS_FILE)
    return count, pd.DataFrame(errors, columns=list(ERROR_COLUMNS))


def _with_theme_dicts(findings: pd.DataFrame) -> pd.DataFrame:
    """`theme_polarity` as {theme: polarity} for the finding's own themes only (no null fields)."""
    findings["theme_polarity"] = [
        {theme: polarity for theme, polarity in (value or {}).items() if polarity is not None}
        for value in findings["theme_polarity"]
    ]
    return findings


def _write_atomically(table: pa.Table, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary)
    os.replace(temporary, path)


def read_findings(outdir: str | os.PathLike, report_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """`findings.parquet` as pandas, `theme_polarity` holding only the finding's themes.

    report_ids (Sequence[str] | None): read only these reports' rows (default: all).
    """
    filters = None if report_ids is None else [("report_id", "in", list(report_ids))]
    return _with_theme_dicts(pq.read_table(Path(outdir) / FINDINGS_FILE, filters=filters).to_pandas())
