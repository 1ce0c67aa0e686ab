"""What ranking findings for annotation needs from a model, and where it gets it from today's model.

`suggest` reads a model only through a `FindingScorer`: for a batch of finding texts, theme
probabilities with the per-theme decision thresholds and polarity probabilities with their label
order (`ModelScores`), and the model's labels of a few texts as a pre-annotation. It never looks
inside a model. `FindingClassifierScorer` (the scikit-learn word n-gram models: the fast model's
`FastFindingClassifier`, and the n-gram `FindingClassifier` the simulations train) and
`EncoderModelScorer` (the accurate model) are the adapters that do;
`scorer_for_model` is the one place that chooses the adapter for a
trained pipeline, so another classifier component only needs an adapter of its own there.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .errors import ModelCompatibilityError
from .models import FindingClassifier, FindingLabels
from .models.fast import FastFindingClassifier
from .models.kinds import EncoderFindingModel, NgramFindingModel
from .sentences import text_sentences


@dataclass(frozen=True)
class ModelScores:
    """A model's probabilities for a batch of findings.

    theme_ids (tuple[str, ...]): the columns of `theme_probabilities`.
    theme_probabilities (ndarray): shape (n_findings, n_themes), calibrated probabilities.
    theme_thresholds (ndarray): shape (n_themes,), the probability from which the model gives a theme.
    polarity_labels (tuple[str, ...]): the columns of `polarity_probabilities`.
    polarity_probabilities (ndarray): shape (n_findings, n_polarities), rows summing to 1.
    """

    theme_ids: tuple[str, ...]
    theme_probabilities: np.ndarray
    theme_thresholds: np.ndarray
    polarity_labels: tuple[str, ...]
    polarity_probabilities: np.ndarray

    def __post_init__(self) -> None:
        n_findings = len(self.theme_probabilities)
        expected = {
            "theme_probabilities": (n_findings, len(self.theme_ids)),
            "theme_thresholds": (len(self.theme_ids),),
            "polarity_probabilities": (n_findings, len(self.polarity_labels)),
        }
        for name, shape in expected.items():
            if np.shape(getattr(self, name)) != shape:
                raise ModelCompatibilityError(
                    f"a scorer returned {name} of shape {np.shape(getattr(self, name))}, expected {shape}: "
                    "its adapter in nlp/model_scores.py does not match the model."
                )

    def __len__(self) -> int:
        return len(self.theme_probabilities)

    @classmethod
    def concatenate(cls, parts: Sequence[ModelScores]) -> ModelScores:
        """The scores of consecutive batches as one (the batches come from the same model)."""
        first = parts[0]
        return cls(
            theme_ids=first.theme_ids,
            theme_probabilities=np.concatenate([part.theme_probabilities for part in parts]),
            theme_thresholds=first.theme_thresholds,
            polarity_labels=first.polarity_labels,
            polarity_probabilities=np.concatenate([part.polarity_probabilities for part in parts]),
        )

    def aligned_to(self, other: ModelScores) -> ModelScores:
        """These scores with their columns in `other`'s order, for comparing two models."""
        return self.in_order(other.theme_ids, other.polarity_labels, "the two models label with different themes or polarities, so their scores cannot be compared")

    def in_order(self, theme_ids: Sequence[str], polarity_labels: Sequence[str], mismatch: str = "the model labels with other themes or polarities than asked for") -> ModelScores:
        """These scores with their columns in the given order (e.g. a taxonomy's); `mismatch` says
        what it means when the labels differ."""
        if set(self.theme_ids) != set(theme_ids) or set(self.polarity_labels) != set(polarity_labels):
            raise ModelCompatibilityError(
                f"{mismatch}: "
                f"{sorted(set(self.theme_ids) ^ set(theme_ids)) or sorted(set(self.polarity_labels) ^ set(polarity_labels))}."
            )
        themes = [self.theme_ids.index(theme) for theme in theme_ids]
        polarities = [self.polarity_labels.index(label) for label in polarity_labels]
        return ModelScores(
            theme_ids=tuple(theme_ids),
            theme_probabilities=self.theme_probabilities[:, themes],
            theme_thresholds=self.theme_thresholds[themes],
            polarity_labels=tuple(polarity_labels),
            polarity_probabilities=self.polarity_probabilities[:, polarities],
        )


class FindingScorer(Protocol):
    """A trained model as ranking sees it.

    name (str): which model this is, recorded with every suggestion.
    """

    name: str

    def scores(self, texts: Sequence[str]) -> ModelScores:
        """Theme and polarity probabilities of each finding text."""

    def labels(self, texts: Sequence[str]) -> list[FindingLabels]:
        """The model's labels of each finding text, as `classify` gives them."""


class _AdapterScorer:
    """What the model adapters share: a name, and `ModelScores` built from the model's own label order,
    thresholds and probabilities (none asked of the model for no texts)."""

    def __init__(self, model, name: str) -> None:
        self.model = model
        self.name = name

    def scores(self, texts: Sequence[str]) -> ModelScores:
        texts = list(texts)
        theme_ids, thresholds, polarity_labels = self._labels()
        if texts:
            themes, polarity = self._probabilities(texts)
        else:
            themes, polarity = np.zeros((0, len(theme_ids))), np.zeros((0, len(polarity_labels)))
        return ModelScores(
            theme_ids=tuple(str(theme) for theme in theme_ids),
            theme_probabilities=themes,
            theme_thresholds=np.asarray(thresholds, dtype=float),
            polarity_labels=tuple(str(label) for label in polarity_labels),
            polarity_probabilities=polarity,
        )


class FindingClassifierScorer(_AdapterScorer):
    """`FindingScorer` for a scikit-learn word n-gram model (`FastFindingClassifier` or `FindingClassifier`).

    model (FastFindingClassifier | FindingClassifier): a fitted model.
    name (str): how suggestions name it.
    """

    model: FastFindingClassifier | FindingClassifier

    def _labels(self):
        return self.model.themes_.classes_, self.model.themes_.thresholds_, self.model.polarity_.classes_

    def _probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.model.scores(texts)

    def labels(self, texts: Sequence[str]) -> list[FindingLabels]:
        return self.model.predict(list(texts), with_evidence=False)


class EncoderModelScorer(_AdapterScorer):
    """`FindingScorer` for the accurate model (`nlp.models.kinds.EncoderFindingModel`): the stacker's
    calibrated theme probabilities and thresholds, and its polarity probabilities.

    model (EncoderFindingModel): a loaded model.
    name (str): how suggestions name it.
    """

    model: EncoderFindingModel

    def _labels(self):
        stacker = self.model.stacker
        return stacker.classes_, stacker.thresholds_, stacker.polarities_

    def _probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        _, _, inputs = self.model.stack_inputs(texts, text_sentences(texts))
        return self.model.stacker.predict_theme_proba(inputs), self.model.stacker.predict_polarity_proba(inputs)

    def labels(self, texts: Sequence[str]) -> list[FindingLabels]:
        texts = list(texts)
        return self.model.predict(texts, text_sentences(texts), False)


def scorer_for_model(model: str | os.PathLike | None = None) -> FindingScorer:
    """The scorer of a trained pipeline: a model folder, an installed model package, or the default."""
    from .classify import load_pipeline

    return scorer_for_pipeline(load_pipeline(model))


def scorer_for_pipeline(nlp) -> FindingScorer:
    """The scorer of a loaded pipeline (`nlp.classify.load_pipeline`), for callers that read its meta too."""
    from .classify import CLASSIFIER_PIPE

    classifier = getattr(nlp.get_pipe(CLASSIFIER_PIPE), "model", None)
    name = f"{nlp.meta.get('name')}-{nlp.meta.get('version')}"
    if isinstance(classifier, NgramFindingModel):
        return FindingClassifierScorer(classifier.classifier, name)
    if isinstance(classifier, EncoderFindingModel):
        return EncoderModelScorer(classifier, name)
    raise ModelCompatibilityError(
        f"{name}: its '{CLASSIFIER_PIPE}' component holds a {type(classifier).__name__}, which has no scorer for "
        "ranking findings; add an adapter for it in nlp/model_scores.py."
    )
