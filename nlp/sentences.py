"""Sentences of a finding: the pipeline's own sentencizer, the one splitter everything uses.

In a report, the component reads sentences from the Doc (`span.sents`, set by the pipeline's
`sentencizer`). Training and `classify`, which see a finding's text without its report, split it
with the same spaCy `Sentencizer` over the same tokenizer, so a model is trained on the sentences
it will be given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Span

SentenceSpans = list[tuple[int, int]]


@lru_cache(maxsize=1)
def _sentence_splitter() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def span_sentences(span: Span) -> SentenceSpans:
    """Character offsets, relative to the span's text, of the sentences of a finding span."""
    offset = span.start_char
    spans = [(max(sentence.start_char, offset) - offset, min(sentence.end_char, span.end_char) - offset) for sentence in span.sents]
    return [(start, end) for start, end in spans if end > start] or [(0, len(span.text))]


def text_sentences(texts: Sequence[str], batch_size: int = 256) -> list[SentenceSpans]:
    """Character offsets of the sentences of each text, split as the report pipeline splits them."""
    splitter = _sentence_splitter()
    result = []
    for text, doc in zip(texts, splitter.pipe(texts, batch_size=batch_size)):
        spans = [(sentence.start_char, sentence.end_char) for sentence in doc.sents if sentence.text.strip()]
        result.append(spans or [(0, len(text))])
    return result


def flatten(sentences: Iterable[SentenceSpans]) -> tuple[list[tuple[int, int]], list[int]]:
    """All sentence spans in order, and the index of the text each belongs to."""
    spans, owner = [], []
    for index, text_spans in enumerate(sentences):
        spans.extend(text_spans)
        owner.extend([index] * len(text_spans))
    return spans, owner
