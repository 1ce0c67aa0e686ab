"""Grade validity: does the strength/weakness balance of an area's findings track Ofsted's grade?

For each report and graded area, three measures of the area's findings are set against the grade
printed in the report's own grade table:

- `model_net`: the model's finding polarity, (strength - weakness) / findings;
- `lexicon_sentiment`: VADER compound sentiment of the area's whole text (the whole-report lexicon
  sentiment others have used on these reports, here per area so that areas can be compared);
- `cue_balance`: per finding, strength cue words minus weakness cue words, averaged.

The figures are Spearman's rho with the ordinal grade, and the accuracy of a simple grade
predictor (multinomial logistic regression on the one measure) under cross-validation grouped by
local authority, next to always predicting the most common grade. Headings and grade tables are
never part of a finding's text (`nlp.layout`), so no measure can read the grade off the page.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict

from .lexicon import STRENGTH_PATTERN, WEAKNESS_PATTERN
from .taxonomy import GRADE_SCORES

MEASURES = ("model_net", "lexicon_sentiment", "cue_balance")


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def grades_table(judgements: dict[str, dict[str, str]]) -> pd.DataFrame:
    """report_id -> {area: grade} as rows (report_id, area, grade, grade_score), ungraded rows dropped."""
    rows = [
        {"report_id": report_id, "area": area, "grade": grade, "grade_score": GRADE_SCORES[grade]}
        for report_id, areas in judgements.items()
        for area, grade in areas.items()
        if grade in GRADE_SCORES
    ]
    return pd.DataFrame(rows, columns=["report_id", "area", "grade", "grade_score"])


def grades_from_reports(paths) -> pd.DataFrame:
    """The graded judgements printed in each report's own grade table (files, folders or globs)."""
    from .batch import expand_inputs
    from .errors import ReportInputError
    from .ingest import read_report
    from .metadata import parse_report_metadata

    files, _ = expand_inputs(paths)
    judgements = {}
    for path in files:
        try:
            report = read_report(path)
        except ReportInputError:
            continue  # `label` lists unreadable files in errors.parquet; they have no findings to compare
        judgements[report.report_id] = parse_report_metadata(report.text).judgements
    return grades_table(judgements)


def area_measures(findings: pd.DataFrame) -> pd.DataFrame:
    """The three measures per (report_id, area), over the area's findings."""
    findings = findings[findings["area"].notna()]
    rows = []
    for (report_id, area), group in findings.groupby(["report_id", "area"]):
        polarity = group["polarity"].value_counts()
        text = " ".join(group["text"])
        cues = [len(STRENGTH_PATTERN.findall(t)) - len(WEAKNESS_PATTERN.findall(t)) for t in group["text"]]
        rows.append(
            {
                "report_id": report_id,
                "local_authority": group["local_authority"].iloc[0],
                "area": area,
                "findings": len(group),
                "model_net": (polarity.get("strength", 0) - polarity.get("weakness", 0)) / len(group),
                "lexicon_sentiment": _vader().polarity_scores(text)["compound"],
                "cue_balance": float(np.mean(cues)),
            }
        )
    return pd.DataFrame(rows)


def grade_validity(findings: pd.DataFrame, grades: pd.DataFrame, folds: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-measure validity figures, and the joined (report, area) table they were computed on."""
    joined = area_measures(findings).merge(grades, on=["report_id", "area"], how="inner")
    groups = joined["local_authority"]
    folds = min(folds, groups.nunique())
    majority = joined["grade"].value_counts(normalize=True).iloc[0]
    rows = []
    for measure in MEASURES:
        rho, p_value = spearmanr(joined[measure], joined["grade_score"])
        predicted = cross_val_predict(
            LogisticRegression(max_iter=1000),
            joined[[measure]].to_numpy(),
            joined["grade"].to_numpy(),
            groups=groups,
            cv=GroupKFold(n_splits=folds),
        )
        rows.append(
            {
                "measure": measure,
                "spearman_rho": round(float(rho), 3),
                "p_value": float(p_value),
                "grade_accuracy_grouped_cv": round(float(np.mean(predicted == joined["grade"].to_numpy())), 3),
                "majority_grade_accuracy": round(float(majority), 3),
                "areas": len(joined),
            }
        )
    return pd.DataFrame(rows), joined
