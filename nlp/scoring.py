"""The measures every evaluation reports, and the spaCy scorer built on them.

One home for how labels are scored: training's grouped cross-validation (`training.evaluate`) and
`nlp.evaluate(examples)` (through the registered `ofsted.theme_scorer.v1`) count the same way.
A (theme, polarity) pair is right only when both parts are: that is what aggregation counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from spacy.training import Example
from spacy.util import registry

from .taxonomy import POLARITIES

CALIBRATION_BINS = 10


def theme_matrix(theme_lists: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """Binary indicator matrix of theme lists, one column per label."""
    return np.array([[theme in themes for theme in labels] for themes in theme_lists], dtype=int).reshape(-1, len(labels))


def theme_metrics(gold: np.ndarray, predicted: np.ndarray, labels: Sequence[str]) -> dict:
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, zero_division=0)
    return {
        "micro_f1": round(float(f1_score(gold, predicted, average="micro", zero_division=0)), 3),
        "macro_f1": round(float(f1_score(gold, predicted, average="macro", zero_division=0)), 3),
        "per_theme": {
            theme: {"precision": round(float(p), 3), "recall": round(float(r), 3), "f1": round(float(f), 3), "support": int(s)}
            for theme, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
    }


def polarity_metrics(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = POLARITIES) -> dict:
    labels = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    return {
        "macro_f1": round(float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)), 3),
        "accuracy": round(float(np.mean([g == p for g, p in zip(gold, predicted)])) if len(gold) else 0.0, 3),
        "per_class": {
            label: {"precision": round(float(p), 3), "recall": round(float(r), 3), "f1": round(float(f), 3), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "confusion_matrix": {"labels": labels, "rows_gold_columns_predicted": confusion_matrix(gold, predicted, labels=labels).tolist()},
    }


def pair_metrics(gold: Sequence[dict[str, str]], predicted: Sequence[dict[str, str]]) -> dict:
    """(theme, polarity) pairs: what aggregation counts. A pair is right only if both parts are."""
    true_positive = sum(len(set(g.items()) & set(p.items())) for g, p in zip(gold, predicted))
    gold_total, predicted_total = sum(map(len, gold)), sum(map(len, predicted))
    precision = true_positive / predicted_total if predicted_total else 0.0
    recall = true_positive / gold_total if gold_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def expected_calibration_error(gold: np.ndarray, probabilities: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Weighted mean |observed rate - mean probability| over equal-width probability bins."""
    probabilities, gold = np.asarray(probabilities).ravel(), np.asarray(gold).ravel()
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(gold[members].mean() - probabilities[members].mean())
    return round(float(error), 4)


def calibration_errors(gold: np.ndarray, probabilities: np.ndarray, labels: Sequence[str]) -> dict:
    """ECE pooled over all themes (flattered by the many near-zero scores) and per theme."""
    return {
        "pooled": expected_calibration_error(gold, probabilities),
        "per_theme": {theme: expected_calibration_error(gold[:, j], probabilities[:, j]) for j, theme in enumerate(labels)},
    }


def evaluate(
    records: Sequence[dict],
    predictions: Sequence,
    labels: Sequence[str],
    with_calibration: bool = True,
    probabilities: np.ndarray | None = None,
) -> dict:
    """Theme, polarity, pair and calibration figures of predictions (`FindingLabels`) against labelled records.

    labels (Sequence[str]): the taxonomy's theme ids.
    probabilities (ndarray | None): the theme probabilities behind the predictions, unrounded;
        default: the predictions' `scores`.
    """
    gold_themes = theme_matrix([r["themes"] for r in records], labels)
    predicted_themes = theme_matrix([p.themes for p in predictions], labels)
    result = {
        "findings": len(records),
        "themes": theme_metrics(gold_themes, predicted_themes, labels),
        "polarity": polarity_metrics([r["polarity"] for r in records], [p.polarity for p in predictions]),
        "theme_polarity_pairs": pair_metrics([r["theme_polarity"] for r in records], [p.theme_polarity for p in predictions]),
    }
    if with_calibration:
        if probabilities is None:
            probabilities = np.array([[p.scores[theme] for theme in labels] for p in predictions]).reshape(-1, len(labels))
        result["calibration_error"] = calibration_errors(gold_themes, probabilities, labels)
    samples = sorted({r["drawn"] for r in records if r.get("drawn")})
    if len(samples) > 1:
        # Gold mixes samples drawn differently (training/ANNOTATION.md §10): figures of each, apart.
        result["by_sample"] = {}
        for sample in samples:
            rows = [i for i, r in enumerate(records) if r.get("drawn") == sample]
            result["by_sample"][sample] = evaluate(
                [records[i] for i in rows],
                [predictions[i] for i in rows],
                labels,
                with_calibration,
                None if probabilities is None else probabilities[rows],
            )
    return result


def score_findings(examples: Iterable[Example], spans_key: str = "findings") -> dict[str, float]:
    """`themes_micro_f`, `themes_macro_f`, `polarity_macro_f` and `theme_polarity_f` of labelled findings.

    A reference finding counts when its span carries gold labels (`span._.themes` is not None); the
    predicted finding with the same character offsets is compared with it (a missing one counts as
    no themes and no polarity).
    """
    gold_themes, predicted_themes, gold_polarity, predicted_polarity, gold_pairs, predicted_pairs = [], [], [], [], [], []
    for example in examples:
        predicted = {(s.start_char, s.end_char): s for s in example.predicted.spans.get(spans_key, [])}
        for reference in example.reference.spans.get(spans_key, []):
            if reference._.themes is None:
                continue
            found = predicted.get((reference.start_char, reference.end_char))
            gold_themes.append(reference._.themes)
            gold_polarity.append(reference._.polarity)
            gold_pairs.append(dict(reference._.theme_polarity or {}))
            predicted_themes.append((found._.themes or []) if found is not None else [])
            predicted_polarity.append((found._.polarity or "") if found is not None else "")
            predicted_pairs.append(dict((found._.theme_polarity or {}) if found is not None else {}))
    if not gold_themes:
        return {"themes_micro_f": None, "themes_macro_f": None, "polarity_macro_f": None, "theme_polarity_f": None}
    labels = sorted({t for themes in gold_themes + predicted_themes for t in themes})
    themes = theme_metrics(theme_matrix(gold_themes, labels), theme_matrix(predicted_themes, labels), labels)
    present = [theme for theme in labels if any(theme in g for g in gold_themes)]
    macro = theme_metrics(theme_matrix(gold_themes, present), theme_matrix(predicted_themes, present), present)["macro_f1"]
    return {
        "themes_micro_f": themes["micro_f1"],
        "themes_macro_f": macro,
        "polarity_macro_f": polarity_metrics(gold_polarity, predicted_polarity, sorted(set(gold_polarity)))["macro_f1"],
        "theme_polarity_f": pair_metrics(gold_pairs, predicted_pairs)["f1"],
    }


@registry.scorers("ofsted.theme_scorer.v1")
def make_theme_scorer():
    return score_findings
