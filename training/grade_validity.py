"""Grade validity, leak-free: does each model's area balance track Ofsted's grades on the corpus?

    python -m training.grade_validity --model accurate --model fast [--jobs 2]

Every corpus report is labelled by a model that never saw its authority's gold findings: a report
of an authority in the gold set by the fold model of that authority's fold (written by
`training.train` under `training/runs/fold-models/<model>/`), any other report by the final model
(whose training data holds none of that authority's findings either). Then `nlp.validity` sets
each area's balance against the grade in the report's own table: Spearman's rho and a grouped-CV
grade predictor, next to VADER and cue-word counts. All models are measured in the same run on the
same areas; the figures go to `training/reports/grade-validity.json` (or `--output`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer

from nlp.batch import label_reports, read_findings
from nlp.classify import resolve_model
from nlp.corpus import corpus_dir
from nlp.validity import MEASURES, grade_validity, grades_from_reports
from training.train import fold_models_folder, read_fold_models

TRAINING = Path(__file__).resolve().parent
REPORTS = TRAINING / "reports"
RUNS = TRAINING / "runs"


def validity_summary(findings: pd.DataFrame, grades: pd.DataFrame) -> dict:
    figures, joined = grade_validity(findings, grades)
    return {
        "findings": len(findings),
        "graded_areas": len(joined),
        "figures": figures.to_dict(orient="records"),
        "mean_by_grade": joined.groupby("grade")[list(MEASURES)].mean().round(3).to_dict(orient="index"),
        "areas_by_grade": joined["grade"].value_counts().to_dict(),
    }


def label_leak_free(model: str, reports: Path, outdir: Path, jobs: int) -> pd.DataFrame:
    """Findings of every report in `reports`, each labelled by a model that never saw its authority."""
    final = resolve_model(model)
    fold_models = fold_models_folder(RUNS, final.name)
    fold_of = read_fold_models(fold_models)
    authorities = {r["id"]: r["local_authority"] for r in map(json.loads, (reports.parent / "reports.jsonl").open())}
    assignment: dict[str, list[str]] = {}
    for path in sorted(reports.glob("*.txt")):
        fold = fold_of.get(authorities.get(path.stem))
        assignment.setdefault("final" if fold is None else f"fold-{fold}", []).append(str(path))
    tables = []
    for name, paths in sorted(assignment.items()):
        location = final if name == "final" else fold_models / name
        label_reports(paths, outdir / name, jobs=jobs, model=str(location), progress=True)
        tables.append(read_findings(outdir / name).assign(labelled_by=name))
    return pd.concat(tables, ignore_index=True)


def main(
    model: list[str] = typer.Option(["accurate", "fast"], help="Models to measure (short name or folder)."),
    jobs: int = typer.Option(2, help="Worker processes for labelling."),
    outdir: Path = typer.Option(Path("out/grade-validity"), help="Where the labelled tables go (resumable)."),
    output: Path = typer.Option(REPORTS / "grade-validity.json", help="The figures' JSON (measuring one model after another, give each run its own)."),
) -> None:
    reports = corpus_dir() / "text"
    grades = grades_from_reports([str(reports)])
    result = {"leak_free": "each report labelled by a model that never saw its authority's gold findings", "models": {}}
    for name in model:
        findings = label_leak_free(name, reports, outdir / resolve_model(name).name, jobs)
        result["models"][resolve_model(name).name] = {
            "reports": int(findings["report_id"].nunique()),
            "labelled_by": findings.groupby("labelled_by")["report_id"].nunique().to_dict(),
            **validity_summary(findings, grades),
        }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, summary in result["models"].items():
        typer.echo(f"{name}: {summary['findings']} findings, {summary['graded_areas']} graded areas")
        typer.echo(pd.DataFrame(summary["figures"]).to_string(index=False))
    typer.echo(f"-> {output}")


if __name__ == "__main__":
    typer.run(main)
