"""The last step of the accurate model: from encoder (and second-opinion) scores to calibrated labels.

The fine-tuned encoder reads polarity well and themes fairly; a word n-gram model (the fast model
learnt from the gold alone; the n-gram `FindingClassifier` before 0.4.0), its second opinion, reads
themes well. `FindingStacker` learns, from out-of-fold scores of both (each gold finding scored by
models that never saw its authority), how far to trust each:

- per theme, a logistic regression over the encoder's finding logit, its best sentence's logit and
  (with `ngram`) the log-odds of the second opinion: a calibrated probability, and a threshold that
  maximises F1 on the out-of-fold probabilities, shrunk towards the global one;
- finding polarity: a multinomial logistic regression over the encoder's polarity logits, the
  most positive and most negative of its sentences and (with `ngram_polarity`) the log of the
  second opinion's polarity probabilities, its classes weighted by `polarity_class_weight`;
- theme polarity: per `pair_strategy` (see `PAIR_STRATEGIES`). With "learned", inside a finding
  read as mixed, a multinomial logistic regression over the per-theme head's logits, the polarity of
  the finding's sentences about that theme (each sentence weighted by the softmax of its theme
  logit over the finding's sentences), and the finding's own polarity scores; it learns from the
  gold themes of the gold mixed findings, where about half of the pair errors were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ..taxonomy import POLARITY_VALUES
from .finding_classifier import FindingLabels
from .text_features import pool_max, pool_sum
from .themes import shrunk_thresholds

MIXED = "mixed"
# "copy": every theme gets the finding's polarity. "pair": the per-theme polarity head decides.
# "hybrid": copy, except in a finding read as mixed, where the per-theme head decides.
# "learned": copy, except in a finding read as mixed, where a regression over the per-theme head and
# the theme's sentences decides.
PAIR_STRATEGIES = ("copy", "pair", "hybrid", "learned")
_LOGIT_CLIP = 1e-4


@dataclass
class StackInputs:
    """Out-of-fold (training) or fresh (labelling) scores of a batch of findings.

    theme_logits (ndarray, (n, n_themes)): the encoder's theme logits of each finding.
    best_sentence_theme_logits (ndarray, (n, n_themes)): the highest sentence logit per theme.
    polarity_logits (ndarray, (n, n_polarities)); pair_logits (ndarray, (n, n_themes, n_polarities)).
    sentence_polarity_max, sentence_polarity_min (ndarray, (n, n_polarities)): over sentences.
    theme_sentence_polarity (ndarray, (n, n_themes, n_polarities)): per theme, the sentences'
        polarity logits averaged with weights softmax(sentence theme logit) over the finding's sentences.
    ngram_probabilities (ndarray, (n, n_themes) | None): the second opinion's theme probabilities.
    ngram_polarity_probabilities (ndarray, (n, n_polarities) | None): its polarity probabilities.
    """

    theme_logits: np.ndarray
    best_sentence_theme_logits: np.ndarray
    polarity_logits: np.ndarray
    pair_logits: np.ndarray
    sentence_polarity_max: np.ndarray
    sentence_polarity_min: np.ndarray
    theme_sentence_polarity: np.ndarray
    ngram_probabilities: np.ndarray | None = None
    ngram_polarity_probabilities: np.ndarray | None = None

    @classmethod
    def from_outputs(
        cls, outputs, ngram_probabilities: np.ndarray | None = None, ngram_polarity_probabilities: np.ndarray | None = None
    ) -> StackInputs:
        """From `nlp.models.encoder.EncoderOutputs` (or any object with its fields)."""
        n = len(outputs.theme_logits)
        owner = np.asarray(outputs.sentence_owner)
        sentence_themes = np.asarray(outputs.sentence_theme_logits)
        sentence_polarity = np.asarray(outputs.sentence_polarity_logits)
        best_sentence = pool_max(sentence_themes, owner, n)
        return cls(
            theme_logits=np.asarray(outputs.theme_logits),
            best_sentence_theme_logits=best_sentence,
            polarity_logits=np.asarray(outputs.polarity_logits),
            pair_logits=np.asarray(outputs.pair_logits),
            sentence_polarity_max=pool_max(sentence_polarity, owner, n),
            sentence_polarity_min=-pool_max(-sentence_polarity, owner, n),
            theme_sentence_polarity=_theme_weighted_polarity(
                sentence_themes, sentence_polarity, owner, best_sentence, np.asarray(outputs.polarity_logits)
            ),
            ngram_probabilities=ngram_probabilities,
            ngram_polarity_probabilities=ngram_polarity_probabilities,
        )

    def take(self, rows: np.ndarray) -> StackInputs:
        return StackInputs(
            **{
                name: (None if value is None else value[rows])
                for name, value in self.__dict__.items()
            }
        )


def _theme_weighted_polarity(
    sentence_themes: np.ndarray, sentence_polarity: np.ndarray, owner: np.ndarray, best_sentence: np.ndarray, polarity: np.ndarray
) -> np.ndarray:
    """Per finding and theme, the polarity logits of its sentences weighted by their softmax theme logit.

    A finding without sentences gets its own polarity logits for every theme.
    """
    n, n_themes = best_sentence.shape
    pooled = np.repeat(polarity[:, None, :], n_themes, axis=1).astype(float)
    if len(owner) == 0:
        return pooled
    weights = np.exp(sentence_themes - best_sentence[owner])
    totals = pool_sum(weights, owner, n)
    sums = pool_sum(weights[:, :, None] * sentence_polarity[:, None, :], owner, n)
    has_sentences = totals[:, 0] > 0
    pooled[has_sentences] = sums[has_sentences] / totals[has_sentences][:, :, None]
    return pooled


class FindingStacker(BaseEstimator):
    """Calibrated themes, finding polarity and theme polarity from stacked scores.

    Parameters
    ----------
    ngram : bool
        Whether the theme calibration reads the log-odds of the second opinion (a word n-gram model).
    ngram_polarity : bool
        Whether the polarity regression reads the second opinion's polarity probabilities.
    pair_strategy : {"copy", "pair", "hybrid", "learned"}
    labels : tuple of str, optional
        Theme ids, in the column order of `Y` (default: the column numbers, as strings).
    polarities : tuple of str
        Polarity values, in the order of `predict_polarity_proba`'s columns.
    theme_C, polarity_C : float
        Inverse regularisation of the theme and polarity regressions.
    polarity_class_weight : dict of str to float, optional
        Weight of each polarity in the finding polarity regression (scikit-learn's `class_weight`;
        polarities not named weigh 1). Weighing `mixed` above 1 trades some of its precision for
        recall: a mixed finding read as plain strength or weakness loses one of its pairs.
    threshold_shrinkage : float
        Weight, in positive examples, of the global threshold in each theme's threshold.

    Attributes
    ----------
    classes_ : ndarray of str, the theme ids. polarities_ : ndarray of str.
    calibration_ : ndarray (n_themes, n_inputs + 1): weights and intercept per theme.
    thresholds_ : ndarray (n_themes,).
    polarity_ : Pipeline (StandardScaler, LogisticRegression).
    pair_ : Pipeline (StandardScaler, LogisticRegression), with `pair_strategy="learned"`: the
        polarity of a theme in a mixed finding.
    """

    def __init__(
        self,
        ngram: bool = True,
        ngram_polarity: bool = False,
        pair_strategy: str = "hybrid",
        theme_C: float = 1.0,
        polarity_C: float = 1.0,
        polarity_class_weight: dict[str, float] | None = None,
        threshold_shrinkage: float = 50.0,
        labels: tuple[str, ...] | None = None,
        polarities: tuple[str, ...] = POLARITY_VALUES,
    ) -> None:
        self.ngram = ngram
        self.ngram_polarity = ngram_polarity
        self.pair_strategy = pair_strategy
        self.theme_C = theme_C
        self.polarity_C = polarity_C
        self.polarity_class_weight = polarity_class_weight
        self.threshold_shrinkage = threshold_shrinkage
        self.labels = labels
        self.polarities = polarities

    def fit(self, inputs: StackInputs, Y: np.ndarray, polarity, theme_polarity=None) -> FindingStacker:
        """Fit on out-of-fold scores, a theme indicator matrix, finding polarities (strings) and, for
        `pair_strategy="learned"`, each finding's theme polarities (dicts theme id -> polarity)."""
        if self.pair_strategy not in PAIR_STRATEGIES:
            raise ValueError(f"pair_strategy must be one of {PAIR_STRATEGIES}, not {self.pair_strategy!r}")
        if self.pair_strategy == "learned" and theme_polarity is None:
            raise ValueError('pair_strategy="learned" needs the theme polarities of the training findings')
        if self.ngram and inputs.ngram_probabilities is None:
            raise ValueError("ngram=True needs the second opinion's theme probabilities in the inputs")
        if self.ngram_polarity and inputs.ngram_polarity_probabilities is None:
            raise ValueError("ngram_polarity=True needs the second opinion's polarity probabilities in the inputs")
        Y = np.asarray(Y, dtype=int)
        self.classes_ = np.asarray(self.labels if self.labels is not None else [str(j) for j in range(Y.shape[1])])
        self.polarities_ = np.asarray(self.polarities)
        features = self._theme_features(inputs)
        self.calibration_ = np.array([self._calibrate(features[:, j], Y[:, j]) for j in range(Y.shape[1])])
        self.thresholds_ = shrunk_thresholds(self._theme_probabilities(features), Y, self.threshold_shrinkage)
        class_weight = None if self.polarity_class_weight is None else dict(self.polarity_class_weight)
        self.polarity_ = make_pipeline(
            StandardScaler(), LogisticRegression(C=self.polarity_C, class_weight=class_weight, max_iter=5000)
        )
        self.polarity_.fit(self._polarity_features(inputs), np.asarray(polarity, dtype=str))
        if self.pair_strategy == "learned":
            self._fit_pairs(inputs, Y, np.asarray(polarity, dtype=str), theme_polarity)
        return self

    def _fit_pairs(self, inputs: StackInputs, Y: np.ndarray, polarity: np.ndarray, theme_polarity) -> None:
        rows, columns = np.nonzero(Y * (polarity == MIXED)[:, None])
        targets = np.array([theme_polarity[i].get(self.classes_[j], MIXED) for i, j in zip(rows, columns)], dtype=str)
        if len(set(targets)) < 2:
            raise ValueError("pair_strategy=\"learned\" needs mixed findings whose themes differ in polarity")
        self.pair_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.polarity_C, max_iter=5000))
        self.pair_.fit(self._pair_features(inputs, rows, columns), targets)

    @staticmethod
    def _pair_features(inputs: StackInputs, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        return np.hstack(
            [
                inputs.pair_logits[rows, columns],
                inputs.theme_sentence_polarity[rows, columns],
                inputs.polarity_logits[rows],
                inputs.sentence_polarity_max[rows],
                inputs.sentence_polarity_min[rows],
            ]
        )

    def _theme_features(self, inputs: StackInputs) -> np.ndarray:
        columns = [inputs.theme_logits, inputs.best_sentence_theme_logits]
        if self.ngram:
            p = np.clip(inputs.ngram_probabilities, _LOGIT_CLIP, 1 - _LOGIT_CLIP)
            columns.append(np.log(p / (1 - p)))
        return np.stack(columns, axis=-1)

    def _calibrate(self, features: np.ndarray, labels: np.ndarray) -> np.ndarray:
        if labels.min() == labels.max():
            return np.r_[np.zeros(features.shape[1]), -10.0 if labels.max() == 0 else 10.0]
        model = LogisticRegression(C=self.theme_C, max_iter=1000).fit(features, labels)
        return np.r_[model.coef_[0], model.intercept_]

    def _theme_probabilities(self, features: np.ndarray) -> np.ndarray:
        values = np.einsum("nkf,kf->nk", features, self.calibration_[:, :-1]) + self.calibration_[:, -1]
        return 1.0 / (1.0 + np.exp(-np.clip(values, -35, 35)))

    def _polarity_features(self, inputs: StackInputs) -> np.ndarray:
        columns = [inputs.polarity_logits, inputs.sentence_polarity_max, inputs.sentence_polarity_min]
        if self.ngram_polarity:
            columns.append(np.log(np.clip(inputs.ngram_polarity_probabilities, _LOGIT_CLIP, 1.0)))
        return np.hstack(columns)

    def predict_theme_proba(self, inputs: StackInputs) -> np.ndarray:
        check_is_fitted(self, "calibration_")
        return self._theme_probabilities(self._theme_features(inputs))

    def predict_polarity_proba(self, inputs: StackInputs) -> np.ndarray:
        """Probability of each polarity, columns in the order of `polarities_`."""
        check_is_fitted(self, "polarity_")
        probabilities = self.polarity_.predict_proba(self._polarity_features(inputs))
        order = [list(self.polarity_.classes_).index(p) if p in self.polarity_.classes_ else None for p in self.polarities_]
        return np.column_stack([probabilities[:, k] if k is not None else np.zeros(len(probabilities)) for k in order])

    def finding_labels(self, inputs: StackInputs) -> tuple[list[FindingLabels], np.ndarray]:
        """Each finding's labels (without evidence), and the (n, n_themes) matrix of the themes chosen."""
        probabilities = self.predict_theme_proba(inputs)
        chosen = probabilities >= self.thresholds_
        polarity = self.polarities_[self.predict_polarity_proba(inputs).argmax(axis=1)]
        pairs = self.pair_polarities(inputs, polarity)
        themes = [str(theme) for theme in self.classes_]
        rounded = np.round(probabilities, 4).tolist()
        labels = [
            FindingLabels(
                themes=[themes[j] for j in np.flatnonzero(row)],
                polarity=str(polarity[i]),
                theme_polarity={themes[j]: str(pairs[i, j]) for j in np.flatnonzero(row)},
                scores=dict(zip(themes, rounded[i])),
            )
            for i, row in enumerate(chosen)
        ]
        return labels, chosen

    def pair_polarities(self, inputs: StackInputs, finding_polarity: np.ndarray) -> np.ndarray:
        """The polarity of every theme in every finding, shape (n, n_themes), as strings."""
        check_is_fitted(self, "polarities_")
        from_pairs = self.polarities_[inputs.pair_logits.argmax(axis=-1)]
        copied = np.repeat(np.asarray(finding_polarity, dtype=str)[:, None], len(self.classes_), axis=1)
        if self.pair_strategy == "copy":
            return copied
        if self.pair_strategy == "pair":
            return from_pairs
        if self.pair_strategy == "hybrid":
            return np.where(copied == MIXED, from_pairs, copied)
        check_is_fitted(self, "pair_")
        rows, columns = np.nonzero(copied == MIXED)
        learned = copied.astype(object)
        if len(rows):
            learned[rows, columns] = self.pair_.predict(self._pair_features(inputs, rows, columns))
        return learned.astype(str)
