"""Bring your own taxonomy, measured: a 4-theme taxonomy made from gold by merging themes.

    nice -n 19 python -m training.benchmarks.bench_own_taxonomy [--findings 400] [--kinds fast accurate]

Another team's taxonomy is simulated by merging gold themes (`MERGES`): harm = exploitation |
missing_children | domestic_abuse_and_parental_risk; permanence = permanence | adoption;
care_leavers; leadership = leadership_and_governance | quality_assurance_and_performance. A merged
theme's polarity is its parts' when they agree, else `mixed`. `--findings` gold findings are drawn
(the same ones every run), each kind is trained with `nlp.train` (grouped CV by local authority,
then the fit), and a plain TF-IDF (1,2)-gram + LinearSVC per theme is cross-validated on the same
findings and folds as the floor the fast kind must reach. Training time (wall and CPU: on a busy
machine the first counts the other jobs too) and peak memory go to
training/benchmarks/results/own_taxonomy.json. `tests/nlp/test_train.py` runs the same steps on
fewer findings.
"""

from __future__ import annotations

import json
import random
import resource
import time
from pathlib import Path

import numpy as np
import typer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

from nlp.jsonl import read_jsonl
from nlp.scoring import theme_matrix
from nlp.taxonomy import Taxonomy
from nlp.train import grouped_folds

GOLD = Path(__file__).resolve().parents[1] / "data" / "gold" / "gold.jsonl"
RESULTS = Path(__file__).resolve().parent / "results" / "own_taxonomy.json"
MERGES: dict[str, tuple[str, ...]] = {
    "harm": ("exploitation", "missing_children", "domestic_abuse_and_parental_risk"),
    "permanence": ("permanence", "adoption"),
    "care_leavers": ("care_leavers",),
    "leadership": ("leadership_and_governance", "quality_assurance_and_performance"),
}
TAXONOMY_RECORD = {
    "name": "merged_ofsted_4",
    "version": "1",
    "themes": [
        {"id": "harm", "description": "exploitation, missing children, domestic abuse and parental risk", "cues": ["exploitation", "missing", "domestic abuse"]},
        {"id": "permanence", "description": "permanence planning and adoption"},
        {"id": "care_leavers", "description": "care leavers and leaving care"},
        {"id": "leadership", "description": "leadership, governance, quality assurance and performance"},
    ],
    "polarities": ["strength", "weakness", "mixed", "neutral"],
}
# Of the drawn findings, this share has none of the four themes: the model must learn to say none.
NO_THEME_SHARE = 0.25


def merged_record(record: dict) -> dict:
    """A gold record relabelled with the merged themes (polarities of merged parts: agreeing, else mixed)."""
    theme_polarity = {}
    for theme, parts in MERGES.items():
        polarities = {record["theme_polarity"][part] for part in parts if record["theme_polarity"].get(part)}
        if polarities:
            theme_polarity[theme] = polarities.pop() if len(polarities) == 1 else "mixed"
    return {
        "id": record["id"],
        "text": record["text"],
        "themes": list(theme_polarity),
        "polarity": record["polarity"],
        "theme_polarity": theme_polarity,
        "local_authority": record["local_authority"],
    }


def merged_findings(n: int, gold: Path = GOLD, seed: int = 0) -> list[dict]:
    """`n` gold findings relabelled with `MERGES`: mostly ones with a merged theme, `NO_THEME_SHARE` without."""
    records = [merged_record(r) for _, r in read_jsonl(gold)]
    with_themes = [r for r in records if r["themes"]]
    without = [r for r in records if not r["themes"]]
    rng = random.Random(seed)
    none_count = int(n * NO_THEME_SHARE)
    return rng.sample(with_themes, n - none_count) + rng.sample(without, none_count)


def tfidf_svc_micro_f1(records: list[dict], labels: tuple[str, ...], folds: int, group_by: str | None = "local_authority") -> float:
    """Cross-validated theme micro-F1 of a plain TF-IDF (1,2)-gram + LinearSVC per theme, the same folds as `nlp.train`."""
    Y = theme_matrix([r["themes"] for r in records], labels)
    texts = np.array([r["text"] for r in records], dtype=object)
    predicted = np.zeros_like(Y)
    for train, test in grouped_folds(records, folds, group_by):
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        features = vectorizer.fit_transform(texts[train])
        for j in range(Y.shape[1]):
            if 0 < Y[train, j].sum() < len(train):
                predicted[test, j] = LinearSVC().fit(features, Y[train, j]).predict(vectorizer.transform(texts[test]))
    return round(float(f1_score(Y, predicted, average="micro", zero_division=0)), 3)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (all threads)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(
    findings: int = typer.Option(400, help="Gold findings to draw."),
    kinds: list[str] = typer.Option(["fast"], "--kinds", help="Model kinds to train (fast, accurate)."),
    folds: int = 5,
    output: Path = typer.Option(RESULTS, help="Where the results go (JSON)."),
) -> None:
    from nlp.train import TrainingSettings, check_training_data, train_model

    taxonomy = Taxonomy.from_record(TAXONOMY_RECORD)
    records = check_training_data(list(enumerate(merged_findings(findings), start=1)), taxonomy, "local_authority", folds, "merged gold")
    results = {
        "findings": len(records),
        "folds": folds,
        "taxonomy": TAXONOMY_RECORD,
        "tfidf_linearsvc_theme_micro_f1": tfidf_svc_micro_f1(records, taxonomy.theme_ids, folds),
    }
    for kind in kinds:
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        trained = train_model(records, taxonomy, TrainingSettings(kind=kind, folds=folds), log=typer.echo)
        results[kind] = {
            "seconds": round(time.perf_counter() - started, 1),
            # On a busy machine wall time measures the other jobs too; CPU time is this run's own work.
            "cpu_seconds": round(_cpu_seconds() - cpu_started, 1),
            "peak_rss_mb": trained.metrics["training"]["peak_rss_mb"],
            "theme_micro_f1": trained.metrics["model"]["themes"]["micro_f1"],
            "theme_macro_f1": trained.metrics["model"]["themes"]["macro_f1"],
            "polarity_macro_f1": trained.metrics["model"]["polarity"]["macro_f1"],
            "pair_f1": trained.metrics["model"]["theme_polarity_pairs"]["f1"],
        }
        typer.echo(json.dumps({kind: results[kind]}))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    typer.echo(json.dumps(results, indent=2))


if __name__ == "__main__":
    typer.run(main)
