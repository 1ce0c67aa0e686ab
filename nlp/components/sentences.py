"""`ofsted_sentences_v1`: sentence boundaries inside each finding, by the rule of `nlp.sentences`.

Runs after `ofsted_findings_v1`. Every finding starts a sentence, and so does the first token after
it, so no sentence runs from a finding into a heading or the next finding; inside a finding,
sentences start where `nlp.sentences.sentence_spans` says. Text outside findings (headings, grade
tables) is one sentence per stretch between findings.
"""

from __future__ import annotations

import numpy as np
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from ..extensions import spans_with_texts
from ..sentences import sentence_spans
from .findings import DEFAULT_FINDINGS_KEY

_START, _INSIDE = 1, -1


class FindingSentences:
    """Sets `token.is_sent_start` so that `span.sents` gives each finding's sentences.

    name (str): component name.
    spans_key (str): span group holding the findings.
    """

    def __init__(self, name: str = "sentences", *, spans_key: str) -> None:
        self.name = name
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        starts = np.full(len(doc), _INSIDE, dtype=np.int64)
        starts[0] = _START
        token_offsets = doc.to_array("IDX").astype(np.int64)
        for span, text in spans_with_texts(doc, doc.spans.get(self.spans_key, [])):
            starts[span.start] = _START
            if span.end < len(doc):
                starts[span.end] = _START
            inner = [span.start_char + start for start, _ in sentence_spans(text)[1:]]
            tokens = np.searchsorted(token_offsets, inner)
            starts[tokens[(tokens > span.start) & (tokens < span.end)]] = _START
        doc.from_array([SENT_START], starts.astype(np.uint64).reshape(-1, 1))
        return doc


@Language.factory(
    "ofsted_sentences_v1",
    assigns=["token.is_sent_start"],
    requires=["doc.spans"],
    default_config={"spans_key": DEFAULT_FINDINGS_KEY},
)
def make_finding_sentences(nlp: Language, name: str, spans_key: str) -> FindingSentences:
    return FindingSentences(name, spans_key=spans_key)
