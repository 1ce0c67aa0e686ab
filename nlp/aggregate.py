"""Aggregating labelled findings: per report, judgement area, local authority, year and corpus.

All functions take the findings table that `label` writes (`findings.parquet`, one row per
finding, `theme_polarity` a mapping theme -> polarity) as a pandas DataFrame, and return tables
whose rows keep the keys needed to get back to the evidence findings (`report_id`, `index`).
"""

from __future__ import annotations

import pandas as pd

from .taxonomy import POLARITIES

KEYS = ("report_id", "local_authority", "framework", "year", "area")
# The columns of the findings table that the aggregations read.
COUNTED_COLUMNS = (*KEYS, "index", "theme_polarity")


def as_dict(value) -> dict:
    """A mapping cell as read back from Parquet (a struct with null fields, pairs, or missing) as a dict."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return {}
    return {key: item for key, item in dict(value).items() if item is not None}


def theme_polarity_long(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per (finding, theme) with that theme's polarity: the unit aggregation counts."""
    # Only the counted columns are walked: a findings table also holds each finding's text and scores.
    keys = [findings[key] if key in findings else [None] * len(findings) for key in KEYS]
    rows = [
        {**dict(zip(KEYS, values)), "index": index, "theme": theme, "polarity": polarity}
        for *values, index, theme_polarity in zip(*keys, findings["index"], findings["theme_polarity"])
        for theme, polarity in as_dict(theme_polarity).items()
    ]
    return pd.DataFrame(rows, columns=[*KEYS, "index", "theme", "polarity"])


def polarity_counts(long: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Counts of each polarity per group, the number of findings, and the net score.

    net = (strength - weakness) / findings: +1 when every finding on the theme is a strength, -1
    when every one is a weakness; mixed and neutral findings pull it towards 0.
    """
    if long.empty:
        return pd.DataFrame(columns=[*by, *POLARITIES, "findings", "net"])
    # groupby(dropna=False): a report whose year or authority was not found still gets its rows.
    counts = long.groupby([*by, "polarity"], dropna=False).size().unstack("polarity", fill_value=0)
    counts = counts.reindex(columns=list(POLARITIES), fill_value=0)
    counts.columns.name = None
    counts["findings"] = counts[list(POLARITIES)].sum(axis=1)
    counts["net"] = (counts["strength"] - counts["weakness"]) / counts["findings"]
    return counts.reset_index()


def report_profile(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per report x judgement area x theme (the `reports.parquet` table)."""
    long = theme_polarity_long(findings)
    long["area"] = long["area"].fillna("none")
    return polarity_counts(long, ["report_id", "local_authority", "framework", "year", "area", "theme"])


def authority_trends(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per local authority x year x theme."""
    return polarity_counts(theme_polarity_long(findings), ["local_authority", "year", "theme"])


def corpus_profile(findings: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Theme frequencies and strength/weakness balance over the whole corpus (or per `by` columns)."""
    return polarity_counts(theme_polarity_long(findings), [*by, "theme"])


def evidence(findings: pd.DataFrame, report_id: str, theme: str, polarity: str | None = None) -> pd.DataFrame:
    """The findings behind one cell of a profile: what a reader checks before trusting a count."""
    rows = findings[findings["report_id"] == report_id]
    keep = [
        theme in as_dict(tp) and (polarity is None or as_dict(tp)[theme] == polarity) for tp in rows["theme_polarity"]
    ]
    return rows[keep][["report_id", "index", "number", "section", "area", "text", "polarity"]]
