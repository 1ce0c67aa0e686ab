"""Grade validity of a labelled corpus: the figures behind the grade-validity claim, saved with the model name.

    inspection-themes label ../shared/corpus/text -o out/corpus --jobs 2
    python -m training.grade_validity out/corpus

Reads the `findings.parquet` of a `label` run and the grade tables of the same reports, computes
`nlp.validity.grade_validity`, and writes `training/reports/grade-validity-<model>.json`: per measure
Spearman's rho and the grouped-CV grade predictor's accuracy, and the mean of each measure per grade.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from nlp.batch import read_findings
from nlp.classify import default_model_path
from nlp.corpus import corpus_dir
from nlp.validity import MEASURES, grade_validity, grades_from_reports

REPORTS = Path(__file__).resolve().parent / "reports"


def main(
    outdir: Path = typer.Argument(..., exists=True, file_okay=False, help="Output folder of `inspection-themes label`."),
    reports: Path = typer.Option(None, help="The labelled reports, for their grade tables (default: the corpus text/ folder)."),
    model: Path = typer.Option(None, help="The model the findings were labelled with (default: the committed one)."),
) -> None:
    findings = read_findings(outdir)
    grades = grades_from_reports([str(reports or corpus_dir() / "text")])
    figures, joined = grade_validity(findings, grades)
    by_grade = joined.groupby("grade")[list(MEASURES)].mean().round(3)
    model_name = (model or default_model_path()).name
    result = {
        "model": model_name,
        "reports": int(findings["report_id"].nunique()),
        "findings": len(findings),
        "graded_areas": len(joined),
        "figures": figures.to_dict(orient="records"),
        "mean_by_grade": {grade: row.to_dict() for grade, row in by_grade.iterrows()},
        "areas_by_grade": joined["grade"].value_counts().to_dict(),
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"grade-validity-{model_name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    typer.echo(figures.to_string(index=False))
    typer.echo(by_grade.to_string())
    typer.echo(f"-> {path}")


if __name__ == "__main__":
    typer.run(main)
