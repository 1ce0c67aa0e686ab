"""Finding texts that say the same thing: normalised equality and near-duplicate boilerplate.

Ofsted reports repeat stock sentences across authorities ("Children who need help and protection
require improvement to be good"), changing only a name or a figure. Two texts are the *same* when
their normalised forms are equal, and *near duplicates* when the cosine of their sets of word
3-shingles, hashed, reaches `NEAR_DUPLICATE_COSINE`; the shingles read every number as the same
word, so that "27% (the national average is 15%)" and "8% (the national average is 14%)" match.

    >>> normalise_text("Return-home  interviews: TIMELY.")
    'return home interviews timely'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

# Cosine of binary shingle sets: |A ∩ B| / sqrt(|A| |B|). Two 40-word sentences that differ in one
# name share about 0.9 of their 3-shingles; two findings about the same topic in their own words
# rarely share 0.3.
NEAR_DUPLICATE_COSINE = 0.7
SHINGLE_WORDS = 3
_HASH_FEATURES = 2**20
# Rows of the candidate matrix compared with the reference texts at a time: bounds the memory of a
# product that is dense for texts made of stock phrases.
_CHUNK_ROWS = 2048
_NON_WORD = re.compile(r"[\W_]+")
_NUMBER = re.compile(r"\d+")


def normalise_text(text: str) -> str:
    """Lowercase words separated by single spaces: punctuation, symbols and spacing do not count."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def _shingle_text(text: str) -> str:
    return _NUMBER.sub("0", normalise_text(text))


def shingle_vectors(texts: Sequence[str]) -> sparse.csr_matrix:
    """L2-normalised binary vectors of each text's hashed word 3-shingles, shape (n_texts, 2**20).

    A text of fewer than three words has no shingles and an all-zero row: it is a near duplicate of
    nothing, and only `normalise_text` equality matches it.
    """
    vectorizer = HashingVectorizer(
        preprocessor=_shingle_text,
        token_pattern=r"\S+",
        ngram_range=(SHINGLE_WORDS, SHINGLE_WORDS),
        n_features=_HASH_FEATURES,
        binary=True,
        norm="l2",
        alternate_sign=False,
    )
    return vectorizer.transform(list(texts)).tocsr()


def near_duplicates_of(
    candidates: sparse.csr_matrix, references: sparse.csr_matrix, threshold: float = NEAR_DUPLICATE_COSINE
) -> np.ndarray:
    """Which candidate rows have a near duplicate among the reference rows (both from `shingle_vectors`)."""
    found = np.zeros(candidates.shape[0], dtype=bool)
    if references.shape[0] == 0:
        return found
    transposed = references.T.tocsc()
    for start in range(0, candidates.shape[0], _CHUNK_ROWS):
        cosines = candidates[start : start + _CHUNK_ROWS] @ transposed
        found[start : start + _CHUNK_ROWS] = cosines.max(axis=1).toarray().ravel() >= threshold
    return found
