"""The HTML view of a labelled report: evidence offsets, the page's content, `label` folders, the CLI,
and the page in a real browser (headless Chromium; skipped, with the reason, where there is none).

The sample is examples/reports/stockport-2022-ilacs.txt labelled with the committed model, once per
module; the `label` folder is made from the same report with the same model. Theme descriptions are
checked with a model of a 4-theme taxonomy of one's own (`fast_model_dir`, tests/nlp/conftest.py).
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nlp import classify
from nlp.batch import FINDINGS_FILE, findings_taxonomy, label_reports
from nlp.cli import app
from nlp.errors import ReportViewError
from nlp.plots import POLARITY_COLOURS
from nlp.show import (
    NO_AREA,
    ReportView,
    area_summary,
    evidence_offsets,
    load_view,
    report_html,
    view_of_doc,
)
from nlp.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from nlp.validity import area_measures
from training.benchmarks.bench_own_taxonomy import TAXONOMY_RECORD

from ..browser import missing_browser, open_page
from ..conftest import SAMPLE_DIR

STOCKPORT = SAMPLE_DIR / "stockport-2022-ilacs.txt"


class PageParts(HTMLParser):
    """What a test reads off the page: finding texts, evidence marks, chips, theme tooltips, scripts,
    outside references."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.marks: list[tuple[str, str]] = []  # (data-themes, text)
        self.chips: list[tuple[str, str]] = []  # (data-theme, class)
        self.theme_titles: dict[str, str | None] = {}  # theme table: data-theme -> title (None: no tooltip)
        self.scripts = 0
        self.references: list[str] = []
        self._in_text = self._in_mark = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        self.scripts += tag == "script"
        self.references += [value for name, value in attrs.items() if name in ("src", "href") and value != "data:,"]
        if tag == "p" and "it-text" in classes:
            self._in_text = True
            self.texts.append("")
        if tag == "mark" and self._in_text:
            self._in_mark = True
            self.marks.append((attrs["data-themes"], ""))
        if tag == "li" and "it-chip" in classes:
            self.chips.append((attrs["data-theme"], attrs["class"]))
        if tag == "button" and "it-theme-link" in classes:
            self.theme_titles[attrs["data-theme"]] = attrs.get("title")

    def handle_endtag(self, tag):
        if tag == "p":
            self._in_text = False
        if tag == "mark":
            self._in_mark = False

    def handle_data(self, data):
        if self._in_text:
            self.texts[-1] += data
        if self._in_mark:
            themes, text = self.marks[-1]
            self.marks[-1] = (themes, text + data)


@pytest.fixture(scope="module")
def stockport_view() -> ReportView:
    return load_view(STOCKPORT)


@pytest.fixture(scope="module")
def label_outdir(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("labelled")
    label_reports([STOCKPORT, SAMPLE_DIR / "newham-2019-ilacs.pdf"], outdir, progress=False)
    return outdir


@pytest.fixture(scope="module")
def own_taxonomy_outdir(fast_model_dir, tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("labelled-own-taxonomy")
    label_reports([STOCKPORT], outdir, model=str(fast_model_dir), progress=False)
    return outdir


def without_recorded_taxonomy(outdir: Path, folder: Path) -> Path:
    """A copy of a `label` folder's findings as written before `label` recorded the taxonomy."""
    pq.write_table(pq.read_table(outdir / FINDINGS_FILE).replace_schema_metadata(None), folder / FINDINGS_FILE)
    return folder


def assert_themes_described_only_by_the_own_taxonomy(html: str) -> None:
    titles = PageParts(html).theme_titles
    descriptions = Taxonomy.from_record(TAXONOMY_RECORD).descriptions
    assert titles and titles == {theme: descriptions[theme] for theme in titles}
    assert not [description for description in DEFAULT_TAXONOMY.descriptions.values() if escape(description) in html]


# --- evidence offsets ----------------------------------------------------------------------------------


def test_show_evidence_offsets_read_offsets_per_theme_and_drop_those_outside_the_text():
    evidence = {
        "missing_children": [{"start": 0, "end": 2}, {"start": 5, "end": 40}],
        "adoption": None,  # a Parquet struct field of a theme the finding lacks
    }
    assert evidence_offsets(evidence, text_length=10) == {"missing_children": [(0, 2)]}


# --- the page -----------------------------------------------------------------------------------------


def test_show_page_of_a_report_holds_every_finding_text_and_highlights_its_evidence(stockport_view):
    parts = PageParts(report_html(stockport_view))
    assert parts.texts == list(stockport_view.findings["text"])
    # Every evidence sentence the classifier gave is highlighted, for each of its themes.
    expected = {
        (theme, sentence)
        for row in stockport_view.findings.itertuples()
        for theme, sentences in stockport_view.evidence[row.Index].items()
        for sentence in (row.text[start:end] for start, end in sentences)
    }
    marked = {(theme, text) for themes, text in parts.marks for theme in themes.split()}
    assert expected and expected <= marked
    chips = [(theme, polarity) for tp in stockport_view.findings["theme_polarity"] for theme, polarity in tp.items()]
    assert [(theme, classes.split()[1]) for theme, classes in parts.chips] == [(t, f"it-{p}") for t, p in chips]


def test_show_page_of_a_model_of_another_taxonomy_describes_themes_as_that_taxonomy_does(fast_model_dir):
    view = load_view(STOCKPORT, model=str(fast_model_dir))
    assert view.taxonomy == Taxonomy.from_record(TAXONOMY_RECORD)
    html = report_html(view)
    assert_themes_described_only_by_the_own_taxonomy(html)
    assert "merged_ofsted_4 1 (4 themes)" in html


def test_show_page_fetches_nothing_and_carries_its_own_style_and_script(stockport_view):
    html = report_html(stockport_view)
    parts = PageParts(html)
    assert parts.references == []
    assert parts.scripts == 1
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "@import" not in html and "url(" not in html


def test_show_area_summary_balance_is_the_grade_validity_balance_and_grades_are_the_reports(stockport_view):
    summary = area_summary(stockport_view).set_index("area")
    measures = area_measures(stockport_view.findings).set_index("area")
    graded = summary.drop(index=NO_AREA)
    assert graded["net"].to_dict() == pytest.approx(measures["model_net"].to_dict())
    assert graded["grade"].to_dict() == {
        area: grade for area, grade in stockport_view.report["judgements"].items() if area != "overall_effectiveness"
    }
    assert summary["findings"].sum() == len(stockport_view.findings)


def test_show_escapes_report_text_and_metadata(stockport_view):
    hostile = '<script>alert("x")</script> & <b>bold</b>'
    findings = stockport_view.findings.head(1).assign(text=hostile, section='<img src="x">')
    view = ReportView({**stockport_view.report, "local_authority": "<i>Town</i>"}, findings, None, "test")
    html = report_html(view)
    parts = PageParts(html)
    assert parts.texts == [hostile]
    assert parts.scripts == 1 and parts.references == []
    assert "<i>Town</i>" not in html and "&lt;i&gt;Town&lt;/i&gt;" in html


def test_show_fragment_for_notebooks_is_scoped_and_takes_a_doc(tiny_pipeline_dir):
    from nlp.pipeline import segment_report

    doc = segment_report(STOCKPORT, classify.load_pipeline(tiny_pipeline_dir))
    fragment = report_html(doc, standalone=False)
    assert not fragment.lstrip().startswith("<!DOCTYPE") and "<html" not in fragment
    assert fragment.startswith('<div class="it-report" id="it-stockport-2022-ilacs">')
    assert PageParts(fragment).texts == [span.text for span in doc.spans["findings"]]


def test_show_refuses_a_doc_without_labels():
    from nlp.pipeline import segment_report

    with pytest.raises(ReportViewError, match="no labels; make it with a trained pipeline"):
        report_html(segment_report(STOCKPORT))


def test_show_pipeline_without_evidence_says_so(tiny_pipeline_dir):
    from nlp.pipeline import segment_report

    nlp = classify.load_pipeline(tiny_pipeline_dir)
    doc = segment_report(STOCKPORT, nlp)
    for span in doc.spans["findings"]:
        span._.evidence = {}  # as a pipeline built with with_evidence=false leaves it
    view = view_of_doc(doc)
    if not any(span._.themes for span in doc.spans["findings"]):
        pytest.skip("the tiny model gave no theme to the sample, so evidence cannot be missing")
    assert view.evidence is None and "without evidence" in view.notes[0]
    assert PageParts(report_html(view)).marks == []


# --- a `label` output folder ------------------------------------------------------------------------------


def test_show_label_folder_gives_the_same_labels_and_evidence_without_relabelling(label_outdir, stockport_view, monkeypatch):
    def no_model(*args, **kwargs):
        raise AssertionError("a label folder must be shown without loading a model")

    monkeypatch.setattr(classify, "load_pipeline", no_model)
    view = load_view(label_outdir, report_id="stockport-2022-ilacs")
    columns = ["index", "number", "section", "area", "text", "polarity", "theme_polarity"]
    expected = stockport_view.findings[columns].astype(object).where(stockport_view.findings[columns].notna(), None)
    got = view.findings[columns].astype(object).where(view.findings[columns].notna(), None)
    assert got.to_dict("records") == expected.to_dict("records")
    assert view.report["judgements"] == stockport_view.report["judgements"]
    assert view.evidence == stockport_view.evidence and any(view.evidence)
    html = report_html(view)
    assert "stores no evidence" not in html
    assert PageParts(html).marks == PageParts(report_html(stockport_view)).marks


def test_show_label_folder_without_an_evidence_column_says_it_has_no_highlights(label_outdir, tmp_path):
    # Folders labelled before findings.parquet stored evidence.
    table = pq.read_table(label_outdir / FINDINGS_FILE)
    pq.write_table(table.drop_columns(["evidence"]), tmp_path / FINDINGS_FILE)
    view = load_view(tmp_path, report_id="stockport-2022-ilacs")
    html = report_html(view)
    assert "stores no evidence" in html and PageParts(html).marks == []
    assert PageParts(html).texts == list(view.findings["text"])


def test_show_label_folder_of_a_model_of_another_taxonomy_describes_themes_as_that_taxonomy_does(own_taxonomy_outdir):
    assert findings_taxonomy(own_taxonomy_outdir) == Taxonomy.from_record(TAXONOMY_RECORD)
    assert_themes_described_only_by_the_own_taxonomy(report_html(load_view(own_taxonomy_outdir)))


def test_show_label_folder_without_a_recorded_taxonomy_describes_themes_only_when_they_are_the_default_taxonomys(
    own_taxonomy_outdir, label_outdir, tmp_path
):
    # Themes other than the default's, some ids shared with it (care_leavers, permanence): shown by id, no tooltip.
    own = tmp_path / "own"
    own.mkdir()
    html = report_html(load_view(without_recorded_taxonomy(own_taxonomy_outdir, own)))
    titles = PageParts(html).theme_titles
    assert titles and set(titles.values()) == {None}
    assert "The taxonomy the labels were made with is unknown" in html
    # The default's themes exactly: a default model labelled them, so its descriptions hold.
    default = tmp_path / "default"
    default.mkdir()
    view = load_view(without_recorded_taxonomy(label_outdir, default), report_id="stockport-2022-ilacs")
    assert view.taxonomy == DEFAULT_TAXONOMY
    titles = PageParts(report_html(view)).theme_titles
    assert titles and titles == {theme: DEFAULT_TAXONOMY.descriptions[theme] for theme in titles}


def test_show_label_folder_errors_name_the_problem_and_what_to_do(label_outdir, tmp_path):
    with pytest.raises(ReportViewError, match="holds 2 reports; choose one with --report-id"):
        load_view(label_outdir)
    with pytest.raises(ReportViewError, match="no findings of report 'leeds'.*stockport-2022-ilacs"):
        load_view(label_outdir, report_id="leeds")
    with pytest.raises(ReportViewError, match="has no findings.parquet"):
        load_view(tmp_path)
    with pytest.raises(ReportViewError, match="--model applies to a report file"):
        load_view(label_outdir, report_id="stockport-2022-ilacs", model="models/x")
    with pytest.raises(ReportViewError, match="--report-id picks a report of a `label` output folder"):
        load_view(STOCKPORT, report_id="stockport-2022-ilacs")


def test_show_grades_missing_when_the_source_file_is_gone(label_outdir, tmp_path):
    table = pq.read_table(label_outdir / FINDINGS_FILE)
    moved = table.set_column(table.schema.get_field_index("source"), "source", pa.array([str(tmp_path / "gone.txt")] * len(table)))
    pq.write_table(moved, tmp_path / FINDINGS_FILE)
    view = load_view(tmp_path, report_id="stockport-2022-ilacs")
    assert "judgements" not in view.report
    assert any("could not be read" in note for note in view.notes)
    assert "not graded" in report_html(view)


# --- the command ----------------------------------------------------------------------------------------


def test_show_cli_writes_the_page_of_a_report_file_and_of_a_label_folder(tiny_pipeline_dir, label_outdir, tmp_path):
    runner = CliRunner()
    page = tmp_path / "stockport.html"
    result = runner.invoke(app, ["show", str(STOCKPORT), "-o", str(page), "--model", str(tiny_pipeline_dir)])
    assert result.exit_code == 0, result.output
    assert "findings of stockport-2022-ilacs" in result.output
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    result = runner.invoke(app, ["show", str(label_outdir), "-o", str(page)])
    assert result.exit_code == 2 and "choose one with --report-id" in result.output
    result = runner.invoke(app, ["show", str(label_outdir), "--report-id", "newham-2019-ilacs", "-o", str(page)])
    assert result.exit_code == 0 and "Newham" in page.read_text(encoding="utf-8")


# --- in a browser ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    reason = missing_browser()
    if reason:
        pytest.skip(reason)


def test_show_page_in_chromium_shows_every_finding_filters_by_keyboard_and_fetches_nothing(
    browser, stockport_view, tmp_path
):
    from playwright.sync_api import expect

    path = tmp_path / "stockport.html"
    path.write_text(report_html(stockport_view), encoding="utf-8")
    findings = stockport_view.findings
    visible = ".it-finding:visible"
    with open_page(path) as (page, requests):
        texts = page.eval_on_selector_all(".it-finding .it-text", "elements => elements.map(e => e.textContent)")
        assert texts == list(findings["text"])
        assert page.locator(visible).count() == len(findings)

        # The theme filter, from the keyboard: the first theme of the list, then a polarity unticked.
        page.focus("select[name=theme]")
        page.keyboard.press("ArrowDown")
        theme = page.eval_on_selector("select[name=theme]", "select => select.value")
        on_theme = [row for row in findings.itertuples() if theme in row.theme_polarity]
        assert 0 < len(on_theme) < len(findings)
        shown = page.eval_on_selector_all(visible, "elements => elements.map(e => Number(e.dataset.index))")
        assert shown == [row.index for row in on_theme]
        assert page.inner_text(".it-status").startswith(f"Showing {len(on_theme)} of {len(findings)} findings")

        polarity = on_theme[0].theme_polarity[theme]
        page.focus(f"input[name=polarity][value={polarity}]")
        page.keyboard.press("Space")
        kept = [row.index for row in on_theme if row.theme_polarity[theme] != polarity]
        assert page.eval_on_selector_all(visible, "elements => elements.map(e => Number(e.dataset.index))") == kept

        page.focus("button[type=reset]")
        page.keyboard.press("Enter")
        expect(page.locator(visible)).to_have_count(len(findings))  # the form resets before the page refilters

        page.locator(".it-finding").first.scroll_into_view_if_needed()
        screenshot = tmp_path / "stockport.png"
        page.screenshot(path=str(screenshot))

        page.emulate_media(media="print")
        assert not page.is_visible(".it-filters")
        assert page.locator(visible).count() == len(findings)
        assert requests == [path.resolve().as_uri()]

    from PIL import Image

    colours = {colour for _, colour in Image.open(screenshot).convert("RGB").getcolors(maxcolors=1 << 20)}
    first = findings["polarity"].iloc[0]
    assert tuple(int(POLARITY_COLOURS[first][i : i + 2], 16) for i in (1, 3, 5)) in colours
