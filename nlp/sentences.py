"""Sentences of a finding: the one splitter the pipeline, the models, the weak labels and evidence use.

Inspection reports are edited prose: a sentence ends at `.`, `!` or `?` (with any closing quotes
or brackets) followed by white space and a capital, a digit, an opening quote or bracket. The rule
keeps "(Recommendation)" as a sentence of its own and never splits "e.g. the" or "section 47.
The".

In a report, `ofsted_sentences_v1` (`nlp.components.sentences`) writes these boundaries on the Doc,
inside each finding, and the classifier reads `span.sents`; training and `classify`, which see a
finding's text without its report, call `text_sentences`, which gives the same spans.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from spacy.tokens import Span

SentenceSpans = list[tuple[int, int]]

_SENTENCE_END = re.compile(r"([.!?][\"'\u2019\u201d)]*)\s+(?=[A-Z\u2018\u201c\"'(0-9])")


def sentence_spans(text: str) -> SentenceSpans:
    """Character spans of the sentences of one finding; a text without an ending is one sentence."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.end(1)))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    spans = [(s, e) for s, e in spans if text[s:e].strip()]
    return spans or [(0, len(text))]


def text_sentences(texts: Sequence[str]) -> list[SentenceSpans]:
    """The sentence spans of each text."""
    return [sentence_spans(text) for text in texts]


def span_sentences(span: Span) -> SentenceSpans:
    """The sentences the pipeline set on a finding span, as character spans in the span's text."""
    offset, end = span.start_char, span.end_char
    spans = [(max(s.start_char, offset) - offset, min(s.end_char, end) - offset) for s in span.sents]
    return [(s, e) for s, e in spans if e > s] or [(0, end - offset)]


def flatten(sentences: Iterable[SentenceSpans]) -> tuple[list[tuple[int, int]], list[int]]:
    """All sentence spans in order, and the index of the text each one belongs to."""
    spans, owner = [], []
    for index, text_spans in enumerate(sentences):
        spans.extend(text_spans)
        owner.extend([index] * len(text_spans))
    return spans, owner
