"""Honest evaluation: cross-validation grouped by local authority, next to a keyword baseline.

No local authority is in both the training and the test folds, so every figure says how the model
does on an authority it has never read, which is what the held-back evaluation measures.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

import numpy as np
from sklearn.model_selection import GroupKFold

from nlp.models import FindingClassifier, FindingLabels
from nlp.scoring import calibration_errors, pair_metrics, polarity_metrics, theme_matrix, theme_metrics
from nlp.taxonomy import THEME_IDS
from nlp.lexicon import CONTRAST_PATTERN, STRENGTH_PATTERN, THEME_PATTERNS, WEAKNESS_PATTERN


def grouped_folds(records: list[dict], folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train and test indices of the folds every step of a run uses: no authority in both."""
    groups = [r["local_authority"] for r in records]
    return list(GroupKFold(n_splits=folds).split(np.zeros((len(records), 1)), groups=groups))


def grouped_cross_validation(
    records: list[dict],
    make_model: Callable[[], FindingClassifier],
    folds: int = 5,
    on_fold: Callable[[FindingClassifier, np.ndarray], None] | None = None,
) -> list[FindingLabels]:
    """Out-of-fold predictions for every record, folds grouped by `local_authority`.

    on_fold (Callable | None): called with each fold's fitted model and its test indices, e.g. to
        keep other out-of-fold scores of the same fits.
    """
    texts = [r["text"] for r in records]
    groups = [r["local_authority"] for r in records]
    Y = theme_matrix([r["themes"] for r in records])
    predictions: list[FindingLabels | None] = [None] * len(records)
    for train, test in grouped_folds(records, folds):
        model = make_model().fit(
            [texts[i] for i in train],
            Y[train],
            [records[i]["polarity"] for i in train],
            [records[i]["theme_polarity"] for i in train],
            [groups[i] for i in train],
        )
        for i, labels in zip(test, model.predict([texts[i] for i in test], with_evidence=False)):
            predictions[i] = labels
        if on_fold is not None:
            on_fold(model, test)
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


def evaluate(
    records: list[dict],
    predictions: list[FindingLabels],
    with_calibration: bool = True,
    probabilities: np.ndarray | None = None,
) -> dict:
    """Theme, polarity, pair and calibration figures of predictions against gold records.

    probabilities (ndarray | None): the theme probabilities behind the predictions, unrounded;
        default: the predictions' `scores`.
    """
    gold_themes = theme_matrix([r["themes"] for r in records])
    predicted_themes = theme_matrix([p.themes for p in predictions])
    result = {
        "findings": len(records),
        "themes": theme_metrics(gold_themes, predicted_themes),
        "polarity": polarity_metrics([r["polarity"] for r in records], [p.polarity for p in predictions]),
        "theme_polarity_pairs": pair_metrics([r["theme_polarity"] for r in records], [p.theme_polarity for p in predictions]),
    }
    if with_calibration:
        if probabilities is None:
            probabilities = np.array([[p.scores[theme] for theme in THEME_IDS] for p in predictions])
        result["calibration_error"] = calibration_errors(gold_themes, probabilities)
    samples = sorted({r["drawn"] for r in records if r.get("drawn")})
    if len(samples) > 1:
        # Gold mixes samples drawn differently (ANNOTATION.md §10): figures of each, apart.
        result["by_sample"] = {}
        for sample in samples:
            rows = [i for i, r in enumerate(records) if r.get("drawn") == sample]
            result["by_sample"][sample] = evaluate(
                [records[i] for i in rows],
                [predictions[i] for i in rows],
                with_calibration,
                None if probabilities is None else probabilities[rows],
            )
    return result


def folds_summary(records: list[dict], folds: int) -> dict:
    authorities = Counter(r["local_authority"] for r in records)
    return {"folds": folds, "grouped_by": "local_authority", "authorities": len(authorities)}
