"""Polarity classifier: strength / weakness / mixed / neutral from a text."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ..lexicon import FIGURE, IMPERATIVE_OPENING
from ..taxonomy import POLARITIES
from ._cv import inner_splits, rows_of
from .text_features import (
    fit_text_features,
    make_text_features,
    pool_max,
    pool_mean,
    sentences_of,
    transform,
)

STRENGTH, WEAKNESS = "strength", "weakness"
# The polarity that means "both": its sentences carry no single verdict, so they do not teach the
# sentence model, which learns the others.
MIXED = "mixed"
# Words that turn a paragraph from one verdict to the other.
CONTRAST = re.compile(r"\b(however|although|though|but|while|whilst|despite|nevertheless|yet|except)\b", re.IGNORECASE)
# Intercept of a class without examples in the training data: its probability stays near zero.
_ABSENT_INTERCEPT = -10.0


class PolarityClassifier(ClassifierMixin, BaseEstimator):
    """A stack of a whole-text model and a sentence model under a small multinomial regression.

    - The *text model* is one class-weighted logistic regression per polarity (one-vs-rest) over
      word (1-3) and character TF-IDF. Word trigrams matter: the cues of the schema's hard cases
      are phrases ("not always", "not yet consistent", "the large majority").
    - The *sentence model* reads single sentences. It learns from the sentences of findings with
      one verdict (each sentence taking its finding's polarity) and tells, for every sentence of a
      new text, how much it reads as strength, weakness or neutral.
    - The *stack* is a multinomial logistic regression over the text model's log-probabilities and
      summaries of the sentence model's output: per polarity, the maximum, mean and share of
      sentences above 0.5 and the first and last sentence's probabilities; the lower of the
      strongest strength and the strongest weakness sentence, which is high when the two verdicts
      meet; how often the dominant verdict turns between consecutive sentences; the number of
      sentences and of contrast words ("however", "although"...). `mixed` is mostly recognised
      here: a strong sentence and a weak one in the same finding. With `cue_features`, two cue
      counts from the schema lexicon (`nlp.lexicon`) join them: an imperative opening
      (recommendations are weaknesses) and figures (what neutral context is made of).

    The stack learns from out-of-fold outputs of the text and sentence models (inner folds grouped
    when groups are given), then those two models are refitted on all the data.

    Parameters
    ----------
    labels : sequence of str
        Polarity values.
    C : float
        Inverse regularisation strength of the text model.
    sentence_C : float
        Inverse regularisation strength of the sentence model.
    stack_C : float
        Inverse regularisation strength of the stack (on standardised inputs).
    word_ngram_range, char_ngram_range : tuple of int
        N-gram ranges of the word and character TF-IDF features.
    min_df : int
        Minimum document frequency of an n-gram.
    inner_folds : int
        Folds of the out-of-fold outputs the stack learns from.
    cue_features : bool
        Whether the stack also reads the lexicon cue counts. The patterns are copied into the
        fitted model (`cues_`), so later edits of the lexicon do not change what a saved model does.
    random_state : int
        Seed of the fold shuffling when no groups are given and of the linear solvers.

    Attributes
    ----------
    classes_ : ndarray of str
        The polarity values seen in training, in the order of `predict_proba`'s columns.
    features_ : FeatureUnion
        The fitted vectorizers.
    text_coef_ : ndarray of shape (n_labels, n_features)
    text_intercept_ : ndarray of shape (n_labels,)
        The text model, one row per value of `labels`.
    sentence_labels_ : ndarray of str
        The polarities the sentence model tells apart (`labels` without `mixed`).
    sentence_coef_ : ndarray of shape (n_sentence_labels, n_features)
    sentence_intercept_ : ndarray of shape (n_sentence_labels,)
    cues_ : dict of str to str
        Name and regular expression of each lexicon cue the stack reads (empty without cues).
    stack_ : Pipeline
        Standardisation and the multinomial logistic regression.
    """

    def __init__(
        self,
        labels: Sequence[str] = POLARITIES,
        C: float = 3.0,
        sentence_C: float = 1.0,
        stack_C: float = 0.3,
        word_ngram_range: tuple[int, int] = (1, 3),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int = 2,
        inner_folds: int = 5,
        cue_features: bool = True,
        random_state: int = 0,
    ) -> None:
        self.labels = labels
        self.C = C
        self.sentence_C = sentence_C
        self.stack_C = stack_C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.inner_folds = inner_folds
        self.cue_features = cue_features
        self.random_state = random_state

    def fit(self, X: Sequence[str], y: Sequence[str], groups: Sequence | None = None) -> PolarityClassifier:
        """Fit on texts and their polarities.

        Parameters
        ----------
        X : sequence of str
        y : sequence of str
            Polarity of each text, one of `labels`.
        groups : sequence, optional
            Group of each sample (e.g. local authority) for the inner folds.

        Returns
        -------
        self : PolarityClassifier
        """
        y = np.asarray(list(y), dtype=str)
        unknown = set(y) - set(self.labels)
        if unknown:
            raise ValueError(f"unknown polarity values {sorted(unknown)}; expected {list(self.labels)}.")
        X = list(X)
        self.sentence_labels_ = np.asarray([label for label in self.labels if label != MIXED])
        self.features_ = make_text_features(self.word_ngram_range, self.char_ngram_range, self.min_df)
        texts = fit_text_features(self.features_, X)
        sentence_texts, owner = sentences_of(X)
        sentences = transform(self.features_, sentence_texts)

        self.cues_ = {"imperative": IMPERATIVE_OPENING.pattern, "figures": FIGURE.pattern} if self.cue_features else {}
        stack_inputs = None
        for train, test in inner_splits(len(X), self.inner_folds, groups, self.random_state):
            text_model = self._fit_text_model(texts[train], y[train])
            sentence_model = self._fit_sentence_model(sentences, owner, train, y)
            in_test, owner_in_test = rows_of(owner, test, len(X))
            inputs = self._stack_inputs(
                [X[i] for i in test], texts[test], sentences[in_test], owner_in_test, text_model, sentence_model
            )
            if stack_inputs is None:
                stack_inputs = np.zeros((len(X), inputs.shape[1]))
            stack_inputs[test] = inputs
        text_coef, self.text_intercept_ = self._fit_text_model(texts, y)
        sentence_coef, self.sentence_intercept_ = self._fit_sentence_model(sentences, owner, np.arange(len(X)), y)
        # Single precision halves the saved model; probabilities move by less than 1e-6.
        self.text_coef_, self.sentence_coef_ = text_coef.astype(np.float32), sentence_coef.astype(np.float32)
        self.stack_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.stack_C, max_iter=5000))
        self.stack_.fit(stack_inputs, y)
        self.classes_ = self.stack_.classes_
        return self

    # Model pieces -------------------------------------------------------------------------------

    def _fit_one_vs_rest(self, features, y: np.ndarray, labels: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray]:
        coef = np.zeros((len(labels), features.shape[1]))
        intercept = np.full(len(labels), _ABSENT_INTERCEPT)
        for k, label in enumerate(labels):
            target = y == label
            if 0 < target.sum() < len(y):
                model = LogisticRegression(
                    C=C, solver="liblinear", dual=True, class_weight="balanced", max_iter=5000, random_state=self.random_state
                ).fit(features, target)
                coef[k], intercept[k] = model.coef_[0], model.intercept_[0]
        return coef, intercept

    def _fit_text_model(self, texts, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._fit_one_vs_rest(texts, y, np.asarray(self.labels), self.C)

    def _fit_sentence_model(self, sentences, owner: np.ndarray, rows: np.ndarray, y: np.ndarray):
        """The sentence model on the sentences of texts `rows` whose polarity is a single verdict."""
        sentence_y = y[owner]
        keep = np.isin(owner, rows) & np.isin(sentence_y, self.sentence_labels_)
        return self._fit_one_vs_rest(sentences[keep], sentence_y[keep], self.sentence_labels_, self.sentence_C)

    def _stack_inputs(self, X, texts, sentences, owner, text_model, sentence_model) -> np.ndarray:
        """Stack features of texts `X` given their TF-IDF rows, their sentences' rows and owners."""
        n_texts, n_sentences = len(X), np.bincount(owner, minlength=len(X))
        text_probabilities = _one_vs_rest_probabilities(texts, *text_model)
        sentence_probabilities = _one_vs_rest_probabilities(sentences, *sentence_model)
        maxima = pool_max(sentence_probabilities, owner, n_texts)
        verdicts = [list(self.sentence_labels_).index(label) for label in (STRENGTH, WEAKNESS) if label in self.sentence_labels_]
        both = maxima[:, verdicts].min(axis=1) if len(verdicts) == 2 else np.zeros(n_texts)
        first = np.r_[True, owner[1:] != owner[:-1]]
        last = np.r_[owner[1:] != owner[:-1], True]
        dominant = sentence_probabilities.argmax(axis=1)
        turns = np.bincount(owner[1:][~first[1:]], weights=dominant[1:][~first[1:]] != dominant[:-1][~first[1:]], minlength=n_texts)
        cues = [[len(re.findall(pattern, text, re.IGNORECASE)) for pattern in self.cues_.values()] for text in X]
        return np.column_stack(
            [
                np.log(text_probabilities + 1e-4),
                maxima,
                pool_mean(sentence_probabilities, owner, n_texts),
                pool_mean((sentence_probabilities > 0.5).astype(float), owner, n_texts),
                both,
                sentence_probabilities[first],
                sentence_probabilities[last],
                turns,
                np.log1p(n_sentences),
                [len(CONTRAST.findall(text)) for text in X],
                np.log1p(np.asarray(cues, dtype=float).reshape(n_texts, len(self.cues_))),
            ]
        )

    # Prediction ---------------------------------------------------------------------------------

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Probability of each polarity, columns in the order of `classes_`."""
        check_is_fitted(self, "stack_")
        X = list(X)
        if not X:
            return np.zeros((0, len(self.classes_)))
        sentence_texts, owner = sentences_of(X)
        inputs = self._stack_inputs(
            X,
            transform(self.features_, X),
            transform(self.features_, sentence_texts),
            owner,
            (self.text_coef_, self.text_intercept_),
            (self.sentence_coef_, self.sentence_intercept_),
        )
        return self.stack_.predict_proba(inputs)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """The most probable polarity of each text."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _one_vs_rest_probabilities(features, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Per-class logistic probabilities normalised to sum to one, as one-vs-rest models do."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(features @ coef.T + intercept, -35, 35)))
    return scores / np.maximum(scores.sum(axis=1, keepdims=True), 1e-12)
