"""Honest evaluation: cross-validation grouped by local authority, next to a keyword baseline.

No local authority is in both the training and the test folds, so every figure says how the model
does on an authority it has never read, which is what the held-back evaluation measures.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold

from nlp.models import FindingClassifier, FindingLabels
from nlp.taxonomy import POLARITIES, THEME_IDS
from nlp.lexicon import CONTRAST_PATTERN, STRENGTH_PATTERN, THEME_PATTERNS, WEAKNESS_PATTERN

CALIBRATION_BINS = 10


def theme_matrix(theme_lists: Sequence[Sequence[str]]) -> np.ndarray:
    return np.array([[theme in themes for theme in THEME_IDS] for themes in theme_lists], dtype=int).reshape(-1, len(THEME_IDS))


def grouped_cross_validation(
    records: list[dict], make_model: Callable[[], FindingClassifier], folds: int = 5
) -> list[FindingLabels]:
    """Out-of-fold predictions for every record, folds grouped by `local_authority`."""
    texts = [r["text"] for r in records]
    groups = [r["local_authority"] for r in records]
    Y = theme_matrix([r["themes"] for r in records])
    predictions: list[FindingLabels | None] = [None] * len(records)
    for train, test in GroupKFold(n_splits=folds).split(texts, groups=groups):
        model = make_model().fit(
            [texts[i] for i in train],
            Y[train],
            [records[i]["polarity"] for i in train],
            [records[i]["theme_polarity"] for i in train],
            [groups[i] for i in train],
        )
        for i, labels in zip(test, model.predict([texts[i] for i in test], with_evidence=False)):
            predictions[i] = labels
    return predictions  # type: ignore[return-value]


def keyword_baseline(texts: Sequence[str]) -> list[FindingLabels]:
    """The schema's words as rules: a theme when one of its cues occurs; polarity from cue counts."""
    results = []
    for text in texts:
        themes = [theme for theme, pattern in THEME_PATTERNS.items() if pattern.search(text)]
        strengths, weaknesses = len(STRENGTH_PATTERN.findall(text)), len(WEAKNESS_PATTERN.findall(text))
        if strengths and weaknesses and CONTRAST_PATTERN.search(text):
            polarity = "mixed"
        elif strengths > weaknesses:
            polarity = "strength"
        elif weaknesses:
            polarity = "weakness"
        else:
            polarity = "neutral"
        results.append(
            FindingLabels(
                themes=themes,
                polarity=polarity,
                theme_polarity={theme: polarity for theme in themes},
                scores={theme: float(theme in themes) for theme in THEME_IDS},
            )
        )
    return results


def theme_metrics(gold: np.ndarray, predicted: np.ndarray) -> dict:
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, zero_division=0)
    return {
        "micro_f1": round(float(f1_score(gold, predicted, average="micro", zero_division=0)), 3),
        "macro_f1": round(float(f1_score(gold, predicted, average="macro", zero_division=0)), 3),
        "per_theme": {
            theme: {"precision": round(float(p), 3), "recall": round(float(r), 3), "f1": round(float(f), 3), "support": int(s)}
            for theme, p, r, f, s in zip(THEME_IDS, precision, recall, f1, support)
        },
    }


def polarity_metrics(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    labels = list(POLARITIES)
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    return {
        "macro_f1": round(float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)), 3),
        "accuracy": round(float(np.mean([g == p for g, p in zip(gold, predicted)])), 3),
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
    """Weighted mean |observed rate - mean probability| over equal-width probability bins, all themes pooled."""
    probabilities, gold = probabilities.ravel(), gold.ravel()
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(gold[members].mean() - probabilities[members].mean())
    return round(float(error), 4)


def evaluate(records: list[dict], predictions: list[FindingLabels], with_calibration: bool = True) -> dict:
    gold_themes = theme_matrix([r["themes"] for r in records])
    predicted_themes = theme_matrix([p.themes for p in predictions])
    result = {
        "findings": len(records),
        "themes": theme_metrics(gold_themes, predicted_themes),
        "polarity": polarity_metrics([r["polarity"] for r in records], [p.polarity for p in predictions]),
        "theme_polarity_pairs": pair_metrics([r["theme_polarity"] for r in records], [p.theme_polarity for p in predictions]),
    }
    if with_calibration:
        probabilities = np.array([[p.scores[theme] for theme in THEME_IDS] for p in predictions])
        result["calibration_error"] = expected_calibration_error(gold_themes, probabilities)
    return result


def folds_summary(records: list[dict], folds: int) -> dict:
    authorities = Counter(r["local_authority"] for r in records)
    return {"folds": folds, "grouped_by": "local_authority", "authorities": len(authorities)}
