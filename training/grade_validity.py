"""Grade validity of a labelled corpus: the figures behind the grade-validity claim, saved with the model name.

    inspection-themes label ../shared/corpus/text -o out/corpus --jobs 2
    python -m training.grade_validity out/corpus

Reads the `findings.parquet` of a `label` run and the grade tables of the same reports, computes
`nlp.validity.grade_validity`, and writes `training/reports/grade-validity-<model>.json`: per measure
Spearman's rho and the grouped-CV grade predictor's accuracy, and the mean of each measure per grade.

The model was trained on the gold findings, which come from these reports: the figures are given
with every finding, and again without the gold findings (whose labels the model has seen).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer

from nlp.batch import read_findings
from nlp.classify import default_model_path
from nlp.corpus import corpus_dir
from nlp.validity import MEASURES, grade_validity, grades_from_reports

REPORTS = Path(__file__).resolve().parent / "reports"
GOLD = Path(__file__).resolve().parent / "data" / "gold" / "gold.jsonl"


def validity_summary(findings: pd.DataFrame, grades: pd.DataFrame) -> dict:
    figures, joined = grade_validity(findings, grades)
    return {
        "findings": len(findings),
        "graded_areas": len(joined),
        "figures": figures.to_dict(orient="records"),
        "mean_by_grade": joined.groupby("grade")[list(MEASURES)].mean().round(3).to_dict(orient="index"),
        "areas_by_grade": joined["grade"].value_counts().to_dict(),
    }


def main(
    outdir: Path = typer.Argument(..., exists=True, file_okay=False, help="Output folder of `inspection-themes label`."),
    reports: Path = typer.Option(None, help="The labelled reports, for their grade tables (default: the corpus text/ folder)."),
    model: Path = typer.Option(None, help="The model the findings were labelled with (default: the committed one)."),
) -> None:
    findings = read_findings(outdir)
    grades = grades_from_reports([str(reports or corpus_dir() / "text")])
    gold = pd.read_json(GOLD, lines=True)[["report_id", "index"]].drop_duplicates()
    in_gold = findings.merge(gold.assign(gold=True), on=["report_id", "index"], how="left")["gold"].fillna(False).to_numpy(bool)
    model_name = (model or default_model_path()).name
    result = {
        "model": model_name,
        "reports": int(findings["report_id"].nunique()),
        "all_findings": validity_summary(findings, grades),
        "without_gold_findings": validity_summary(findings[~in_gold], grades),
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"grade-validity-{model_name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name in ("all_findings", "without_gold_findings"):
        typer.echo(f"{name}: {result[name]['findings']} findings, {result[name]['graded_areas']} graded areas")
        typer.echo(pd.DataFrame(result[name]["figures"]).to_string(index=False))
    typer.echo(f"-> {path}")


if __name__ == "__main__":
    typer.run(main)
