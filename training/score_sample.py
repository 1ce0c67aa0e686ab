"""How good are the committed models on gold findings they never trained on, drawn uniformly at random?

    python -m training.score_sample --batches 8a,8b,8c,8d,8e,8f,8g --output training/reports/random-sample-quality.json

Grouped cross-validation scores gold, and gold before round 3 was drawn by cue words and by model
uncertainty, so its figures say how a model does on those findings, not on a corpus. Round 3
(ANNOTATION.md §12) was drawn uniformly at random from the corpus findings no gold round had read:
its figures estimate what a user labelling these reports gets, finding by finding, with the
committed models as they are. The models never saw these findings' labels, but they did learn from
other findings of the same authorities, so this is not a figure on unseen authorities (grouped CV
gives that); and the fast model's distillation drew corpus findings that may include some of these
texts, with the accurate model's labels, never gold ones.

Each model labels the findings' texts as `label` does (the kind rule applied), and is scored by
`nlp.scoring.evaluate`, beside the keyword baseline. A model whose meta lists the scored batches
among its gold is refused; the committed 0.5.0 and 0.6.0 predate that record (their 3,186 gold
findings are rounds 1 and 2).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from nlp.classify import load_pipeline
from nlp.components.theme_classifier import apply_kind_rule
from nlp.jsonl import read_jsonl
from nlp.model_scores import scorer_for_pipeline
from nlp.scoring import evaluate
from nlp.taxonomy import THEME_IDS
from training.build_gold import GOLD_PATH
from training.evaluate import keyword_baseline
from training.gold_round_effect import HEADLINES


def trained_on(training_data: dict, batches: set[str]) -> str | None:
    """Why a model's `training_data` (its meta's) shows it learnt from gold of `batches`, or None.
    Models trained before the meta listed gold batches say only how many gold findings they had."""
    listed = training_data.get("gold_batches")
    if listed is not None:
        overlap = sorted(batches & set(listed))
        return f"it was trained on gold of batches {', '.join(overlap)}" if overlap else None
    return None


def main(
    batches: str = typer.Option(..., help="Comma-separated annotation batches whose gold findings are scored."),
    models: str = typer.Option("accurate,fast", help="Comma-separated models (short names, folders or packages)."),
    gold: Path = typer.Option(GOLD_PATH),
    output: Path = typer.Option(...),
) -> None:
    wanted = set(batches.split(","))
    records = [r for _, r in read_jsonl(gold) if r["batch"] in wanted]
    if not records:
        raise SystemExit(f"no gold finding of batches {sorted(wanted)} in {gold}.")
    texts = [r["text"] for r in records]
    results = {"gold": str(gold), "batches": sorted(wanted), "findings": len(records), "models": {}, "training_data": {}}
    for model in models.split(","):
        pipeline = load_pipeline(model)
        training_data = pipeline.meta["inspection_themes"]["training_data"]
        if reason := trained_on(training_data, wanted):
            raise SystemExit(f"model {model!r} cannot be scored on these findings: {reason}.")
        scorer = scorer_for_pipeline(pipeline)
        labels = [apply_kind_rule(label, r.get("kind")) for label, r in zip(scorer.labels(texts), records)]
        results["models"][scorer.name] = evaluate(records, labels, THEME_IDS, with_calibration=False)
        results["training_data"][scorer.name] = {key: training_data.get(key) for key in ("gold_findings", "gold_sha256", "gold_batches")}
    results["models"]["keyword baseline"] = evaluate(records, keyword_baseline(texts), THEME_IDS, with_calibration=False)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1) + "\n")
    names = list(results["models"])
    typer.echo(f"{len(records)} gold findings of batches {', '.join(sorted(wanted))}\n")
    typer.echo("| | " + " | ".join(names) + " |")
    typer.echo("| --- |" + " --- |" * len(names))
    for label, value in HEADLINES.items():
        typer.echo(f"| {label} | " + " | ".join(str(value(results["models"][name])) for name in names) + " |")
    for name, data in results["training_data"].items():
        if data["gold_batches"] is None:
            typer.echo(f"{name} does not list its gold batches: it learnt from {data['gold_findings']} gold findings (sha256 {str(data['gold_sha256'])[:16]}...); check that these batches were not among them.")


if __name__ == "__main__":
    typer.run(main)
