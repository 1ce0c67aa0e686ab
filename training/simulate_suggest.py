"""Does labelling the findings `suggest` picks improve the model faster than labelling random ones?

    python -m training.simulate_suggest training/configs/default.cfg [--outer-folds 5] [--seeds 0,1,2]

A simulation over gold, with the folds of `nlp.train` (GroupKFold by local authority):
for each outer fold and seed, the model starts from a random 25 % of the training authorities'
gold; the rest of their gold is the unlabelled pool. Each round adds `--per-round` pool findings,
chosen either by `nlp.suggest.suggest_findings` (ranked by the model fitted on what is labelled so
far, excluding labelled texts, with its default settings and the round's seed) or uniformly at
random, refits, and scores the held-out authorities. Both strategies start from the same model.

Then, per outer fold, the model fitted on all the training authorities' gold ranks the held-out
findings: the error rate of its top `--top` suggestions against its error rate on all of them.

Results are written after every round to `--output` (default
`training/reports/suggest-simulation.json`); a rerun skips the (fold, seed) runs already there.
Predictions get the schema's recommendation rule, as `label` applies it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import typer
from sklearn.model_selection import GroupKFold
from spacy.cli._util import parse_config_overrides
from thinc.api import Config

from nlp.components.theme_classifier import apply_kind_rule
from nlp.errors import SuggestInputError
from nlp.model_scores import FindingClassifierScorer, FindingScorer
from nlp.models import FindingClassifier, FindingLabels
from nlp.suggest import (
    DEFAULT_RANDOM_SHARE,
    candidate_findings,
    draw_queue,
    measure_uncertainty,
    queue_strata,
    score_findings,
    suggest_findings,
)
from nlp.taxonomy import DEFAULT_TAXONOMY, THEME_IDS
from nlp.scoring import evaluate, theme_matrix
from nlp.models.training import fit_finding_classifier, make_ngram_classifier

app = typer.Typer(add_completion=False)

STRATEGIES = ("suggest", "random")
OUTPUT = Path("training/reports/suggest-simulation.json")
# The figures the curves are drawn for, as paths into `training.evaluate.evaluate`'s result.
CURVE_METRICS = {
    "theme_micro_f1": ("themes", "micro_f1"),
    "theme_macro_f1": ("themes", "macro_f1"),
    "polarity_macro_f1": ("polarity", "macro_f1"),
    "pair_f1": ("theme_polarity_pairs", "f1"),
}
# The themes gold under-represents most in their hard forms (issue 12).
WEAK_THEMES = (
    "assessment_quality",
    "planning_and_review",
    "workforce",
    "front_door",
    "edge_of_care",
    "disabled_children",
    "youth_justice",
)


def load_records(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def predict(model: FindingClassifier, records: list[dict]) -> list[FindingLabels]:
    return with_kind_rule(model.predict([r["text"] for r in records], with_evidence=False), records)


def with_kind_rule(labels: list[FindingLabels], records: list[dict]) -> list[FindingLabels]:
    """The labels as `label` gives them: the schema's rule for the finding's kind applied."""
    return [apply_kind_rule(label, r.get("kind")) for label, r in zip(labels, records)]


def curve_point(records: list[dict], predictions: list[FindingLabels]) -> dict:
    result = evaluate(records, predictions, THEME_IDS, with_calibration=False)
    return {name: result[section][key] for name, (section, key) in CURVE_METRICS.items()}


def composition(records: list[dict]) -> dict:
    """What a round's picks are like, by their gold labels."""
    count = max(len(records), 1)
    return {
        "mixed_share": round(sum(r["polarity"] == "mixed" for r in records) / count, 3),
        "neutral_share": round(sum(r["polarity"] == "neutral" for r in records) / count, 3),
        "themes_per_finding": round(sum(len(r["themes"]) for r in records) / count, 2),
        "weak_theme_positives": sum(theme in WEAK_THEMES for r in records for theme in r["themes"]),
        "summary_share": round(sum(r.get("kind") == "summary" for r in records) / count, 3),
    }


def choose(strategy: str, model, labelled: list[dict], pool: list[dict], n: int, seed: int) -> tuple[list[dict], dict]:
    """The next `n` findings of `pool` for a strategy, and how they were chosen."""
    if strategy == "random":
        rng = np.random.default_rng(seed)
        return [pool[i] for i in rng.choice(len(pool), size=min(n, len(pool)), replace=False)], {}
    scorer = FindingClassifierScorer(model, "simulation")
    exclude = [r["text"] for r in labelled]
    try:
        return _by_id(pool, suggest_findings(pool, n, scorer, exclude_texts=exclude, seed=seed)), {}
    except SuggestInputError as error:
        shortfall = str(error)
    # Late rounds can run the pool down below what the per-report cap allows, or below n once near
    # duplicates are left out: the cap goes, suggest takes as many as it can, and the record says so.
    for size in range(min(n, len(candidate_findings(pool, exclude))), 0, -1):
        try:
            queue = suggest_findings(pool, size, scorer, exclude_texts=exclude, seed=seed, max_per_report=len(pool))
            return _by_id(pool, queue), {"shortfall": shortfall, "drawn": size}
        except SuggestInputError:
            continue
    return [], {"shortfall": shortfall, "drawn": 0}


def _by_id(pool: list[dict], queue: list[dict]) -> list[dict]:
    by_id = {r["id"]: r for r in pool}
    return [by_id[q["id"]] for q in queue]


def simulate_run(run: dict, records, train, test, make_model, start_share, per_round, rounds, save) -> None:
    """One outer fold and seed (`run["seed"]`): fills `run` with the curves of both strategies, saving as it goes."""
    seed = run["seed"]
    rng = np.random.default_rng(seed)
    start = set(rng.choice(train, size=round(start_share * len(train)), replace=False).tolist())
    held_out = [records[i] for i in test]
    first = fit_finding_classifier(make_model(), [records[i] for i in sorted(start)], DEFAULT_TAXONOMY)
    run.update({"start": len(start), "pool": len(train) - len(start), "held_out": len(test)})
    origin = {"labelled": len(start), **curve_point(held_out, predict(first, held_out))}
    for strategy in STRATEGIES:
        labelled = [records[i] for i in sorted(start)]
        pool = [records[i] for i in train if i not in start]
        model, points = first, [origin]
        for round_number in range(1, rounds + 1):
            started = time.perf_counter()
            picked, note = choose(strategy, model, labelled, pool, per_round, seed * 1000 + round_number)
            picked_ids = {r["id"] for r in picked}
            labelled += picked
            pool = [r for r in pool if r["id"] not in picked_ids]
            model = fit_finding_classifier(make_model(), labelled, DEFAULT_TAXONOMY)
            points.append(
                {
                    "labelled": len(labelled),
                    **curve_point(held_out, predict(model, held_out)),
                    "picked": composition(picked),
                    **note,
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            run[strategy] = points
            save()


# The model that ranks and labels a fold's held-out findings, trained without them, and optionally a
# second model whose disagreement adds to the rank: (fold, training records) -> (scorer, compare).
FoldScorers = Callable[[int, list[dict]], tuple[FindingScorer, FindingScorer | None]]
ERROR_MEASURES = ("any_error", "theme_set_error", "polarity_error", "wrong_decisions_per_finding")


def error_rates(records: list[dict], predictions: list[FindingLabels]) -> dict:
    """Share of findings with a wrong theme set, a wrong polarity, either; wrong decisions per finding."""
    gold_themes = theme_matrix([r["themes"] for r in records], THEME_IDS)
    predicted_themes = theme_matrix([p.themes for p in predictions], THEME_IDS)
    theme_wrong = (gold_themes != predicted_themes).any(axis=1)
    polarity_wrong = np.array([r["polarity"] != p.polarity for r, p in zip(records, predictions)])
    decisions = (gold_themes != predicted_themes).sum(axis=1) + polarity_wrong
    return {
        "findings": len(records),
        "any_error": round(float((theme_wrong | polarity_wrong).mean()), 3),
        "theme_set_error": round(float(theme_wrong.mean()), 3),
        "polarity_error": round(float(polarity_wrong.mean()), 3),
        "wrong_decisions_per_finding": round(float(decisions.mean()), 3),
    }


def queue_errors(records: list[dict], splits, fold_scorers: FoldScorers, top: int, seed: int) -> dict:
    """Error rates of a model on its top `top` suggestions among held-out findings vs on all of them.

    Every finding is ranked and labelled by the model of the fold that holds its authority out
    (`fold_scorers(k, training records)`: the ranking model, and the second model whose disagreement
    adds to the rank, or None), as `suggest_findings` ranks (texts that repeat, or nearly repeat, a
    training text are left out), and one queue of `top` is drawn from all held-out findings together
    (`merged`). `per_fold` draws a queue of `top` from each fold's held-out findings on its own: a
    stricter test, since `top` is then about a third of a fold.
    """
    all_predictions: dict[str, FindingLabels] = {}
    candidates, priorities, strata, per_fold = [], [], [], []
    for fold, (train, test) in enumerate(splits):
        scorer, compare = fold_scorers(fold, [records[i] for i in train])
        held_out = [records[i] for i in test]
        predictions = dict(zip((r["id"] for r in held_out), with_kind_rule(scorer.labels([r["text"] for r in held_out]), held_out)))
        all_predictions.update(predictions)
        # Scored once, in `suggest`'s batches: the fold's queues and the merged one are drawn from the
        # same uncertainty, as `suggest_findings` draws a queue after leaving out texts that repeat a
        # training text.
        eligible = candidate_findings(held_out, [records[i]["text"] for i in train])
        texts = [r["text"] for r in eligible]
        uncertainty = measure_uncertainty(
            score_findings(scorer, texts),
            [r.get("kind") for r in eligible],
            score_findings(compare, texts) if compare else None,
            compare.name if compare else None,
        )
        fold_strata = queue_strata(uncertainty, eligible)
        per_fold.append({
            "fold": fold,
            "all": error_rates(held_out, list(predictions.values())),
            **_queue_error_rates(uncertainty.total, eligible, fold_strata, predictions, top, seed),
        })
        candidates += eligible
        priorities.append(uncertainty.total)
        strata.append(fold_strata)
    everything = [records[i] for _, test in splits for i in test]
    merged_strata = [sum((list(fold_strata[k]) for fold_strata in strata), []) for k in range(2)]
    merged = {
        "all": error_rates(everything, [all_predictions[r["id"]] for r in everything]),
        **_queue_error_rates(np.concatenate(priorities), candidates, merged_strata, all_predictions, top, seed),
    }
    for part in (merged, *per_fold):
        part["ratio_default"] = {  # None: the model makes no error of that kind, so no queue can find more
            measure: round(part["top_default"][measure] / part["all"][measure], 2) if part["all"][measure] else None
            for measure in ERROR_MEASURES
        }
    return {"merged": merged, "per_fold": per_fold}


def _queue_error_rates(priority: np.ndarray, findings: list[dict], strata, predictions: dict, top: int, seed: int) -> dict:
    """Error rates of the queue of `top` drawn from `findings` by `priority` with suggest's default
    random share ("top_default"), and of the one drawn by uncertainty alone ("top_uncertainty_only")."""
    rates = {}
    for name, share in (("top_default", DEFAULT_RANDOM_SHARE), ("top_uncertainty_only", 0.0)):
        chosen = [findings[i] for i, _ in draw_queue(priority, findings, top, seed=seed, random_share=share, strata=strata)]
        rates[name] = error_rates(chosen, [predictions[r["id"]] for r in chosen])
    return rates


def summarise(results: dict) -> dict:
    """Mean curves over runs, and the suggest - random gap per round."""
    runs = [run for run in results["runs"] if all(strategy in run for strategy in STRATEGIES)]
    complete = [run for run in runs if len(run["suggest"]) == len(run["random"]) == results["settings"]["rounds"] + 1]
    summary = {"runs": len(complete)}
    if not complete:
        return summary
    for metric in CURVE_METRICS:
        curves = {s: np.array([[p[metric] for p in run[s]] for run in complete]) for s in STRATEGIES}
        gap = curves["suggest"] - curves["random"]
        summary[metric] = {
            "suggest_mean": np.round(curves["suggest"].mean(axis=0), 4).tolist(),
            "random_mean": np.round(curves["random"].mean(axis=0), 4).tolist(),
            "gap_mean": np.round(gap.mean(axis=0), 4).tolist(),
            "gap_min_over_runs": np.round(gap.min(axis=0), 4).tolist(),
            "runs_with_suggest_ahead": (gap > 0).sum(axis=0).tolist(),
        }
    for strategy in STRATEGIES:
        picked = [p["picked"] for run in complete for p in run[strategy][1:]]
        summary[f"{strategy}_picks"] = {
            key: round(float(np.mean([p[key] for p in picked])), 3) for key in picked[0]
        }
    return summary


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    config_path: Path = typer.Argument(Path("training/configs/default.cfg"), exists=True),
    outer_folds: int = typer.Option(5, help="Outer folds run (of --folds), first ones first."),
    folds: int = typer.Option(5, help="GroupKFold splits by local authority, as nlp.train."),
    seeds: str = typer.Option("0,1,2", help="Comma-separated seeds."),
    start_share: float = typer.Option(0.25, help="Share of the training authorities' gold labelled at the start."),
    per_round: int = typer.Option(200),
    rounds: int = typer.Option(5),
    inner_folds: int = typer.Option(3, help="Inner folds of the theme and polarity models (the config has 5; fewer is faster)."),
    top: int = typer.Option(100, help="Length of the queues of held-out findings whose error rate is measured."),
    output: Path = typer.Option(OUTPUT),
) -> None:
    config = Config().from_disk(config_path, overrides=parse_config_overrides(ctx.args))
    for component in ("themes", "polarity", "theme_polarity"):
        config["model"][component]["inner_folds"] = inner_folds
    def make_model():
        return make_ngram_classifier(config["model"], DEFAULT_TAXONOMY)

    records = load_records(Path(config["paths"]["gold"]))
    settings = {
        "gold": config["paths"]["gold"],
        "gold_findings": len(records),
        "folds": folds,
        "outer_folds": outer_folds,
        "grouped_by": "local_authority",
        "seeds": [int(s) for s in seeds.split(",")],
        "start_share": start_share,
        "per_round": per_round,
        "rounds": rounds,
        "inner_folds": inner_folds,
        "top": top,
        "suggest_random_share": DEFAULT_RANDOM_SHARE,
        "model": "nlp.models.FindingClassifier as in " + str(config_path),
    }
    results = json.loads(output.read_text()) if output.exists() else {}
    if results.get("settings") != settings:
        results = {"settings": settings, "runs": []}

    def save() -> None:
        results["summary"] = summarise(results)
        temporary = output.with_name(f".{output.name}.tmp")
        temporary.write_text(json.dumps(results, indent=1) + "\n")
        os.replace(temporary, output)

    output.parent.mkdir(parents=True, exist_ok=True)
    splits = list(GroupKFold(n_splits=folds).split(records, groups=[r["local_authority"] for r in records]))[:outer_folds]
    done = {(run["fold"], run["seed"]) for run in results["runs"] if len(run.get("random", [])) == rounds + 1}
    results["runs"] = [run for run in results["runs"] if (run["fold"], run["seed"]) in done]
    if "queue_errors" not in results:
        def ngram_scorers(fold: int, train_records: list[dict]):
            return FindingClassifierScorer(fit_finding_classifier(make_model(), train_records, DEFAULT_TAXONOMY), "simulation"), None

        results["queue_errors"] = queue_errors(records, splits, ngram_scorers, top, seed=0)
        save()
        typer.echo("queue errors: " + json.dumps(results["queue_errors"]["merged"]))
    for fold, (train, test) in enumerate(splits):
        for seed in settings["seeds"]:
            if (fold, seed) in done:
                continue
            run = {"fold": fold, "seed": seed}
            results["runs"].append(run)
            simulate_run(run, records, train, test, make_model, start_share, per_round, rounds, save)
            typer.echo(f"fold {fold} seed {seed}: " + json.dumps({s: [p["theme_micro_f1"] for p in run[s]] for s in STRATEGIES}))
    typer.echo(json.dumps(results["summary"], indent=1))


if __name__ == "__main__":
    app()
