"""Multi-label theme classifier with calibrated probabilities and per-theme decision thresholds."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.validation import check_is_fitted

from ..taxonomy import THEME_IDS
from .text_features import make_text_features

_THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.025), 3)


class ThemeClassifier(ClassifierMixin, BaseEstimator):
    """One linear model per theme over word and character TF-IDF.

    Probabilities are calibrated with Platt scaling fitted on out-of-fold decision values, and each
    theme's decision threshold is the one that maximised F1 on those same out-of-fold predictions,
    so rare themes are not silenced by a global 0.5.

    Parameters
    ----------
    labels : sequence of str
        Theme ids, in the column order of `Y`.
    C : float
        Inverse regularisation strength of each logistic regression.
    word_ngram_range, char_ngram_range : tuple of int
        N-gram ranges of the word and character TF-IDF features.
    min_df : int
        Minimum document frequency of an n-gram.
    inner_folds : int
        Folds used to produce the out-of-fold predictions for calibration and thresholds.
    random_state : int
        Seed of the fold shuffling when no groups are given.

    Attributes
    ----------
    classes_ : ndarray of str
        The theme ids.
    features_ : FeatureUnion
        The fitted vectorizers.
    coef_ : ndarray of shape (n_themes, n_features)
    intercept_ : ndarray of shape (n_themes,)
    calibration_ : ndarray of shape (n_themes, 2)
        Platt scaling slope and intercept per theme.
    thresholds_ : ndarray of shape (n_themes,)
        Decision threshold on the calibrated probability, per theme.
    """

    def __init__(
        self,
        labels: Sequence[str] = THEME_IDS,
        C: float = 8.0,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int = 2,
        inner_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.labels = labels
        self.C = C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.inner_folds = inner_folds
        self.random_state = random_state

    def fit(self, X: Sequence[str], Y: np.ndarray, groups: Sequence | None = None) -> ThemeClassifier:
        """Fit on texts `X` and a binary indicator matrix `Y` (n_samples, n_themes).

        groups : sequence, optional
            Group of each sample (e.g. local authority) for the inner folds; keeps calibration and
            thresholds honest about unseen authorities.
        """
        Y = np.asarray(Y, dtype=int)
        if Y.ndim != 2 or Y.shape[1] != len(self.labels):
            raise ValueError(f"Y must be an indicator matrix with {len(self.labels)} columns, one per theme; got {Y.shape}.")
        self.classes_ = np.asarray(self.labels)
        self.features_ = make_text_features(self.word_ngram_range, self.char_ngram_range, self.min_df)
        features = self.features_.fit_transform(list(X))
        self.coef_, self.intercept_ = self._fit_linear(features, Y)
        out_of_fold = self._out_of_fold_decisions(features, Y, groups)
        self.calibration_ = np.array([_platt(out_of_fold[:, j], Y[:, j]) for j in range(Y.shape[1])])
        calibrated = _sigmoid(out_of_fold * self.calibration_[:, 0] + self.calibration_[:, 1])
        self.thresholds_ = np.array([_best_threshold(calibrated[:, j], Y[:, j]) for j in range(Y.shape[1])])
        return self

    def _fit_linear(self, features, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coef = np.zeros((Y.shape[1], features.shape[1]))
        intercept = np.full(Y.shape[1], -10.0)  # a theme never seen stays off
        for j in range(Y.shape[1]):
            if 0 < Y[:, j].sum() < len(Y):
                model = LogisticRegression(C=self.C, solver="liblinear", max_iter=1000)
                model.fit(features, Y[:, j])
                coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
        return coef, intercept

    def _out_of_fold_decisions(self, features, Y: np.ndarray, groups) -> np.ndarray:
        if groups is not None and len(set(groups)) >= self.inner_folds:
            splits = GroupKFold(n_splits=self.inner_folds).split(features, groups=groups)
        else:
            splits = KFold(self.inner_folds, shuffle=True, random_state=self.random_state).split(features)
        decisions = np.zeros(Y.shape, dtype=float)
        for train, test in splits:
            coef, intercept = self._fit_linear(features[train], Y[train])
            decisions[test] = features[test] @ coef.T + intercept
        return decisions

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return self.features_.transform(list(X)) @ self.coef_.T + self.intercept_

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated probability of each theme, shape (n_samples, n_themes)."""
        return _sigmoid(self.decision_function(X) * self.calibration_[:, 0] + self.calibration_[:, 1])

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """Binary indicator matrix using each theme's tuned threshold."""
        return (self.predict_proba(X) >= self.thresholds_).astype(int)

    def word_contributions(self, text: str, theme_index: int, top: int = 5) -> list[str]:
        """The word n-grams of `text` that pushed hardest towards theme `theme_index`."""
        check_is_fitted(self, "coef_")
        words = self.features_.transformer_list[0][1]
        vector = words.transform([text])
        columns = vector.indices
        contributions = vector.data * self.coef_[theme_index, columns]
        order = np.argsort(-contributions)[:top]
        names = words.get_feature_names_out()
        return [str(names[columns[i]]) for i in order if contributions[i] > 0]


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -35, 35)))


def _platt(decisions: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Slope and intercept mapping decision values to calibrated probabilities."""
    if labels.min() == labels.max():
        return 1.0, 0.0
    model = LogisticRegression(C=1e4, solver="lbfgs")
    model.fit(decisions.reshape(-1, 1), labels)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _best_threshold(probabilities: np.ndarray, labels: np.ndarray) -> float:
    if labels.sum() < 2:
        return 0.5
    best, best_f1 = 0.5, -1.0
    for threshold in _THRESHOLD_GRID:
        predicted = probabilities >= threshold
        true_positive = np.sum(predicted & (labels == 1))
        f1 = 2 * true_positive / (predicted.sum() + labels.sum())
        if f1 > best_f1:
            best, best_f1 = float(threshold), f1
    return best
