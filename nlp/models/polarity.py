"""Polarity classifier: strength / weakness / mixed / neutral from a text."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from ..taxonomy import POLARITIES
from .text_features import make_text_features


class PolarityClassifier(ClassifierMixin, BaseEstimator):
    """A multinomial logistic regression over word (1-3) and character TF-IDF.

    Word trigrams matter here: the cues of the schema's hard cases are phrases ("not always",
    "not yet consistent", "the large majority"). Classes are weighted by inverse frequency because
    `mixed` and `neutral` are rare but count as much as the others in macro-F1.

    Parameters
    ----------
    labels : sequence of str
        Polarity values.
    C : float
        Inverse regularisation strength.
    word_ngram_range, char_ngram_range : tuple of int
    min_df : int

    Attributes
    ----------
    classes_ : ndarray of str
    features_ : FeatureUnion
    model_ : LogisticRegression
    """

    def __init__(
        self,
        labels: Sequence[str] = POLARITIES,
        C: float = 10.0,
        word_ngram_range: tuple[int, int] = (1, 3),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int = 2,
    ) -> None:
        self.labels = labels
        self.C = C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df

    def fit(self, X: Sequence[str], y: Sequence[str]) -> PolarityClassifier:
        unknown = set(y) - set(self.labels)
        if unknown:
            raise ValueError(f"unknown polarity values {sorted(unknown)}; expected {list(self.labels)}.")
        self.features_ = make_text_features(self.word_ngram_range, self.char_ngram_range, self.min_df)
        features = self.features_.fit_transform(list(X))
        self.model_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000)
        self.model_.fit(features, list(y))
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(self.features_.transform(list(X)))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
