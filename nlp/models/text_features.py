"""Text features shared by the classifiers: TF-IDF over word and character n-grams, per finding and per sentence.

Word n-grams carry the vocabulary of themes ("return home interviews") and of judgement ("not
always", "too many"); character n-grams within word boundaries carry spelling variants, plurals and
the hyphenation and quote differences between extractors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from ..sentences import sentence_spans

# Joins the vocabulary's terms in a saved model; no term holds it (terms never span whitespace).
_TERM_SEPARATOR = "\n"


class CompactVocabulary:
    """Mixin for a fitted vectorizer whose saved state holds its vocabulary as one string.

    skops writes a dict entry by entry, each integer value as a file of its own: a fitted
    vocabulary of 56,000 n-grams made a 22 MB model file that took 18 s to write and seconds to
    read. The terms joined in column order are the same information in a few hundred kilobytes.
    The `stop_words_` attribute (the n-grams dropped by `min_df`, only there for introspection) is
    not saved.
    """

    def __getstate__(self) -> dict:
        # BaseEstimator hands back the live __dict__ for classes outside sklearn: edit a copy.
        state = dict(super().__getstate__())
        state.pop("stop_words_", None)
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:
            terms = sorted(vocabulary, key=vocabulary.__getitem__)
            if any(_TERM_SEPARATOR in term for term in terms):
                raise ValueError("a vocabulary term contains a line break; it cannot be saved compactly.")
            state["vocabulary_terms_"] = _TERM_SEPARATOR.join(terms)
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        terms = state.pop("vocabulary_terms_", None)
        if terms is not None:
            state["vocabulary_"] = {term: column for column, term in enumerate(terms.split(_TERM_SEPARATOR))}
        super().__setstate__(state)


# Vocabulary terms split at a time when an `NgramLookup` is built.
_SPLIT_CHUNK = 16_384


class _WordIds(dict):
    """word -> id; a word not seen before gets the next id."""

    def __missing__(self, word: str) -> int:
        self[word] = len(self)
        return self[word]


class NgramLookup:
    """A fitted vocabulary's word n-grams as integer keys in hash tables, to count them without
    building a string per n-gram.

    Every word of the vocabulary's n-grams gets an id; an n-gram of word ids (a, b, c) is the key
    (a * W + b) * W + c (W words). Counting a batch is then one dictionary lookup per token and,
    per n, one vectorised key computation and one hash-table probe (`pandas.Index.get_indexer`),
    where scikit-learn's analyzer joins and looks up every n-gram of every text in Python.
    `feature_names` are the terms in column order.
    """

    def __init__(self, vocabulary: dict[str, int]) -> None:
        terms = list(vocabulary)
        sizes = np.fromiter((term.count(" ") + 1 for term in terms), dtype=np.int64, count=len(terms))
        self.word_ids = _WordIds()
        # Terms are split a chunk at a time, each chunk joined and split once: one split per term
        # took a third of a second, and all terms' words at once left ~50 MB resident per worker.
        codes = np.concatenate(
            [
                np.fromiter(map(self.word_ids.__getitem__, " ".join(terms[start : start + _SPLIT_CHUNK]).split(" ")), dtype=np.int64)
                for start in range(0, len(terms), _SPLIT_CHUNK)
            ]
        )
        self.n_words = len(self.word_ids)
        if float(self.n_words) ** sizes.max() >= 2**63:
            raise ValueError(f"{self.n_words} words in n-grams of up to {sizes.max()} words overflow 64-bit n-gram keys.")
        columns = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(terms))
        self.feature_names = np.empty(len(terms), dtype=object)
        self.feature_names[columns] = terms
        first_code = np.r_[0, np.cumsum(sizes)[:-1]]
        self.tables: dict[int, tuple[pd.Index, np.ndarray]] = {}
        for n in np.unique(sizes):
            chosen = np.flatnonzero(sizes == n)
            keys = self._keys(codes, first_code[chosen], n)
            self.tables[int(n)] = (pd.Index(keys), columns[chosen])

    def _keys(self, ids: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
        keys = ids[starts]
        for offset in range(1, n):
            keys = keys * self.n_words + ids[starts + offset]
        return keys

    def counts(self, documents: list[list[str]], ngram_range: tuple[int, int], dtype: np.dtype) -> sp.csr_matrix:
        """(n_documents, n_terms) counts of the vocabulary's n-grams in the tokenised `documents`."""
        lengths = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
        get = self.word_ids.get
        ids = np.fromiter((get(token, -1) for tokens in documents for token in tokens), dtype=np.int64, count=int(lengths.sum()))
        document = np.repeat(np.arange(len(documents)), lengths)
        tokens_left = np.r_[0, np.cumsum(lengths)][document + 1] - np.arange(len(ids))
        # Words outside the vocabulary's words before each position: an n-gram holding one is no
        # vocabulary n-gram (and its key could collide with a real one).
        unknown_before = np.r_[0, np.cumsum(ids < 0)]
        rows, columns = [], []
        for n in range(ngram_range[0], ngram_range[1] + 1):
            if n not in self.tables:
                continue
            starts = np.flatnonzero(tokens_left >= n)
            starts = starts[unknown_before[starts + n] == unknown_before[starts]]
            table, table_columns = self.tables[n]
            position = table.get_indexer(self._keys(ids, starts, n))
            found = position >= 0
            rows.append(document[starts[found]])
            columns.append(table_columns[position[found]])
        rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        columns = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        matrix = sp.csr_matrix((np.ones(len(rows), dtype=dtype), (rows, columns)), shape=(len(documents), len(self.feature_names)))
        matrix.sum_duplicates()
        return matrix


class CompactTfidfVectorizer(CompactVocabulary, TfidfVectorizer):
    """A `TfidfVectorizer` whose saved state holds its vocabulary as one string (see `CompactVocabulary`)."""


def make_text_features(
    word_ngram_range: tuple[int, int] = (1, 3),
    char_ngram_range: tuple[int, int] = (2, 5),
    min_df: int = 2,
    max_features: int | None = 200_000,
) -> FeatureUnion:
    """An unfitted union of word and character TF-IDF vectorizers.

    Parameters
    ----------
    word_ngram_range, char_ngram_range : tuple of int
        N-gram ranges of the word and the character (within word boundaries) vectorizers.
    min_df : int
        Minimum document frequency of an n-gram.
    max_features : int or None
        Largest vocabulary of each vectorizer.

    Returns
    -------
    FeatureUnion
        Sublinear TF-IDF, each block L2-normalised.
    """
    return FeatureUnion(
        [
            (
                "words",
                CompactTfidfVectorizer(
                    ngram_range=tuple(word_ngram_range),
                    min_df=min_df,
                    sublinear_tf=True,
                    lowercase=True,
                    token_pattern=r"(?u)\b\w[\w'\u2019-]*\b",
                    max_features=max_features,
                    dtype=np.float64,
                ),
            ),
            (
                "chars",
                CompactTfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=tuple(char_ngram_range),
                    min_df=min_df,
                    sublinear_tf=True,
                    lowercase=True,
                    max_features=max_features,
                    dtype=np.float64,
                ),
            ),
        ]
    )


def fit_text_features(features: FeatureUnion, texts: Sequence[str]):
    """Fit `features` on `texts` and return their TF-IDF rows as CSR."""
    return features.fit_transform(list(texts)).tocsr()


def sentences_of(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The sentences of every text, flattened, and the index of the text each one comes from.

    A text without sentence punctuation counts as one sentence, so every text owns at least one.

    Parameters
    ----------
    texts : sequence of str

    Returns
    -------
    sentences : list of str
    owner : ndarray of int, shape (len(sentences),)
        Position in `texts` of the text each sentence belongs to.
    """
    sentences, owner = [], []
    for index, text in enumerate(texts):
        spans = sentence_spans(text)
        sentences.extend(text[s:e] for s, e in spans)
        owner.extend([index] * len(spans))
    return sentences, np.asarray(owner, dtype=int)


def pool_max(values: np.ndarray, owner: np.ndarray, n_texts: int) -> np.ndarray:
    """Column-wise maximum of the rows of `values` that belong to each text.

    Parameters
    ----------
    values : ndarray of shape (n_sentences, n_columns)
    owner : ndarray of int, shape (n_sentences,)
    n_texts : int

    Returns
    -------
    ndarray of shape (n_texts, n_columns)
        Rows of texts that own no sentence are ``-inf``.
    """
    pooled = np.full((n_texts, values.shape[1]), -np.inf)
    np.maximum.at(pooled, owner, values)
    return pooled


def pool_sum(values: np.ndarray, owner: np.ndarray, n_texts: int) -> np.ndarray:
    """Sum over the rows of `values` that belong to each text, along the first axis."""
    sums = np.zeros((n_texts,) + values.shape[1:])
    np.add.at(sums, owner, values)
    return sums


def pool_mean(values: np.ndarray, owner: np.ndarray, n_texts: int) -> np.ndarray:
    """Column-wise mean of the rows of `values` that belong to each text (0 for a text without rows)."""
    return pool_sum(values, owner, n_texts) / np.maximum(np.bincount(owner, minlength=n_texts), 1)[:, None]


def transform(features: FeatureUnion, texts: Sequence[str]):
    """TF-IDF rows of `texts` as CSR; an empty sequence gives a matrix with no rows."""
    if not texts:
        return features.transform([""]).tocsr()[:0]
    return features.transform(list(texts)).tocsr()
