"""Text features shared by the classifiers: TF-IDF over word and character n-grams.

Word n-grams carry the vocabulary of themes ("return home interviews") and of judgement ("not
always", "too many"); character n-grams within word boundaries carry spelling variants, plurals and
the hyphenation and quote differences between extractors.
"""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

_SENTENCE_END = re.compile(r"([.!?][\"'\u2019\u201d)]*)\s+(?=[A-Z\u2018\u201c\"'(0-9])")


def make_text_features(
    word_ngram_range: tuple[int, int] = (1, 2),
    char_ngram_range: tuple[int, int] = (2, 5),
    min_df: int = 2,
    max_features: int | None = 200_000,
) -> FeatureUnion:
    """An unfitted union of word and character TF-IDF vectorizers."""
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    ngram_range=tuple(word_ngram_range),
                    min_df=min_df,
                    sublinear_tf=True,
                    lowercase=True,
                    token_pattern=r"(?u)\b\w[\w'\u2019-]*\b",
                    max_features=max_features,
                    dtype=float,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=tuple(char_ngram_range),
                    min_df=min_df,
                    sublinear_tf=True,
                    lowercase=True,
                    max_features=max_features,
                    dtype=float,
                ),
            ),
        ]
    )


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a finding (rule-based: these reports are well punctuated)."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.end(1)))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]
