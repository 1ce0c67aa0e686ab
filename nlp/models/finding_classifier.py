"""The whole labelling model for one finding: themes, polarity, polarity per theme, and evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from .polarity import PolarityClassifier
from .text_features import split_sentences
from .themes import ThemeClassifier

THEME_POLARITY_STRATEGIES = ("copy", "focused", "hybrid")
# A sentence counts towards a theme when its probability is at least this share of the best one's.
_FOCUS_SHARE = 0.5


@dataclass
class FindingLabels:
    """What the model says about one finding (the `classify` output contract, without the id)."""

    themes: list[str]
    polarity: str
    theme_polarity: dict[str, str]
    scores: dict[str, float]
    evidence: dict[str, dict] = field(default_factory=dict)

    def to_dict(self, with_evidence: bool = False) -> dict:
        record = asdict(self)
        if not with_evidence:
            record.pop("evidence")
        return record


class FindingClassifier(BaseEstimator):
    """Themes, finding polarity and (theme, polarity) pairs for findings.

    The polarity of a finding as a whole can hide opposite verdicts on two of its themes ("adoption
    is a strength; missing children: weakness"). Per theme, the model looks at the sentences that
    carry the theme (its *focus*), chosen by the theme classifier's probability for each sentence.

    Parameters
    ----------
    themes : ThemeClassifier
    polarity : PolarityClassifier
        Polarity of the whole finding.
    theme_polarity : PolarityClassifier
        Polarity of a theme's focus sentences.
    theme_polarity_strategy : {"copy", "focused", "hybrid"}
        "copy" gives every theme the finding's polarity; "focused" asks `theme_polarity` about each
        theme's focus; "hybrid" copies unless the finding is `mixed`, where the themes may differ.
    evidence_ngrams : int
        Word n-grams reported as evidence per theme.

    Attributes
    ----------
    themes_, polarity_, theme_polarity_ : fitted clones of the parameters.
    """

    def __init__(
        self,
        themes: ThemeClassifier | None = None,
        polarity: PolarityClassifier | None = None,
        theme_polarity: PolarityClassifier | None = None,
        theme_polarity_strategy: str = "hybrid",
        evidence_ngrams: int = 5,
    ) -> None:
        self.themes = themes
        self.polarity = polarity
        self.theme_polarity = theme_polarity
        self.theme_polarity_strategy = theme_polarity_strategy
        self.evidence_ngrams = evidence_ngrams

    # Fitting ------------------------------------------------------------------------------------

    def fit(
        self,
        X: Sequence[str],
        Y: np.ndarray,
        polarity: Sequence[str],
        theme_polarity: Sequence[dict[str, str]],
        groups: Sequence | None = None,
    ) -> FindingClassifier:
        """Fit on texts, a theme indicator matrix, finding polarities and gold (theme -> polarity) maps."""
        if self.theme_polarity_strategy not in THEME_POLARITY_STRATEGIES:
            raise ValueError(f"theme_polarity_strategy must be one of {THEME_POLARITY_STRATEGIES}")
        X = list(X)
        self.themes_ = clone(self.themes or ThemeClassifier()).fit(X, Y, groups)
        self.polarity_ = clone(self.polarity or PolarityClassifier()).fit(X, polarity)
        pairs = [(i, theme) for i, labels in enumerate(theme_polarity) for theme in labels]
        focus = self._focus_texts([X[i] for i, _ in pairs], [theme for _, theme in pairs])
        self.theme_polarity_ = clone(self.theme_polarity or PolarityClassifier()).fit(
            focus, [theme_polarity[i][theme] for i, theme in pairs]
        )
        return self

    # Prediction ---------------------------------------------------------------------------------

    def predict(self, X: Sequence[str], with_evidence: bool = True) -> list[FindingLabels]:
        check_is_fitted(self, "themes_")
        X = list(X)
        if not X:
            return []
        theme_ids = list(self.themes_.classes_)
        probabilities = self.themes_.predict_proba(X)
        chosen = probabilities >= self.themes_.thresholds_
        polarities = self.polarity_.predict(X)
        sentences, sentence_probabilities = self._sentence_probabilities(X)
        pairs = [(i, j) for i in range(len(X)) for j in np.flatnonzero(chosen[i])]
        pair_polarity = self._pair_polarities(X, polarities, pairs, sentences, sentence_probabilities)
        results = []
        for i, text in enumerate(X):
            themes = [theme_ids[j] for j in np.flatnonzero(chosen[i])]
            labels = FindingLabels(
                themes=themes,
                polarity=str(polarities[i]),
                theme_polarity={theme_ids[j]: pair_polarity[(i, j)] for j in np.flatnonzero(chosen[i])},
                scores={theme: round(float(p), 4) for theme, p in zip(theme_ids, probabilities[i])},
            )
            if with_evidence:
                labels.evidence = {
                    theme_ids[j]: {
                        "sentences": self._focus_sentences(text, sentences[i], sentence_probabilities[i][:, j]),
                        "ngrams": self.themes_.word_contributions(text, j, self.evidence_ngrams),
                    }
                    for j in np.flatnonzero(chosen[i])
                }
            results.append(labels)
        return results

    def _pair_polarities(self, X, polarities, pairs, sentences, sentence_probabilities) -> dict:
        strategy = self.theme_polarity_strategy
        needs_focus = [(i, j) for i, j in pairs if strategy == "focused" or (strategy == "hybrid" and polarities[i] == "mixed")]
        focused = {}
        if needs_focus:
            texts = [
                " ".join(self._focus_sentences(X[i], sentences[i], sentence_probabilities[i][:, j])) for i, j in needs_focus
            ]
            focused = dict(zip(needs_focus, map(str, self.theme_polarity_.predict(texts))))
        return {(i, j): focused.get((i, j), str(polarities[i])) for i, j in pairs}

    # Focus sentences ----------------------------------------------------------------------------

    def _sentence_probabilities(self, X: list[str]) -> tuple[list[list[tuple[int, int]]], list[np.ndarray]]:
        """Sentence spans of each text and each sentence's theme probabilities, in one batch."""
        sentences = [split_sentences(text) or [(0, len(text))] for text in X]
        flat = [text[s:e] for text, spans in zip(X, sentences) for s, e in spans]
        probabilities = self.themes_.predict_proba(flat)
        offsets = np.cumsum([0] + [len(spans) for spans in sentences])
        return sentences, [probabilities[offsets[k] : offsets[k + 1]] for k in range(len(X))]

    @staticmethod
    def _focus_sentences(text: str, spans: list[tuple[int, int]], probabilities: np.ndarray) -> list[str]:
        best = probabilities.max()
        return [text[s:e] for (s, e), p in zip(spans, probabilities) if p >= _FOCUS_SHARE * best]

    def _focus_texts(self, texts: list[str], themes: list[str]) -> list[str]:
        if not texts:
            return []
        sentences, probabilities = self._sentence_probabilities(texts)
        index = {theme: j for j, theme in enumerate(self.themes_.classes_)}
        return [
            " ".join(self._focus_sentences(text, spans, p[:, index[theme]]))
            for text, spans, p, theme in zip(texts, sentences, probabilities, themes)
        ]
