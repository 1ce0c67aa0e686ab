"""Figures and renderings for notebooks: findings highlighted by theme, profiles, heatmaps, trends.

matplotlib is an optional dependency (`pip install inspection-themes[viz]`); it is imported when a
chart is drawn.
"""

from __future__ import annotations

import pandas as pd
from spacy import displacy
from spacy.tokens import Doc, Span

from .taxonomy import GRADE_SCORES, POLARITIES

POLARITY_COLOURS = {"strength": "#2e7d32", "weakness": "#c62828", "mixed": "#f9a825", "neutral": "#90a4ae"}
DISPLAY_KEY = "themes_display"


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("charts need matplotlib: pip install 'inspection-themes[viz]'") from error
    return plt


def render_findings(doc: Doc, max_findings: int | None = None, jupyter: bool | None = None) -> str | None:
    """displaCy span rendering of the findings, each labelled with its themes and their polarity."""
    spans = []
    for finding in list(doc.spans["findings"])[:max_findings]:
        label = ", ".join(f"{theme}: {polarity}" for theme, polarity in (finding._.theme_polarity or {}).items())
        spans.append(Span(doc, finding.start, finding.end, label=label or "no theme"))
    doc.spans[DISPLAY_KEY] = spans
    colours = {span.label_: _label_colour(span.label_) for span in spans}
    return displacy.render(doc, style="span", options={"spans_key": DISPLAY_KEY, "colors": colours}, jupyter=jupyter)


def _label_colour(label: str) -> str:
    polarities = {part.rsplit(": ", 1)[-1] for part in label.split(", ")} & set(POLARITIES)
    if len(polarities) == 1:
        return POLARITY_COLOURS[polarities.pop()]
    return POLARITY_COLOURS["mixed"] if polarities else POLARITY_COLOURS["neutral"]


def theme_polarity_chart(profile: pd.DataFrame, title: str = "", ax=None):
    """Stacked bars of strength / weakness / mixed / neutral findings per theme (from a profile table)."""
    plt = _pyplot()
    totals = profile.groupby("theme")[list(POLARITIES)].sum()
    totals = totals.loc[totals.sum(axis=1).sort_values().index]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(3, 0.3 * len(totals))))
    left = pd.Series(0, index=totals.index)
    for polarity in POLARITIES:
        ax.barh(totals.index, totals[polarity], left=left, color=POLARITY_COLOURS[polarity], label=polarity)
        left = left + totals[polarity]
    ax.set_xlabel("findings")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    return ax


def authority_theme_heatmap(trends: pd.DataFrame, value: str = "net", ax=None):
    """Local authorities x themes, coloured by `value` (net balance by default), latest year per authority."""
    plt = _pyplot()
    latest = trends.sort_values("year").groupby(["local_authority", "theme"]).tail(1)
    grid = latest.pivot(index="local_authority", columns="theme", values=value)
    if ax is None:
        _, ax = plt.subplots(figsize=(12, max(4, 0.12 * len(grid))))
    image = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="RdYlGn", vmin=-1, vmax=1)
    ax.set_xticks(range(len(grid.columns)), grid.columns, rotation=90, fontsize="x-small")
    ax.set_yticks(range(len(grid.index)), grid.index, fontsize="xx-small")
    ax.figure.colorbar(image, ax=ax, label=value)
    return ax


def trend_chart(profile: pd.DataFrame, themes: list[str], ax=None):
    """Net balance per year, one line per theme and framework (from a profile with a `framework` column)."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    yearly = profile[profile["theme"].isin(themes)].groupby(["theme", "framework", "year"])[list(POLARITIES)].sum()
    yearly["net"] = (yearly["strength"] - yearly["weakness"]) / yearly[list(POLARITIES)].sum(axis=1)
    for (theme, framework), series in yearly["net"].groupby(level=["theme", "framework"]):
        ax.plot(series.index.get_level_values("year"), series.to_numpy(), marker="o", label=f"{theme} ({framework})")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.set_xlabel("year")
    ax.set_ylabel("net balance")
    ax.legend(fontsize="x-small")
    return ax


def grade_validity_plot(joined: pd.DataFrame, measure: str = "model_net", ax=None):
    """The measure per graded area, grouped by Ofsted's grade (worst to best)."""
    plt = _pyplot()
    grades = sorted(joined["grade"].unique(), key=GRADE_SCORES.get)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    ax.boxplot([joined.loc[joined["grade"] == g, measure] for g in grades], showfliers=False)
    ax.set_xticks(range(1, len(grades) + 1), grades, rotation=15, fontsize="small")
    ax.set_ylabel(measure)
    ax.set_title(f"{measure} by Ofsted grade of the area")
    return ax
