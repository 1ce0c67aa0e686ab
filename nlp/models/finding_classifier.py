"""The whole labelling model for one finding: themes, polarity, polarity per theme, and evidence."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from ..sentences import sentence_spans
from .polarity import MIXED, PolarityClassifier
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
        # Not `dataclasses.asdict`: it deep-copies every score, and the evidence even when it is
        # left out (half of `classify`'s time in a profile). Only the evidence is nested.
        record = {f.name: copy.copy(getattr(self, f.name)) for f in fields(self) if f.name != "evidence"}
        if with_evidence:
            record["evidence"] = copy.deepcopy(self.evidence)
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
        theme's focus; "hybrid" copies unless the finding is `mixed`, where the themes may differ,
        and then asks `theme_polarity`, which for this strategy learns from the themes of mixed
        findings only (the only ones it is asked about).
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
        self.polarity_ = clone(self.polarity or PolarityClassifier()).fit(X, polarity, groups)
        pairs = [(i, theme) for i, labels in enumerate(theme_polarity) for theme in labels]
        if self.theme_polarity_strategy == "hybrid":
            # Hybrid asks only about the themes of mixed findings: learn from those, if there are any.
            pairs = [(i, theme) for i, theme in pairs if polarity[i] == MIXED] or pairs
        self.theme_polarity_ = clone(self.theme_polarity or PolarityClassifier()).fit(
            self._focus_texts(X, pairs),
            [theme_polarity[i][theme] for i, theme in pairs],
            None if groups is None else [groups[i] for i, _ in pairs],
        )
        return self

    # Prediction ---------------------------------------------------------------------------------

    def predict(self, X: Sequence[str], with_evidence: bool = True) -> list[FindingLabels]:
        """Labels of each finding text.

        Parameters
        ----------
        X : sequence of str
        with_evidence : bool
            Whether `evidence` also holds the top word n-grams per chosen theme (its focus
            sentences, with offsets, are always there: they cost nothing more).

        Returns
        -------
        list of FindingLabels
        """
        check_is_fitted(self, "themes_")
        X = list(X)
        if not X:
            return []
        theme_ids = [str(theme) for theme in self.themes_.classes_]
        probabilities, sentences = self._sentence_probabilities(X)
        chosen = probabilities >= self.themes_.thresholds_
        polarities = self.polarity_.predict(X)
        pairs = [(i, j) for i in range(len(X)) for j in np.flatnonzero(chosen[i])]
        pair_polarity = self._pair_polarities(polarities, pairs, sentences)
        ngrams = self.themes_.word_contributions(X, chosen, self.evidence_ngrams) if with_evidence else None
        results = []
        for i in range(len(X)):
            themes = [theme_ids[j] for j in np.flatnonzero(chosen[i])]
            labels = FindingLabels(
                themes=themes,
                polarity=str(polarities[i]),
                theme_polarity={theme_ids[j]: pair_polarity[(i, j)] for j in np.flatnonzero(chosen[i])},
                scores={theme: round(float(p), 4) for theme, p in zip(theme_ids, probabilities[i])},
            )
            labels.evidence = theme_evidence(
                X[i], sentence_spans(X[i]), sentences[i][1], np.flatnonzero(chosen[i]), theme_ids, ngrams[i] if with_evidence else None
            )
            results.append(labels)
        return results

    def scores(self, X: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Theme probabilities (columns `themes_.classes_`) and polarity probabilities (columns
        `polarity_.classes_`) of each text."""
        X = list(X)
        return self.themes_.predict_proba(X), self.polarity_.predict_proba(X)

    def _pair_polarities(self, polarities, pairs, sentences) -> dict:
        strategy = self.theme_polarity_strategy
        needs_focus = [(i, j) for i, j in pairs if strategy == "focused" or (strategy == "hybrid" and polarities[i] == MIXED)]
        focused = {}
        if needs_focus:
            texts = [" ".join(_focus_sentences(*sentences[i], j)) for i, j in needs_focus]
            focused = dict(zip(needs_focus, map(str, self.theme_polarity_.predict(texts))))
        return {(i, j): focused.get((i, j), str(polarities[i])) for i, j in pairs}

    # Focus sentences ----------------------------------------------------------------------------

    def _sentence_probabilities(self, X: list[str]) -> tuple[np.ndarray, list[tuple[list[str], np.ndarray]]]:
        """Theme probabilities of each text, and its sentences with theme probabilities of their own."""
        probabilities, flat, owner, flat_probabilities = self.themes_.predict_proba_with_sentences(X)
        starts = np.searchsorted(owner, np.arange(len(X) + 1))
        sentences = [(flat[starts[k] : starts[k + 1]], flat_probabilities[starts[k] : starts[k + 1]]) for k in range(len(X))]
        return probabilities, sentences

    def _focus_texts(self, X: list[str], pairs: list[tuple[int, str]]) -> list[str]:
        """The focus sentences of each (text index, theme) pair, joined."""
        if not pairs:
            return []
        texts = sorted({i for i, _ in pairs})
        _, sentences = self._sentence_probabilities([X[i] for i in texts])
        of_text = dict(zip(texts, sentences))
        index = {theme: j for j, theme in enumerate(self.themes_.classes_)}
        return [" ".join(_focus_sentences(*of_text[i], index[theme])) for i, theme in pairs]


def theme_evidence(
    text: str, spans, sentence_probabilities: np.ndarray, columns, theme_ids, ngrams: dict[int, list[str]] | None
) -> dict:
    """`FindingLabels.evidence` of one finding: per chosen theme (`columns` of `theme_ids`), its focus
    sentences with their offsets in `text` and, when `ngrams` (theme column -> n-grams) is given,
    its n-grams."""
    return {
        theme_ids[j]: {
            "sentences": [
                {"text": text[start:end], "start": int(start), "end": int(end)}
                for (start, end), focus in zip(spans, focus_mask(sentence_probabilities, j))
                if focus
            ],
            **({"ngrams": ngrams.get(int(j), [])} if ngrams is not None else {}),
        }
        for j in columns
    }


def focus_mask(probabilities: np.ndarray, theme: int) -> np.ndarray:
    """Which sentences have a probability for `theme` of at least `_FOCUS_SHARE` of the best one's."""
    return probabilities[:, theme] >= _FOCUS_SHARE * probabilities[:, theme].max()


def _focus_sentences(sentences: list[str], probabilities: np.ndarray, theme: int) -> list[str]:
    """The focus sentences of `theme` (see `focus_mask`)."""
    return [sentence for sentence, focus in zip(sentences, focus_mask(probabilities, theme)) if focus]
