"""One labelled report as a self-contained HTML page, for auditing its labels by eye.

The page shows the report's metadata and Ofsted's grades, a summary per judgement area (polarity
counts of its findings, their net balance and the area's grade) and per theme, then every finding
in reading order: coloured by polarity and marked with an icon and a word for it, with a chip per
theme (the theme's own polarity on the chip, its probability on hover or focus) and the sentences
behind each theme highlighted in the text. Filters by theme and polarity work from the keyboard.
The page fetches nothing: styles and script are inline, and its Content-Security-Policy forbids
any other source.

    >>> from nlp.show import load_view, report_html
    >>> html = report_html(load_view("examples/reports/stockport-2022-ilacs.txt"))  # doctest: +SKIP
    >>> from IPython.display import HTML; HTML(report_html(doc, standalone=False))  # doctest: +SKIP

Evidence is highlighted from character offsets (start, end) within the finding text, read from the
finding rows `label` stores (`evidence`: theme -> the offsets of its sentences), whether the rows come
from a labelled Doc or from a `label` folder; a folder written before `findings.parquet` had an
`evidence` column has no highlights and says so.

Theme descriptions (the tooltips of the theme table) are those of the taxonomy the labels were made
with: the model's when a report is labelled now, the one `label` recorded in `findings.parquet` for
a folder. A folder written before `label` recorded it, or a Doc shown without its taxonomy, gets
the default taxonomy's descriptions only when its themes are exactly the default's; otherwise its
themes are shown by id alone.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from string import Template

import pandas as pd
import pyarrow.parquet as pq
from spacy.tokens import Doc

from .aggregate import as_dict, corpus_profile, polarity_counts
from .batch import FINDING_COLUMNS, FINDINGS_FILE, finding_rows, findings_taxonomy, read_findings
from .errors import ReportInputError, ReportViewError
from .plots import POLARITY_COLOURS
from .taxonomy import AREA_NAMES, DEFAULT_TAXONOMY, OVERALL_JUDGEMENTS, POLARITIES, Taxonomy

# Polarity is shown by shape and word as well as colour.
POLARITY_ICONS = {"strength": "▲", "weakness": "▼", "mixed": "◆", "neutral": "●"}
NO_AREA = "none"  # how `nlp.aggregate.report_profile` keys findings outside any judgement area
_TOP_SCORES = 5
_NOT_FOUND = '<span class="it-muted">not found</span>'
_NO_TAXONOMY = (
    "The taxonomy the labels were made with is unknown (not recorded with them, and their themes are not the "
    "default taxonomy's): themes are shown by id, without descriptions."
)
_DATE_FIELDS = ("inspection_start", "inspection_end", "published")


@dataclass
class ReportView:
    """One labelled report, as the page shows it.

    report (dict): metadata keyed as `doc._.report`: report_id, source, local_authority, framework,
        inspection_dates, inspection_start, inspection_end, published (ISO dates), overall_judgement,
        judgements ({area: grade}).
    findings (pd.DataFrame): rows of `findings.parquet` in reading order, with `theme_polarity`
        and `scores` as dicts.
    evidence (list[dict] | None): per finding, theme -> [(start, end)] of the sentences behind the
        theme within the finding text; None when the labels carry no evidence.
    labels_from (str): where the labels come from.
    notes (list[str]): what the page cannot show, and why.
    taxonomy (Taxonomy | None): the taxonomy the labels were made with; None when it is not known.
    """

    report: dict
    findings: pd.DataFrame
    evidence: list[dict[str, list[tuple[int, int]]]] | None
    labels_from: str
    notes: list[str] = field(default_factory=list)
    taxonomy: Taxonomy | None = None


# --- evidence ----------------------------------------------------------------------------------------


def evidence_offsets(evidence, text_length: int) -> dict[str, list[tuple[int, int]]]:
    """theme -> [(start, end)] from a finding row's evidence cell; offsets outside the text are dropped.

    evidence: {theme: [{"start", "end"}, ...]}, as a dict or a Parquet struct (null for the themes
        the finding lacks).
    """
    offsets = {}
    for theme, sentences in as_dict(evidence).items():
        spans = [(int(s["start"]), int(s["end"])) for s in sentences]
        offsets[theme] = [(start, end) for start, end in spans if 0 <= start < end <= text_length]
    return offsets


# --- building a view ---------------------------------------------------------------------------------


def view_of_doc(doc: Doc, labels_from: str = "the pipeline", taxonomy: Taxonomy | None = None) -> ReportView:
    """The view of a report Doc labelled by a trained pipeline (`segment_report(path, nlp)`).

    taxonomy (Taxonomy | None): the pipeline's (`nlp.get_pipe("themes").taxonomy`); None: judged
        from the theme ids of the Doc's scores (`taxonomy_of_theme_ids`).
    """
    report = dict(doc._.report or {})
    spans = list(doc.spans["findings"])
    if any(span._.polarity is None for span in spans):
        raise ReportViewError(
            "the Doc's findings have no labels; make it with a trained pipeline: "
            "segment_report(path, nlp.classify.load_pipeline())."
        )
    findings = pd.DataFrame(finding_rows(doc, report.get("source") or ""), columns=list(FINDING_COLUMNS))
    # A pipeline built with_evidence=False leaves evidence empty for findings that have themes.
    if all(set(span._.themes or ()) <= set(span._.evidence or {}) for span in spans):
        evidence = [evidence_offsets(cell, len(text)) for cell, text in zip(findings["evidence"], findings["text"])]
        notes = []
    else:
        evidence = None
        notes = ["The pipeline was built without evidence (with_evidence=false): no sentences are highlighted."]
    if taxonomy is None:
        # Every finding is scored on every theme of the model, in the taxonomy's order.
        taxonomy = taxonomy_of_theme_ids(tuple(spans[0]._.scores) if spans else ())
    return ReportView(report, findings, evidence, labels_from, notes, taxonomy)


def view_of_outdir(outdir: str | os.PathLike, report_id: str | None = None) -> ReportView:
    """The view of one report of a `label` output folder, from its tables (nothing is relabelled).

    Ofsted's grades are not in the tables: they are read from the report file named in `source`.
    RAISES (ReportViewError): no findings table, no such report, or several reports and no report_id.
    """
    outdir = Path(outdir)
    table = outdir / FINDINGS_FILE
    if not table.exists():
        raise ReportViewError(
            f"{outdir} has no {FINDINGS_FILE}; give a report file (.pdf, .txt) or a folder written by "
            "`inspection-themes label`."
        )
    report_ids = pq.read_table(table, columns=["report_id"]).column("report_id").unique().to_pylist()
    if report_id is None:
        if len(report_ids) != 1:
            raise ReportViewError(
                f"{table} holds {len(report_ids)} reports; choose one with --report-id "
                f"({_some(report_ids)})."
            )
        report_id = report_ids[0]
    if report_id not in report_ids:
        raise ReportViewError(
            f"{table} has no findings of report {report_id!r} ({_some(report_ids)}); "
            f"reports that could not be read are listed in {outdir / 'errors.parquet'}."
        )
    findings = read_findings(outdir, [report_id]).sort_values("index", ignore_index=True)
    first = _records(findings.head(1))[0]
    report = {name: first[name] for name in ("report_id", "source", "local_authority", "framework", *_DATE_FIELDS)}
    report.update({name: _iso(report[name]) for name in _DATE_FIELDS})
    metadata, notes = _metadata_from_source(report["source"])
    report = {**metadata, **report}
    if "evidence" in findings.columns:
        evidence = [evidence_offsets(cell, len(text)) for cell, text in zip(findings["evidence"], findings["text"])]
    else:
        evidence = None
        notes.append(f"{table} stores no evidence: no sentences are highlighted. Show the report file itself to see them.")
    taxonomy = findings_taxonomy(outdir)
    if taxonomy is None:
        # The struct fields of theme_polarity are the model's theme ids, in its taxonomy's order.
        taxonomy = taxonomy_of_theme_ids(tuple(field.name for field in pq.read_schema(table).field("theme_polarity").type))
    return ReportView(report, findings, evidence, f"{table}", notes, taxonomy)


def taxonomy_of_theme_ids(theme_ids: tuple[str, ...]) -> Taxonomy | None:
    """The taxonomy of labels whose model is not at hand, judged from the theme ids it assigns: the
    default one when they are exactly its ids, else None. A taxonomy of one's own may reuse a default
    id for another scope (`permanence` taking in `adoption`), so no default description is borrowed for it.
    """
    return DEFAULT_TAXONOMY if theme_ids == DEFAULT_TAXONOMY.theme_ids else None


def load_view(
    path: str | os.PathLike, report_id: str | None = None, model: str | os.PathLike | None = None
) -> ReportView:
    """The view of a report file (labelled now with `model`) or of one report of a `label` output folder.

    path (PathLike): a .pdf / .txt report, or a folder written by `inspection-themes label`.
    report_id (str | None): the report of the folder to show (needed when it holds several).
    model (PathLike | None): model folder to label a report file with; default: the committed one.
    RAISES (ReportViewError, ReportInputError): what is wrong with the input, and what to do.
    """
    path = Path(path)
    if path.is_dir():
        if model is not None:
            raise ReportViewError(
                f"{path} is a `label` output folder, shown with the labels it holds; --model applies to a report file."
            )
        return view_of_outdir(path, report_id)
    if report_id is not None:
        raise ReportViewError(f"{path} is a report file; --report-id picks a report of a `label` output folder.")
    from .classify import CLASSIFIER_PIPE, load_pipeline
    from .pipeline import segment_report

    nlp = load_pipeline(model)
    doc = segment_report(path, nlp)
    labels_from = f"model {nlp.meta.get('name')} {nlp.meta.get('version')}"
    return view_of_doc(doc, labels_from, taxonomy=nlp.get_pipe(CLASSIFIER_PIPE).taxonomy)


def _metadata_from_source(source: str) -> tuple[dict, list[str]]:
    from .ingest import read_report
    from .metadata import parse_report_metadata

    try:
        text = read_report(source).text
    except (ReportInputError, OSError) as error:
        return {}, [f"Ofsted's grades are read from the report file, and {source} could not be read ({error})."]
    return parse_report_metadata(text).to_dict(), []


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def _records(findings: pd.DataFrame) -> list[dict]:
    """Rows as dicts, a missing value None whatever its column's dtype (pandas gives NaN for strings)."""
    return [
        {name: None if isinstance(value, float) and math.isnan(value) else value for name, value in row.items()}
        for row in findings.to_dict("records")
    ]


def _some(names: list[str], shown: int = 5) -> str:
    listed = ", ".join(map(str, sorted(names)[:shown]))
    return f"it has {listed}{' …' if len(names) > shown else ''}" if names else "it has none"


# --- summaries ---------------------------------------------------------------------------------------


def area_summary(view: ReportView) -> pd.DataFrame:
    """One row per judgement area in reading order: polarity counts of its findings, net balance, grade.

    The balance is `nlp.aggregate.polarity_counts`' net, (strength - weakness) / findings, over the
    findings' overall polarity: the model balance that grade validity sets against the grade.
    Graded areas without findings follow; findings outside any area are the last row, `NO_AREA`.
    """
    findings = view.findings.assign(area=view.findings["area"].fillna(NO_AREA))
    counts = polarity_counts(findings[["area", "polarity"]], ["area"]).set_index("area")
    grades = {area: grade for area, grade in (view.report.get("judgements") or {}).items() if area not in OVERALL_JUDGEMENTS}
    order = [area for area in dict.fromkeys([*findings["area"], *grades]) if area != NO_AREA]
    order += [NO_AREA] if NO_AREA in counts.index else []
    summary = counts.reindex(order)
    summary[[*POLARITIES, "findings"]] = summary[[*POLARITIES, "findings"]].fillna(0).astype(int)
    summary["grade"] = [grades.get(area) for area in order]
    return summary.rename_axis("area").reset_index()


def theme_summary(view: ReportView) -> pd.DataFrame:
    """One row per theme of the report (`nlp.aggregate.corpus_profile` of its findings), most findings first."""
    profile = corpus_profile(view.findings)
    return profile.sort_values(["findings", "theme"], ascending=[False, True], ignore_index=True)


# --- HTML --------------------------------------------------------------------------------------------


def report_html(source: Doc | ReportView, standalone: bool = True) -> str:
    """The page of one labelled report as an HTML string.

    source (Doc | ReportView): a report Doc labelled by a trained pipeline, or a view (`load_view`).
    standalone (bool): a whole HTML document (for a file); False gives a fragment with its own
        scoped style and script, to display inline in a notebook (`IPython.display.HTML`).
    RETURNS (str): the HTML.
    """
    view = view_of_doc(source) if isinstance(source, Doc) else source
    notes = view.notes if view.taxonomy else [*view.notes, _NO_TAXONOMY]
    root = "it-" + re.sub(r"[^A-Za-z0-9_-]+", "-", str(view.report.get("report_id") or "report"))
    body = _BODY.substitute(
        root=escape(root),
        heading=escape(_heading(view.report)),
        metadata=_metadata_html(view),
        notes="".join(f'<p class="it-note" role="note">{escape(note)}</p>' for note in notes),
        legend=_legend_html(),
        areas=_area_table_html(area_summary(view)),
        themes=_theme_table_html(theme_summary(view), view.taxonomy.descriptions if view.taxonomy else {}),
        filters=_filters_html(root, view),
        findings=_findings_html(view),
        count=len(view.findings),
        script=_SCRIPT.replace("ROOT_ID", json.dumps(root)),
        style=_style(),
    )
    if not standalone:
        return body
    return _PAGE.substitute(title=escape(_heading(view.report)), body=body)


def write_report_page(
    path: str | os.PathLike,
    output: str | os.PathLike,
    report_id: str | None = None,
    model: str | os.PathLike | None = None,
) -> ReportView:
    """Write the page of a report file or of one report of a `label` folder (see `load_view`) to `output`."""
    view = load_view(path, report_id=report_id, model=model)
    Path(output).write_text(report_html(view), encoding="utf-8")
    return view


def _heading(report: dict) -> str:
    who = report.get("local_authority") or report.get("report_id") or "Report"
    framework = report.get("framework")
    dates = report.get("inspection_dates") or report.get("inspection_end") or ""
    return f"{who}: {framework} inspection" + (f", {dates}" if dates else "") if framework else who


def _polarity_badge(polarity: str) -> str:
    return (
        f'<span class="it-badge it-{escape(polarity)}"><span aria-hidden="true">{POLARITY_ICONS.get(polarity, "?")}</span> '
        f"{escape(polarity.capitalize())}</span>"
    )


def _grade_html(grade: str | None) -> str:
    return escape(grade.capitalize()) if isinstance(grade, str) and grade else '<span class="it-muted">not graded</span>'


def _area_name(area: str | None) -> str:
    if area in (None, NO_AREA):
        return "No judgement area"
    return AREA_NAMES.get(area, area.replace("_", " ").capitalize())


def _theme_name(theme: str) -> str:
    return theme.replace("_", " ")


def _metadata_html(view: ReportView) -> str:
    report = view.report
    dates = report.get("inspection_dates") or " to ".join(filter(None, [report.get("inspection_start"), report.get("inspection_end")]))
    rows = [
        ("Local authority", report.get("local_authority")),
        ("Framework", report.get("framework")),
        ("Inspection", dates),
        ("Published", report.get("published")),
        ("Overall effectiveness", (report.get("overall_judgement") or "").capitalize() or None),
        ("Report id", report.get("report_id")),
        ("Source", report.get("source")),
        ("Labels", view.labels_from),
        ("Taxonomy", view.taxonomy),
    ]
    items = "".join(
        f"<div><dt>{escape(name)}</dt><dd>{escape(str(value)) if value else _NOT_FOUND}</dd></div>" for name, value in rows
    )
    return f'<dl class="it-metadata">{items}</dl>'


def _legend_html() -> str:
    badges = " ".join(_polarity_badge(polarity) for polarity in POLARITIES)
    return (
        f'<p class="it-legend">Polarity: {badges}. Each theme chip shows the polarity of what the finding says about '
        "that theme; hover or focus a chip for the theme's probability. "
        '<mark class="it-evidence">Highlighted</mark> sentences are the evidence for a theme.</p>'
    )


def _count_cells(row) -> str:
    counts = "".join(f'<td class="it-num">{int(row[polarity])}</td>' for polarity in POLARITIES)
    net = "" if pd.isna(row["net"]) else f"{row['net']:+.2f}"
    return f'<td class="it-num">{int(row["findings"])}</td>{counts}<td class="it-num"><strong>{net}</strong></td>'


def _count_headers() -> str:
    return '<th scope="col" class="it-num">Findings</th>' + "".join(
        f'<th scope="col" class="it-num">{_polarity_badge(polarity)}</th>' for polarity in POLARITIES
    ) + '<th scope="col" class="it-num">Balance</th>'


def _area_table_html(summary: pd.DataFrame) -> str:
    rows = "".join(
        f'<tr><th scope="row">{escape(_area_name(row["area"]))}</th><td>{_grade_html(row["grade"])}</td>{_count_cells(row)}</tr>'
        for _, row in summary.iterrows()
    )
    return (
        '<table class="it-summary"><caption>Findings per judgement area, by their polarity. '
        "Balance = (strength − weakness) / findings, the model's counterpart of Ofsted's grade.</caption>"
        f'<thead><tr><th scope="col">Judgement area</th><th scope="col">Ofsted grade</th>{_count_headers()}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _theme_table_html(summary: pd.DataFrame, descriptions: dict[str, str]) -> str:
    """descriptions: theme id -> what it covers, of the taxonomy the labels were made with (see `ReportView.taxonomy`)."""
    if summary.empty:
        return '<p class="it-muted">No finding of this report has a theme.</p>'
    rows = "".join(
        f'<tr><th scope="row"><button type="button" class="it-theme-link" data-theme="{escape(row["theme"])}"'
        f'{_title(descriptions.get(row["theme"]))}>{escape(_theme_name(row["theme"]))}</button></th>{_count_cells(row)}</tr>'
        for _, row in summary.iterrows()
    )
    return (
        f'<details class="it-themes"><summary>Themes: {len(summary)} in this report, with their counts and balance</summary>'
        '<table class="it-summary"><caption>Findings per theme, by the polarity of what each says about the theme '
        "(as in reports.parquet). Choose a theme to show its findings.</caption>"
        f'<thead><tr><th scope="col">Theme</th>{_count_headers()}</tr></thead><tbody>{rows}</tbody></table></details>'
    )


def _title(text: str | None) -> str:
    """A title attribute for a tooltip, or nothing when there is nothing to say (not an empty tooltip)."""
    return f' title="{escape(text)}"' if text else ""


def _filters_html(root: str, view: ReportView) -> str:
    themes = pd.Series([theme for value in view.findings["theme_polarity"] for theme in as_dict(value)]).value_counts()
    options = "".join(
        f'<option value="{escape(theme)}">{escape(_theme_name(theme))} ({count})</option>'
        for theme, count in sorted(themes.items(), key=lambda item: _theme_name(item[0]))
    )
    boxes = "".join(
        f'<label><input type="checkbox" name="polarity" value="{polarity}" checked> {_polarity_badge(polarity)}</label>'
        for polarity in POLARITIES
    )
    return (
        f'<form class="it-filters" hidden aria-label="Filter findings">'
        f'<div><label for="{root}-theme">Theme</label> <select id="{root}-theme" name="theme">'
        f'<option value="">All themes</option>{options}</select></div>'
        f'<fieldset><legend>Polarity <span class="it-muted">(of the chosen theme, else of the finding)</span></legend>'
        f"{boxes}</fieldset>"
        '<button type="reset">Show all</button>'
        "</form>"
    )


def _findings_html(view: ReportView) -> str:
    groups, current, key = [], [], None
    for position, row in enumerate(_records(view.findings)):
        row_key = (row["section"], row["area"])
        if current and row_key != key:
            groups.append(current)
            current = []
        key = row_key
        current.append((position, row))
    if current:
        groups.append(current)
    return "".join(_group_html(group, view) for group in groups) or '<p class="it-muted">This report has no findings.</p>'


def _group_html(group: list[tuple[int, dict]], view: ReportView) -> str:
    first = group[0][1]
    heading = first["section"] or ("Report summary" if first["kind"] == "summary" else "Before the first section heading")
    area = first["area"]
    grades = view.report.get("judgements") or {}
    about = (
        f'<p class="it-area">Judgement area: {escape(_area_name(area))} · Ofsted grade: {_grade_html(grades.get(area))}</p>'
        if area
        else ""
    )
    articles = "".join(_finding_html(row, None if view.evidence is None else view.evidence[position]) for position, row in group)
    return f'<section class="it-group"><h3>{escape(heading)}</h3>{about}{articles}</section>'


def _finding_html(row: dict, evidence: dict[str, list[tuple[int, int]]] | None) -> str:
    theme_polarity = as_dict(row["theme_polarity"])
    scores = as_dict(row["scores"])
    polarity = row["polarity"]
    place = f"¶ {int(row['number'])}" if row["number"] is not None else f"Finding {int(row['index']) + 1}"
    pages = _pages(row["page_start"], row["page_end"])
    kind = f'<span class="it-kind">{escape(row["kind"])}</span>' if row["kind"] != "finding" else ""
    chips = "".join(_chip_html(theme, theme_polarity[theme], scores.get(theme)) for theme in theme_polarity)
    chips = f'<ul class="it-chips" aria-label="Themes">{chips}</ul>' if chips else '<p class="it-muted">No theme.</p>'
    return (
        f'<article class="it-finding it-{escape(polarity)}" data-index="{int(row["index"])}" '
        f'data-polarity="{escape(polarity)}" data-theme-polarity="{escape(json.dumps(theme_polarity))}">'
        f'<header><span class="it-place">{escape(place)}</span>{kind}{_polarity_badge(polarity)}'
        f'<span class="it-pages">{escape(pages)}</span></header>'
        f"{chips}"
        f'<p class="it-text">{_highlighted(row["text"], evidence or {})}</p>'
        f"{_scores_html(scores, theme_polarity)}"
        "</article>"
    )


def _pages(start: int | None, end: int | None) -> str:
    if start is None:
        return ""
    return f"page {int(start)}" if end is None or int(end) == int(start) else f"pages {int(start)}–{int(end)}"


def _chip_html(theme: str, polarity: str, score: float | None) -> str:
    probability = "" if score is None else f"{score:.2f}"
    title = f"{_theme_name(theme)}: {polarity}" + (f", probability {probability}" if probability else "")
    return (
        f'<li class="it-chip it-{escape(polarity)}" tabindex="0" data-theme="{escape(theme)}" title="{escape(title)}">'
        f'<span aria-hidden="true">{POLARITY_ICONS.get(polarity, "?")}</span> {escape(_theme_name(theme))}'
        f'<span class="it-sr"> ({escape(polarity)})</span>'
        f'<span class="it-score"> {escape(probability)}</span></li>'
    )


def _scores_html(scores: dict, theme_polarity: dict) -> str:
    top = sorted(scores.items(), key=lambda item: -item[1])[:_TOP_SCORES]
    if not top:
        return ""
    items = "".join(
        f"<li>{escape(_theme_name(theme))} {score:.2f}{' (labelled)' if theme in theme_polarity else ''}</li>"
        for theme, score in top
    )
    return f'<details class="it-scores"><summary>Top theme probabilities</summary><ul>{items}</ul></details>'


def _highlighted(text: str, evidence: dict[str, list[tuple[int, int]]]) -> str:
    """The finding text as HTML, each stretch of evidence in a <mark> naming the themes it is evidence for."""
    bounds = sorted({0, len(text), *(offset for spans in evidence.values() for span in spans for offset in span)})
    pieces = []
    for start, end in zip(bounds, bounds[1:]):
        themes = [theme for theme, spans in evidence.items() if any(s <= start and end <= e for s, e in spans)]
        piece = escape(text[start:end])
        if themes:
            names = ", ".join(map(_theme_name, themes))
            piece = (
                f'<mark class="it-evidence" data-themes="{escape(" ".join(themes))}" title="Evidence for {escape(names)}">'
                f"{piece}</mark>"
            )
        pieces.append(piece)
    return "".join(pieces)


def _style() -> str:
    colours = "".join(f"--it-{polarity}: {colour};" for polarity, colour in POLARITY_COLOURS.items())
    return _STYLE.replace("/*COLOURS*/", colours)


_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>$title</title>
</head>
<body>
$body
</body>
</html>
"""
)

_BODY = Template(
    """<div class="it-report" id="$root">
<style>$style</style>
<header><h1>$heading</h1>$metadata</header>
$notes
<section class="it-overview" aria-labelledby="$root-summary"><h2 id="$root-summary">Summary</h2>
$legend
$areas
$themes
</section>
<section aria-labelledby="$root-findings"><h2 id="$root-findings">Findings</h2>
<div class="it-toolbar">$filters
<p class="it-status" role="status" aria-live="polite">Showing all $count findings.</p></div>
$findings
</section>
<script>$script</script>
</div>"""
)

_STYLE = """
.it-report { /*COLOURS*/ --it-focus: #1565c0; --it-ink: #1b1b1b; --it-muted: #5f6368;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: var(--it-ink); background: #fff; max-width: 64rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
.it-report [hidden] { display: none !important; }
.it-report h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
.it-report h2 { font-size: 1.25rem; margin: 1.75rem 0 .5rem; border-bottom: 2px solid #ddd; }
.it-report h3 { font-size: 1.05rem; margin: 1.5rem 0 .25rem; }
.it-report :focus-visible { outline: 3px solid var(--it-focus); outline-offset: 2px; }
.it-muted { color: var(--it-muted); }
.it-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.it-metadata { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: .25rem 1.5rem; margin: 0; }
.it-metadata dt { font-size: .8rem; color: var(--it-muted); }
.it-metadata dd { margin: 0; overflow-wrap: anywhere; }
.it-note { border: 1px solid #b26a00; background: #fff4e0; padding: .5rem .75rem; border-radius: 4px; }
.it-legend { font-size: .9rem; }
.it-themes > summary { cursor: pointer; font-weight: 600; margin: .25rem 0; }
.it-summary { border-collapse: collapse; margin: .75rem 0 1.25rem; width: 100%; font-size: .92rem; }
.it-summary caption { text-align: left; color: var(--it-muted); font-size: .85rem; padding-bottom: .25rem; }
.it-summary th, .it-summary td { border-bottom: 1px solid #e0e0e0; padding: .3rem .5rem; text-align: left; vertical-align: top; }
.it-summary thead th { border-bottom: 2px solid #bbb; }
.it-summary .it-num { text-align: right; white-space: nowrap; }
.it-badge { display: inline-block; border: 1px solid var(--it-c); border-radius: 3px; padding: 0 .35rem;
  background: color-mix(in srgb, var(--it-c) 14%, white); font-size: .82rem; font-weight: 600; white-space: nowrap; }
.it-badge > [aria-hidden], .it-chip > [aria-hidden] { color: var(--it-c); }
.it-strength { --it-c: var(--it-strength); }
.it-weakness { --it-c: var(--it-weakness); }
.it-mixed { --it-c: var(--it-mixed); }
.it-neutral { --it-c: var(--it-neutral); }
.it-theme-link { font: inherit; color: var(--it-focus); background: none; border: 0; padding: 0; text-align: left;
  text-decoration: underline; cursor: pointer; }
.it-toolbar { position: sticky; top: 0; z-index: 1; background: #f6f7f9; border: 1px solid #d7dbe0; border-radius: 6px;
  padding: .4rem .75rem; }
.it-filters { display: flex; flex-wrap: wrap; gap: .4rem 1.25rem; align-items: center; font-size: .9rem; }
.it-filters fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.it-filters legend { float: left; margin-right: .25rem; }
.it-filters select, .it-filters button { font: inherit; padding: .1rem .4rem; }
.it-status { color: var(--it-muted); font-size: .85rem; margin: .2rem 0 0; }
.it-area { color: var(--it-muted); margin: 0 0 .5rem; font-size: .9rem; }
.it-finding { border-left: 6px solid var(--it-c); background: color-mix(in srgb, var(--it-c) 5%, white);
  margin: .6rem 0; padding: .5rem .85rem; border-radius: 0 4px 4px 0; }
.it-finding.it-mixed { border-left-style: double; border-left-width: 7px; }
.it-finding.it-neutral { border-left-style: dashed; }
.it-finding header { display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; font-size: .88rem; }
.it-place { font-weight: 700; }
.it-kind { text-transform: uppercase; letter-spacing: .04em; font-size: .75rem; color: var(--it-muted); }
.it-pages { color: var(--it-muted); margin-left: auto; }
.it-chips { list-style: none; padding: 0; margin: .35rem 0; display: flex; flex-wrap: wrap; gap: .3rem; }
.it-chip { border: 1px solid var(--it-c); border-radius: 1rem; padding: 0 .55rem; font-size: .82rem;
  background: color-mix(in srgb, var(--it-c) 12%, white); cursor: default; }
.it-chip .it-score { display: none; font-variant-numeric: tabular-nums; color: var(--it-muted); }
.it-chip:hover .it-score, .it-chip:focus .it-score { display: inline; }
.it-text { margin: .35rem 0; white-space: pre-wrap; }
.it-evidence { background: #fff3b8; color: inherit; border-bottom: 2px solid #d4ad00; }
.it-evidence.it-off { background: none; border-bottom: 0; }
.it-chip.it-chosen { outline: 2px solid var(--it-ink); }
.it-scores { font-size: .82rem; color: var(--it-muted); }
.it-scores ul { margin: .2rem 0; padding-left: 1.2rem; columns: 2; }
@media print {
  .it-report { max-width: none; padding: 0; font-size: 11pt; }
  .it-report * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .it-toolbar { position: static; border: 0; padding: 0; background: none; }
  .it-filters, .it-scores { display: none !important; }
  .it-evidence:not(.it-off) { text-decoration: underline; }
  .it-chip .it-score { display: inline; }
  .it-finding, .it-summary tr { break-inside: avoid; }
  .it-theme-link { color: inherit; text-decoration: none; }
}
"""

_SCRIPT = """
(function () {
  const root = document.getElementById(ROOT_ID);
  const form = root.querySelector(".it-filters");
  const theme = form.querySelector("select");
  const boxes = Array.from(form.querySelectorAll("input[name=polarity]"));
  const status = root.querySelector(".it-status");
  const findings = Array.from(root.querySelectorAll(".it-finding")).map(function (article) {
    return { article: article, polarity: article.dataset.polarity, themes: JSON.parse(article.dataset.themePolarity),
             marks: Array.from(article.querySelectorAll("mark")), chips: Array.from(article.querySelectorAll(".it-chip")) };
  });
  const groups = Array.from(root.querySelectorAll(".it-group"));
  function apply() {
    const chosen = theme.value;
    const wanted = new Set(boxes.filter(function (box) { return box.checked; }).map(function (box) { return box.value; }));
    let shown = 0;
    findings.forEach(function (finding) {
      const polarity = chosen ? finding.themes[chosen] : finding.polarity;
      const visible = polarity !== undefined && wanted.has(polarity);
      finding.article.hidden = !visible;
      if (visible) { shown += 1; }
      finding.chips.forEach(function (chip) { chip.classList.toggle("it-chosen", chip.dataset.theme === chosen); });
      finding.marks.forEach(function (mark) {
        mark.classList.toggle("it-off", chosen !== "" && mark.dataset.themes.split(" ").indexOf(chosen) < 0);
      });
    });
    groups.forEach(function (group) { group.hidden = !group.querySelector(".it-finding:not([hidden])"); });
    const about = [];
    if (chosen) { about.push("theme " + chosen.replace(/_/g, " ")); }
    if (wanted.size < boxes.length) { about.push("polarity " + (Array.from(wanted).join(", ") || "none")); }
    status.textContent = "Showing " + shown + " of " + findings.length + " findings" + (about.length ? " (" + about.join("; ") + ")" : "") + ".";
  }
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  root.querySelectorAll(".it-theme-link").forEach(function (button) {
    button.addEventListener("click", function () {
      theme.value = button.dataset.theme;
      apply();
      form.scrollIntoView();
      theme.focus();
    });
  });
  form.hidden = false;
  apply();
})();
"""
