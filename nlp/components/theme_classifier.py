"""`ofsted_theme_classifier_v1`: themes, polarity and evidence on every finding span.

Runs after `ofsted_findings_v1` and writes, on each span of `doc.spans[spans_key]`:
`span._.themes` (theme ids), `span._.polarity`, `span._.theme_polarity` ({theme: polarity}),
`span._.scores` ({theme: calibrated probability}) and `span._.evidence` ({theme: {"sentences",
"ngrams"}}). The model is a scikit-learn `FindingClassifier`, trained outside spaCy
(`training/train.py`), handed over with `initialize(model=...)` and saved with skops
(`nlp.artifact`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Sequence

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

from ..artifact import load_model, save_model
from ..errors import ModelCompatibilityError
from ..extensions import register_extensions
from ..models import FindingClassifier, FindingLabels
from ..taxonomy import THEME_IDS
from .findings import DEFAULT_FINDINGS_KEY

RECOMMENDATION_KIND = "recommendation"


class ThemeClassifierComponent:
    """Labels the finding spans of a Doc.

    name (str): component name.
    spans_key (str): span group holding the findings.
    recommendations_are_weaknesses (bool): apply the schema rule that every recommendation /
        "what needs to improve" item is a weakness, for findings segmentation placed in such a list.
    with_evidence (bool): compute `span._.evidence` (costs a second pass over sentences).
    """

    def __init__(
        self,
        name: str = "themes",
        *,
        spans_key: str,
        recommendations_are_weaknesses: bool,
        with_evidence: bool,
    ) -> None:
        self.name = name
        self.spans_key = spans_key
        self.recommendations_are_weaknesses = recommendations_are_weaknesses
        self.with_evidence = with_evidence
        self.model: FindingClassifier | None = None
        self.model_info: dict = {}
        register_extensions()

    def initialize(self, get_examples=None, *, nlp: Language | None = None, model: FindingClassifier | None = None) -> None:
        """Attach a fitted `FindingClassifier` (training happens in scikit-learn, not in spaCy's loop)."""
        if model is None:
            raise ValueError(f"[{self.name}] initialize needs `model=`, a fitted nlp.models.FindingClassifier.")
        self.model = model

    @property
    def labels(self) -> tuple[str, ...]:
        """The theme ids it assigns (spaCy lists them under `labels` in the pipeline's meta)."""
        return THEME_IDS

    def _require_model(self) -> FindingClassifier:
        if self.model is None:
            raise ModelCompatibilityError(
                f"[{self.name}] has no trained model: load a trained pipeline (spacy.load on a folder under models/) "
                "or call initialize(model=...) with a fitted FindingClassifier."
            )
        return self.model

    # Prediction ---------------------------------------------------------------------------------

    def classify_texts(self, texts: Sequence[str], with_evidence: bool | None = None) -> list[FindingLabels]:
        """Label findings given as plain texts (no report around them)."""
        evidence = self.with_evidence if with_evidence is None else with_evidence
        return self._require_model().predict(list(texts), with_evidence=evidence)

    def predict(self, docs: Iterable[Doc]) -> list[list[FindingLabels]]:
        """Labels for every finding of every Doc, computed in one batch; no side effects."""
        docs = list(docs)
        spans = [list(doc.spans.get(self.spans_key, [])) for doc in docs]
        flat = self.classify_texts([span.text for group in spans for span in group])
        predictions, start = [], 0
        for group in spans:
            predictions.append(flat[start : start + len(group)])
            start += len(group)
        return predictions

    def set_annotations(self, docs: Iterable[Doc], predictions: list[list[FindingLabels]]) -> None:
        for doc, labels in zip(docs, predictions):
            for span, label in zip(doc.spans.get(self.spans_key, []), labels):
                if self.recommendations_are_weaknesses:
                    apply_kind_rule(label, span._.kind)
                span._.themes = label.themes
                span._.polarity = label.polarity
                span._.theme_polarity = label.theme_polarity
                span._.scores = label.scores
                span._.evidence = label.evidence

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 16) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            self.set_annotations(batch, self.predict(batch))
            yield from batch

    # Serialisation ------------------------------------------------------------------------------

    def to_disk(self, path: str | Path, *, exclude=tuple()) -> None:
        save_model(self._require_model(), Path(path), extra={"info": self.model_info})

    def from_disk(self, path: str | Path, *, exclude=tuple()) -> ThemeClassifierComponent:
        self.model, cfg = load_model(Path(path))
        self.model_info = cfg.get("info", {})
        return self


def apply_kind_rule(label: FindingLabels, kind: str | None) -> FindingLabels:
    """The schema's rule that every recommendation / "what needs to improve" item is a weakness."""
    if kind == RECOMMENDATION_KIND:
        label.polarity = "weakness"
        label.theme_polarity = {theme: "weakness" for theme in label.theme_polarity}
    return label


@Language.factory(
    "ofsted_theme_classifier_v1",
    assigns=[f"span._.{name}" for name in ("themes", "polarity", "theme_polarity", "scores", "evidence")],
    requires=["doc.spans"],
    default_config={"spans_key": DEFAULT_FINDINGS_KEY, "recommendations_are_weaknesses": True, "with_evidence": True},
)
def make_theme_classifier(
    nlp: Language, name: str, spans_key: str, recommendations_are_weaknesses: bool, with_evidence: bool
) -> ThemeClassifierComponent:
    return ThemeClassifierComponent(
        name,
        spans_key=spans_key,
        recommendations_are_weaknesses=recommendations_are_weaknesses,
        with_evidence=with_evidence,
    )
