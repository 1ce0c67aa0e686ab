"""`ofsted_theme_classifier_v2`: themes, polarity and evidence on every finding span.

Runs after `ofsted_findings_v1` and `ofsted_sentences_v1` and writes, on each span of
`doc.spans[spans_key]`: `span._.themes` (theme ids), `span._.polarity`, `span._.theme_polarity`
({theme: polarity}), `span._.scores` ({theme: calibrated probability}) and `span._.evidence`
({theme: {"sentences": [{"text", "start", "end"}]}}, the sentences behind each theme, offsets
relative to the finding's text; with `with_evidence`, also "ngrams": the words that pushed
hardest towards the theme, read from the fast model's rows of the batch).

The model behind it is one of `nlp.models.kinds` (the accurate or the fast kind),
trained outside spaCy's loop (`nlp.train`) and stored as checksummed files that load without
running code (`nlp.artifact`), with the taxonomy it labels with: `labels` and `taxonomy` are read
from the model. `initialize` takes it from a trained model folder
(`[initialize.components.themes] source = ...`) or fits the fast kind on the labelled findings of
the examples; `nlp.evaluate` scores it with `ofsted.theme_scorer.v1`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch

from ..artifact import (
    artifact_from_bytes,
    artifact_to_bytes,
    check_labels,
    make_cfg,
    read_artifact,
    stored_taxonomy,
    write_artifact,
)
from ..errors import ModelCompatibilityError
from ..extensions import register_extensions, span_texts
from ..models import FindingLabels
from ..models.kinds import model_from_files
from ..scoring import score_findings
from ..taxonomy import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy
from ..sentences import span_sentences, text_sentences
from .findings import DEFAULT_FINDINGS_KEY

RECOMMENDATION_KIND = "recommendation"
WEAKNESS = "weakness"


class ThemeClassifierComponent(Pipe):
    """Labels the finding spans of a Doc.

    vocab (Vocab): the pipeline's vocab (unused; spaCy hands it to every component).
    name (str): component name.
    spans_key (str): span group holding the findings.
    recommendations_are_weaknesses (bool): apply the schema rule that every recommendation /
        "what needs to improve" item is a weakness.
    with_evidence (bool): add the n-grams behind each theme to `span._.evidence`.
    threads (int): threads of the encoder's runtime (0: one per core); batch workers use 1.
    scorer (Callable | None): scores `Example`s; default `ofsted.theme_scorer.v1`.
    """

    def __init__(
        self,
        vocab,
        name: str = "themes",
        *,
        spans_key: str = DEFAULT_FINDINGS_KEY,
        recommendations_are_weaknesses: bool = True,
        with_evidence: bool = True,
        threads: int = 0,
        scorer: Callable | None = score_findings,
    ) -> None:
        self.vocab = vocab
        self.name = name
        self.spans_key = spans_key
        self.recommendations_are_weaknesses = recommendations_are_weaknesses
        self.with_evidence = with_evidence
        self.threads = threads
        self.scorer = scorer
        self.model = None
        self.taxonomy: Taxonomy | None = None
        self.files: dict[str, bytes] = {}
        self.artifact_cfg: dict = {}
        register_extensions()

    # Setting up ---------------------------------------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        """The theme ids the model assigns (spaCy lists them in the pipeline's meta)."""
        return self.model.labels if self.model is not None else ()

    @property
    def model_info(self) -> dict:
        return self.artifact_cfg.get("info", {})

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]] | None = None,
        *,
        nlp: Language | None = None,
        source: str | None = None,
        taxonomy: str | None = None,
    ) -> None:
        """Take a trained model from `source` (a model folder or its `themes` folder), or fit the
        fast kind on the findings of `get_examples()` whose reference spans carry gold labels,
        with the themes of `taxonomy` (a taxonomy JSON file; default: the package's default).

        RAISES (ModelCompatibilityError): neither a source nor labelled findings were given.
        """
        if source is not None:
            folder = Path(source)
            self._use(*read_artifact(folder / self.name if (folder / self.name).is_dir() else folder))
            return
        records = labelled_findings(get_examples() if get_examples is not None else [], self.spans_key)
        if not records:
            raise ModelCompatibilityError(
                f"[{self.name}] initialize needs a trained model or labelled findings: set "
                f"[initialize.components.{self.name}] source = \"models/ofsted_themes-<version>\", or pass examples whose "
                f"reference findings (doc.spans[{self.spans_key!r}]) carry span._.themes, _.polarity and _.theme_polarity."
            )
        from ..models.training import fit_fast_model

        labels = load_taxonomy(taxonomy) if taxonomy is not None else DEFAULT_TAXONOMY
        model = fit_fast_model(records, labels)
        self.set_model(model, labels, info={"trained_by": "initialize", "findings": len(records)})

    def set_model(self, model, taxonomy: Taxonomy, info: dict | None = None) -> None:
        """Attach a trained model (one of `nlp.models.kinds`) for `taxonomy`, with what the model card should say.

        RAISES (ModelCompatibilityError): the model's heads assign other themes than the taxonomy's.
        """
        files = model.to_files()
        self._use(files, make_cfg(files, model.kind, taxonomy, {"info": info or {}, **model.settings_record()}), model)

    def _use(self, files: dict[str, bytes], cfg: dict, model=None) -> None:
        where = f"[{self.name}]"
        taxonomy = stored_taxonomy(cfg, where)
        model = model if model is not None else model_from_files(files, cfg, threads=self.threads)
        check_labels(taxonomy, model.labels, where)
        self.model, self.taxonomy = model, taxonomy
        self.files, self.artifact_cfg = files, cfg

    def _require_model(self):
        if self.model is None:
            raise ModelCompatibilityError(
                f"[{self.name}] has no trained model: load a trained pipeline (spacy.load on a folder under models/) "
                "or initialize the component (see ThemeClassifierComponent.initialize)."
            )
        return self.model

    # Prediction ---------------------------------------------------------------------------------

    def classify_texts(self, texts: Sequence[str], with_evidence: bool | None = None) -> list[FindingLabels]:
        """Label findings given as plain texts (no report around them)."""
        texts = list(texts)
        evidence = self.with_evidence if with_evidence is None else with_evidence
        return self._require_model().predict(texts, text_sentences(texts), evidence)

    def predict(self, docs: Iterable[Doc]) -> list[list[FindingLabels]]:
        """Labels of every finding of every Doc, computed in one batch; no side effects."""
        docs = list(docs)
        spans = [list(doc.spans.get(self.spans_key, [])) for doc in docs]
        flat = [span for group in spans for span in group]
        texts = [text for doc, group in zip(docs, spans) for text in span_texts(doc, group)]
        labels = self._require_model().predict(texts, [span_sentences(s) for s in flat], self.with_evidence)
        predictions, start = [], 0
        for group in spans:
            predictions.append(labels[start : start + len(group)])
            start += len(group)
        return predictions

    def set_annotations(self, docs: Iterable[Doc], predictions: list[list[FindingLabels]]) -> None:
        for doc, labels in zip(docs, predictions):
            for span, label in zip(doc.spans.get(self.spans_key, []), labels):
                attributes = span._  # spaCy makes a new accessor object on every `span._`
                if self.recommendations_are_weaknesses:
                    apply_kind_rule(label, attributes.kind)
                attributes.themes = label.themes
                attributes.polarity = label.polarity
                attributes.theme_polarity = label.theme_polarity
                attributes.scores = label.scores
                attributes.evidence = label.evidence

    def score(self, examples: Iterable[Example], **kwargs) -> dict[str, float | None]:
        """`themes_micro_f`, `themes_macro_f`, `polarity_macro_f`, `theme_polarity_f` (see `nlp.scoring`)."""
        return self.scorer(examples, spans_key=self.spans_key) if self.scorer is not None else {}

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 16) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            self.set_annotations(batch, self.predict(batch))
            yield from batch

    # Serialisation ------------------------------------------------------------------------------

    def to_disk(self, path: str | Path, *, exclude=tuple()) -> None:
        self._require_model()
        write_artifact(Path(path), self.files, self.artifact_cfg)

    def from_disk(self, path: str | Path, *, exclude=tuple()) -> ThemeClassifierComponent:
        self._use(*read_artifact(Path(path)))
        return self

    def to_bytes(self, *, exclude=tuple()) -> bytes:
        self._require_model()
        return artifact_to_bytes(self.files, self.artifact_cfg)

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()) -> ThemeClassifierComponent:
        self._use(*artifact_from_bytes(bytes_data, f"[{self.name}] bytes"))
        return self


def apply_kind_rule(label: FindingLabels, kind: str | None) -> FindingLabels:
    """The schema's rule that every recommendation / "what needs to improve" item is a weakness."""
    if kind == RECOMMENDATION_KIND:
        label.polarity = WEAKNESS
        label.theme_polarity = {theme: WEAKNESS for theme in label.theme_polarity}
    return label


def labelled_findings(examples: Iterable[Example], spans_key: str = DEFAULT_FINDINGS_KEY) -> list[dict]:
    """Training records from the reference findings of examples that carry gold labels."""
    records = []
    for example in examples:
        report = example.reference._.report or {}
        for span in example.reference.spans.get(spans_key, []):
            if span._.themes is None or span._.polarity is None:
                continue
            records.append(
                {
                    "text": span.text,
                    "themes": list(span._.themes),
                    "polarity": span._.polarity,
                    "theme_polarity": dict(span._.theme_polarity or {}),
                    "local_authority": report.get("local_authority"),
                }
            )
    return records


@Language.factory(
    "ofsted_theme_classifier_v2",
    assigns=[f"span._.{name}" for name in ("themes", "polarity", "theme_polarity", "scores", "evidence")],
    requires=["doc.spans", "token.is_sent_start"],
    default_config={
        "spans_key": DEFAULT_FINDINGS_KEY,
        "recommendations_are_weaknesses": True,
        "with_evidence": True,
        "threads": 0,
        "scorer": {"@scorers": "ofsted.theme_scorer.v1"},
    },
    default_score_weights={"themes_micro_f": 0.25, "themes_macro_f": 0.25, "polarity_macro_f": 0.25, "theme_polarity_f": 0.25},
)
def make_theme_classifier(
    nlp: Language,
    name: str,
    spans_key: str,
    recommendations_are_weaknesses: bool,
    with_evidence: bool,
    threads: int,
    scorer: Callable | None,
) -> ThemeClassifierComponent:
    return ThemeClassifierComponent(
        nlp.vocab,
        name,
        spans_key=spans_key,
        recommendations_are_weaknesses=recommendations_are_weaknesses,
        with_evidence=with_evidence,
        threads=threads,
        scorer=scorer,
    )
