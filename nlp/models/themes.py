"""Multi-label theme classifier with calibrated probabilities and per-theme decision thresholds."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from ..lexicon import THEME_CUES, broad_cues, compile_cues, specific_cues
from ._cv import inner_splits, rows_of
from .text_features import (
    fit_text_features,
    make_text_features,
    pool_max,
    pool_sum,
    sentences_of,
    transform,
)

_THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.025), 3)
# Intercept of a theme without positive examples in the training data: it stays off.
_ABSENT_INTERCEPT = -10.0


class ThemeClassifier(ClassifierMixin, BaseEstimator):
    """One linear SVM per theme over word and character TF-IDF, read per finding and per sentence.

    A summary paragraph can give one sentence to each of five themes; over the whole paragraph each
    theme's words are diluted by the others. So every theme gets two decision values: the linear
    model applied to the whole finding and its maximum over the finding's sentences. With `cues`,
    two counts join them: matches of the theme's *specific* and *broad* cue words (for the default
    taxonomy, those of the schema lexicon `nlp.lexicon`; for another, the cue words its taxonomy
    file lists, as specific cues). A per-theme logistic regression (Platt scaling with
    several inputs), fitted on out-of-fold decision values, turns them into a calibrated
    probability.

    Each theme's decision threshold maximises F1 on those out-of-fold probabilities and is shrunk
    towards the one global threshold that maximises micro-F1, by `threshold_shrinkage` pseudo
    positives: rare themes are not silenced by a global 0.5, and the thresholds of themes with few
    examples do not chase noise.

    Parameters
    ----------
    labels : sequence of str, optional
        Theme ids, in the column order of `Y` (default: the column numbers, as strings).
    cues : dict of str to tuple of (str, str), optional
        Per theme id, the regular expressions of its specific and broad cues ("" for none). Themes
        left out, and every theme when None, have no cue features. The patterns are copied into
        the fitted model (`cues_`), so later edits of a lexicon do not change what a saved model does.
    C : float
        Inverse regularisation strength of each linear SVM.
    word_ngram_range, char_ngram_range : tuple of int
        N-gram ranges of the word and character TF-IDF features.
    min_df : int
        Minimum document frequency of an n-gram.
    inner_folds : int
        Folds used to produce the out-of-fold decisions for calibration and thresholds.
    sentence_pooling : bool
        Whether the calibration also reads the best sentence's decision value.
    threshold_shrinkage : float
        Weight, in positive examples, of the global threshold in each theme's threshold.
    random_state : int
        Seed of the fold shuffling when no groups are given and of the SVM solver.

    Attributes
    ----------
    classes_ : ndarray of str
        The theme ids.
    features_ : FeatureUnion
        The fitted vectorizers.
    coef_ : ndarray of shape (n_themes, n_features)
    intercept_ : ndarray of shape (n_themes,)
    cues_ : dict of str to tuple of (str, str)
        Per theme, the regular expressions of its specific and broad cues ("" for none).
    calibration_ : ndarray of shape (n_themes, 5)
        Per theme, the weights of the finding's decision value, the best sentence's decision
        value, the specific and the broad cue counts (log1p), and the intercept of the calibrating
        logistic regression. Inputs that are switched off have weight 0.
    thresholds_ : ndarray of shape (n_themes,)
        Decision threshold on the calibrated probability, per theme.
    """

    def __init__(
        self,
        labels: Sequence[str] | None = None,
        cues: dict[str, tuple[str, str]] | None = None,
        C: float = 1.0,
        word_ngram_range: tuple[int, int] = (1, 3),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int = 2,
        inner_folds: int = 5,
        sentence_pooling: bool = True,
        threshold_shrinkage: float = 50.0,
        random_state: int = 0,
    ) -> None:
        self.labels = labels
        self.cues = cues
        self.C = C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.inner_folds = inner_folds
        self.sentence_pooling = sentence_pooling
        self.threshold_shrinkage = threshold_shrinkage
        self.random_state = random_state

    def fit(self, X: Sequence[str], Y: np.ndarray, groups: Sequence | None = None) -> ThemeClassifier:
        """Fit on texts and a binary indicator matrix.

        Parameters
        ----------
        X : sequence of str
            Finding texts.
        Y : array-like of shape (n_samples, n_themes)
            1 where the finding has the theme of that column.
        groups : sequence, optional
            Group of each sample (e.g. local authority) for the inner folds; keeps calibration and
            thresholds honest about unseen authorities.

        Returns
        -------
        self : ThemeClassifier
        """
        Y = np.asarray(Y, dtype=int)
        labels = [str(j) for j in range(Y.shape[1])] if self.labels is None and Y.ndim == 2 else self.labels
        if Y.ndim != 2 or Y.shape[1] != len(labels):
            raise ValueError(f"Y must be an indicator matrix with {len(labels)} columns, one per theme; got {Y.shape}.")
        X = list(X)
        self.classes_ = np.asarray(labels)
        self.cues_ = {str(theme): tuple((self.cues or {})[theme]) for theme in self.classes_ if theme in (self.cues or {})}
        self.features_ = make_text_features(self.word_ngram_range, self.char_ngram_range, self.min_df)
        documents = fit_text_features(self.features_, X)
        sentences, owner = sentences_of(X)
        cues = np.log1p(pool_sum(self._cue_counts(sentences), owner, len(X)))
        several = _in_longer_texts(owner, len(X)) & self.sentence_pooling
        sentence_rows = transform(self.features_, [s for s, keep in zip(sentences, several) if keep])
        owner = owner[several]
        coef, self.intercept_ = self._fit_linear(documents, Y)
        # Single precision halves the saved model; decisions move by less than 1e-6.
        self.coef_ = coef.astype(np.float32)

        whole, best = np.zeros(Y.shape), np.zeros(Y.shape)
        for train, test in inner_splits(len(X), self.inner_folds, groups, self.random_state):
            coef, intercept = self._fit_linear(documents[train], Y[train])
            mine, owner_in_test = rows_of(owner, test, len(X))
            whole[test] = documents[test] @ coef.T + intercept
            best[test] = _pool(whole[test], sentence_rows[mine] @ coef.T + intercept, owner_in_test)
        inputs = self._calibration_inputs(whole, best, cues)
        self.calibration_ = np.array([_calibrate(inputs[:, j], Y[:, j]) for j in range(Y.shape[1])])
        self.thresholds_ = shrunk_thresholds(self._probabilities(inputs), Y, self.threshold_shrinkage)
        return self

    # Model pieces -------------------------------------------------------------------------------

    def _fit_linear(self, features, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coef = np.zeros((Y.shape[1], features.shape[1]))
        intercept = np.full(Y.shape[1], _ABSENT_INTERCEPT)
        for j in range(Y.shape[1]):
            if 0 < Y[:, j].sum() < len(Y):
                model = LinearSVC(C=self.C, dual=True, max_iter=5000, random_state=self.random_state).fit(features, Y[:, j])
                coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
        return coef, intercept

    def _cue_counts(self, texts: list[str]) -> np.ndarray:
        """Matches of each theme's specific and broad cues in each text, shape (n_texts, n_themes, 2)."""
        counts = np.zeros((len(texts), len(self.classes_), 2))
        for j, theme in enumerate(self.classes_):
            for tier, pattern in enumerate(self.cues_.get(theme, ("", ""))):
                if pattern:
                    compiled = re.compile(pattern, re.IGNORECASE)
                    counts[:, j, tier] = [len(compiled.findall(text)) for text in texts]
        return counts

    def _calibration_inputs(self, whole: np.ndarray, best: np.ndarray, cues: np.ndarray) -> np.ndarray:
        """Inputs of the calibrating regressions, shape (n_samples, n_themes, 4); unused ones are 0."""
        return np.concatenate(
            [whole[..., None], (best if self.sentence_pooling else np.zeros_like(best))[..., None], cues], axis=-1
        )

    def _probabilities(self, inputs: np.ndarray) -> np.ndarray:
        return _sigmoid(np.einsum("nkf,kf->nk", inputs, self.calibration_[:, :-1]) + self.calibration_[:, -1])

    # Prediction ---------------------------------------------------------------------------------

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """Decision value of each theme's linear model on each whole text, shape (n_samples, n_themes)."""
        check_is_fitted(self, "coef_")
        return transform(self.features_, list(X)) @ self.coef_.T + self.intercept_

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated probability of each theme, shape (n_samples, n_themes)."""
        return self.predict_proba_with_sentences(X)[0]

    def predict_proba_with_sentences(self, X: Sequence[str]) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
        """Calibrated theme probabilities of each text and of each of its sentences, in one pass.

        A sentence's probability is the one `predict_proba` would give it as a text of its own.

        Parameters
        ----------
        X : sequence of str

        Returns
        -------
        probabilities : ndarray of shape (n_samples, n_themes)
        sentences : list of str
            The sentences of all texts, in order (see `text_features.sentences_of`).
        owner : ndarray of int, shape (n_sentences,)
            Index of the text each sentence belongs to.
        sentence_probabilities : ndarray of shape (n_sentences, n_themes)
        """
        check_is_fitted(self, "coef_")
        X = list(X)
        whole = transform(self.features_, X) @ self.coef_.T + self.intercept_
        sentences, owner = sentences_of(X)
        sentence_cues = self._cue_counts(sentences)
        several = _in_longer_texts(owner, len(X))
        sentence_decisions = whole[owner]
        rows = transform(self.features_, [s for s, keep in zip(sentences, several) if keep])
        sentence_decisions[several] = rows @ self.coef_.T + self.intercept_
        best = _pool(whole, sentence_decisions[several], owner[several])
        probabilities = self._probabilities(
            self._calibration_inputs(whole, best, np.log1p(pool_sum(sentence_cues, owner, len(X))))
        )
        sentence_probabilities = self._probabilities(
            self._calibration_inputs(sentence_decisions, sentence_decisions, np.log1p(sentence_cues))
        )
        return probabilities, sentences, owner, sentence_probabilities

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """Binary indicator matrix using each theme's tuned threshold."""
        return (self.predict_proba(X) >= self.thresholds_).astype(int)

    def word_contributions(self, X: Sequence[str], chosen: np.ndarray, top: int = 5) -> list[dict[int, list[str]]]:
        """The word n-grams of each text that pushed hardest towards each of its chosen themes.

        Parameters
        ----------
        X : sequence of str
        chosen : ndarray of bool, shape (n_samples, n_themes)
            The themes to explain for each text.
        top : int
            N-grams per theme, strongest first; only those that pushed towards the theme.

        Returns
        -------
        list of dict of int to list of str
            Per text, theme column -> n-grams.
        """
        check_is_fitted(self, "coef_")
        words = self.features_.transformer_list[0][1]  # the first block of the union: its columns come first
        rows = words.transform(list(X)).tocsr()
        names = words.get_feature_names_out()
        explained = []
        for i, row in enumerate(rows):
            columns, weights = row.indices, row.data
            per_theme = {}
            for j in np.flatnonzero(chosen[i]):
                contributions = weights * self.coef_[j, columns]
                order = np.argsort(-contributions, kind="stable")[:top]
                per_theme[int(j)] = [str(names[columns[k]]) for k in order if contributions[k] > 0]
            explained.append(per_theme)
        return explained


def lexicon_cues() -> dict[str, tuple[str, str]]:
    """The regular expressions of each default-taxonomy theme's specific and broad cues in `nlp.lexicon`
    ("" for none): the `cues` of a `ThemeClassifier` for the default taxonomy."""
    return {
        theme: tuple(compile_cues(cues).pattern if cues else "" for cues in (specific_cues(theme), broad_cues(theme)))
        for theme in THEME_CUES
    }


def _in_longer_texts(owner: np.ndarray, n_texts: int) -> np.ndarray:
    """Which sentences belong to a text of several sentences (a one-sentence text is its own sentence)."""
    return np.bincount(owner, minlength=n_texts)[owner] > 1


def _pool(whole: np.ndarray, sentence_decisions: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Each text's best sentence decision; a text without sentence rows keeps its whole decision."""
    best = whole.copy()
    if len(owner):
        pooled = pool_max(sentence_decisions, owner, len(whole))
        several = np.bincount(owner, minlength=len(whole)) > 0
        best[several] = pooled[several]
    return best


def _calibrate(inputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Weights and intercept of the logistic regression from calibration inputs to probability."""
    if labels.min() == labels.max():
        return np.r_[1.0, np.zeros(inputs.shape[1])]
    model = LogisticRegression(C=100.0).fit(inputs, labels)
    return np.r_[model.coef_[0], model.intercept_]


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -35, 35)))


def _f1_at(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    predicted = probabilities >= threshold
    return 2 * np.sum(predicted & (labels == 1)) / max(predicted.sum() + labels.sum(), 1)


def shrunk_thresholds(probabilities: np.ndarray, Y: np.ndarray, shrinkage: float) -> np.ndarray:
    """Per-theme F1-optimal thresholds pulled towards the micro-F1-optimal global threshold."""
    pooled = max(_THRESHOLD_GRID, key=lambda t: _f1_at(probabilities, Y, t))
    positives = Y.sum(axis=0)
    thresholds = np.full(Y.shape[1], float(pooled))
    for j in np.flatnonzero(positives >= 2):
        best = max(_THRESHOLD_GRID, key=lambda t: _f1_at(probabilities[:, j], Y[:, j], t))
        thresholds[j] = (positives[j] * best + shrinkage * pooled) / (positives[j] + shrinkage)
    return thresholds
