"""The fast model: one featurisation pass per batch, read by every head.

`FindingFeaturizer` tokenises each sentence of a batch of findings once (word n-grams against a
fixed vocabulary) and gives TF-IDF rows of the sentences and of the findings (a finding's counts
are the sum of its sentences'), with the sentence -> finding map. The heads read those matrices:

- `ThemeHead`: one linear SVM per theme (`OneVsRestClassifier`), read on the finding and on its
  best sentence, calibrated per theme by a logistic regression fitted on out-of-fold decisions,
  with per-theme thresholds;
- `PolarityHead`: a multinomial logistic regression on the finding, one on single sentences, and a
  stack over both (how `mixed` is recognised: a strong sentence and a weak one in one finding);
- `FastFindingClassifier` joins them with a pair head (the polarity of each theme of a `mixed`
  finding, read from the theme's focus sentences) and can learn from a teacher's labels
  (`DistilledFindings`: its theme decisions and its polarity probabilities) beside the gold ones.

Character n-grams are not read from the text: a `char_wb` analyzer alone ran at about 2,600
findings/s in an ad hoc measurement (not a benchmark), which would make it the cost of the model. They are derived from the words instead
(`char_ngram_range`): each vocabulary word's character n-grams are counted once when the
featuriser is fitted, and a row's character block is its word counts times that map. In grouped CV
(`training/reports/fast-cv.json`) the block adds 0.019 theme micro-F1 and 0.017 polarity macro-F1
to words and cues, more than 5-character word prefixes did, which add nothing beside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from ..lexicon import FIGURE, IMPERATIVE_OPENING
from ..sentences import SentenceSpans, text_sentences
from ..taxonomy import POLARITIES
from ._cv import inner_splits
from .finding_classifier import FindingLabels, focus_mask, theme_evidence
from .polarity import CONTRAST, MIXED, STRENGTH, WEAKNESS
from .text_features import CompactVocabulary, NgramLookup, pool_max, pool_mean
from .themes import shrunk_thresholds

# Teacher probabilities below this share add rows that teach next to nothing: they are dropped.
_SOFT_LABEL_FLOOR = 0.05


class CompactCountVectorizer(CompactVocabulary, CountVectorizer):
    """A word n-gram `CountVectorizer` whose saved state holds its vocabulary as one string (see
    `CompactVocabulary`), and whose `transform` counts n-grams by integer keys (`NgramLookup`): the
    same matrix as scikit-learn's (always a `csr_matrix`), in about a third of its time on corpus
    sentences (an ad hoc measurement; `bench_models`' `classify` row measures the whole model).
    Fitting is scikit-learn's; the feature names come from the same lookup, built once.
    """

    def transform(self, raw_documents) -> sp.csr_matrix:
        # Terms are split into words at spaces: a callable analyzer or tokenizer may make tokens
        # that hold one, so those settings count the scikit-learn way.
        if self.analyzer != "word" or self.tokenizer is not None:
            return super().transform(raw_documents)
        if isinstance(raw_documents, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        self._check_vocabulary()
        preprocess, tokenize, stop_words = self.build_preprocessor(), self.build_tokenizer(), self.get_stop_words()
        documents = [tokenize(preprocess(self.decode(document))) for document in raw_documents]
        if stop_words:
            documents = [[token for token in tokens if token not in stop_words] for tokens in documents]
        counts = self._ngram_lookup().counts(documents, self.ngram_range, self.dtype)
        if self.binary:
            counts.data.fill(1)
        return counts

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The terms in column order (scikit-learn sorts the whole vocabulary on every call; this is a copy)."""
        self._check_vocabulary()
        return self._ngram_lookup().feature_names.copy()

    def _ngram_lookup(self) -> NgramLookup:
        # Built on first use and rebuilt after a refit, never saved: it is derived from vocabulary_.
        if getattr(self, "_lookup_of", None) is not self.vocabulary_:
            self._lookup, self._lookup_of = NgramLookup(self.vocabulary_), self.vocabulary_
        return self._lookup

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_lookup", None)
        state.pop("_lookup_of", None)
        return state


@dataclass
class FindingRows:
    """TF-IDF rows of a batch of findings and of their sentences.

    findings: CSR (n_findings, n_features). sentences: CSR (n_sentences, n_features).
    owner: index of the finding each sentence belongs to, ascending. spans: each finding's sentence spans.
    """

    findings: sp.csr_matrix
    sentences: sp.csr_matrix
    owner: np.ndarray
    spans: list[SentenceSpans]
    finding_cues: np.ndarray
    sentence_cues: np.ndarray
    cue_themes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return self.findings.shape[0]

    def take(self, rows: np.ndarray) -> FindingRows:
        """The findings `rows` (in that order, repeats allowed) with their sentences."""
        rows = np.asarray(rows, dtype=int)
        starts = np.searchsorted(self.owner, np.arange(len(self) + 1))
        counts = starts[rows + 1] - starts[rows]
        owner = np.repeat(np.arange(len(rows)), counts)
        sentences = _concatenated_ranges(starts[rows], counts)
        return FindingRows(
            self.findings[rows],
            self.sentences[sentences],
            owner,
            [self.spans[i] for i in rows],
            self.finding_cues[rows],
            self.sentence_cues[sentences],
            self.cue_themes,
        )

    @property
    def sentence_counts(self) -> np.ndarray:
        return np.bincount(self.owner, minlength=len(self))


class FindingFeaturizer(TransformerMixin, BaseEstimator):
    """Findings -> `FindingRows`, tokenising every sentence once.

    Parameters
    ----------
    ngram_range : tuple of int
        Word n-gram range.
    min_df : int
        Minimum number of sentences an n-gram appears in.
    max_features : int or None
        Largest vocabulary.
    prefix_length : int or None
        With a number, a second block of n-grams (1-2) of every word cut to its first
        `prefix_length` characters ("safeguard", "safeguarding" and "safeguards" as one): the
        spelling variants character n-grams would catch, at the cost of one more tokenisation.
    char_ngram_range : tuple of int, optional
        With a range, a block of the character n-grams within words (`char_wb`) of the text's
        vocabulary words, TF-IDF weighted and L2-normalised on its own. It is not computed from
        the text: every vocabulary word's character n-grams are counted once at fit time (a word
        x n-gram matrix), and a row's block is its word counts times that matrix. Words outside
        the vocabulary add none.
    cues : dict of str to tuple of (str, str), optional
        Per theme id, the regular expressions of its specific and broad cues ("" for none). A
        vocabulary n-gram that a pattern matches whole is a cue of that theme and tier; each row
        then also counts its distinct cue n-grams (`FindingRows.finding_cues`, log1p). Matching
        the vocabulary once at fit time, not every text at labelling time, keeps cues nearly free.
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 3),
        min_df: int = 2,
        max_features: int | None = 400_000,
        prefix_length: int | None = None,
        char_ngram_range: tuple[int, int] | None = None,
        cues: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.prefix_length = prefix_length
        self.char_ngram_range = char_ngram_range
        self.cues = cues

    def fit(self, X: Sequence[str], y=None, sentences: Sequence[SentenceSpans] | None = None) -> FindingFeaturizer:
        X = list(X)
        spans = list(sentences) if sentences is not None else text_sentences(X)
        self.vectorizer_ = self._vectorizer(self.ngram_range, r"(?u)\b\w[\w'\u2019-]*\b")
        # A capturing group makes the vectorizer keep only what it captures: the word's first characters.
        self.prefixes_ = self._vectorizer((1, 2), rf"(?u)\b(\w{{1,{self.prefix_length}}})[\w'\u2019-]*") if self.prefix_length else None
        sentence_texts = _sentence_texts(X, spans)
        counts = self.vectorizer_.fit_transform(sentence_texts)
        if self.prefixes_ is not None:
            counts = sp.hstack([counts, self.prefixes_.fit_transform(sentence_texts)]).tocsr()
        finding_counts = _finding_counts(counts, _owner(spans), len(X))
        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(finding_counts)
        self.char_map_ = self._char_map() if self.char_ngram_range else None
        self.char_tfidf_ = TfidfTransformer(sublinear_tf=True).fit(finding_counts @ self.char_map_) if self.char_map_ is not None else None
        self.cue_themes_ = tuple(str(theme) for theme in (self.cues or {}))
        self.cue_terms_ = _cue_terms(self.feature_names(), [self.cues[t] for t in self.cue_themes_])
        return self

    def _char_map(self) -> sp.csr_matrix:
        """(n_features, n_char_ngrams): the character n-grams of each vocabulary word (rows of
        longer n-grams and of prefixes stay empty)."""
        words = self.feature_names()
        single = np.array([" " not in w for w in words], dtype=bool)
        chars = CountVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngram_range), dtype=np.float32)
        word_chars = chars.fit_transform(words[single]).tocoo()
        rows = np.flatnonzero(single)[word_chars.row]
        n_features = len(self.tfidf_.idf_)
        return sp.csr_matrix((word_chars.data, (rows, word_chars.col)), shape=(n_features, word_chars.shape[1]), dtype=np.float32)

    def _vectorizer(self, ngram_range, token_pattern: str) -> CompactCountVectorizer:
        return CompactCountVectorizer(
            ngram_range=tuple(ngram_range), min_df=self.min_df, max_features=self.max_features, token_pattern=token_pattern, dtype=np.float32
        )

    def _counts(self, sentence_texts: list[str]) -> sp.csr_matrix:
        if not sentence_texts:
            return sp.csr_matrix((0, len(self.tfidf_.idf_)), dtype=np.float32)
        counts = self.vectorizer_.transform(sentence_texts)
        if self.prefixes_ is not None:
            counts = sp.hstack([counts, self.prefixes_.transform(sentence_texts)]).tocsr()
        return counts

    def transform(self, X: Sequence[str], sentences: Sequence[SentenceSpans] | None = None) -> FindingRows:
        check_is_fitted(self, "tfidf_")
        X = list(X)
        spans = list(sentences) if sentences is not None else text_sentences(X)
        owner = _owner(spans)
        counts = self._counts(_sentence_texts(X, spans))
        finding_counts = _finding_counts(counts, owner, len(X))
        return FindingRows(
            findings=self._tfidf(finding_counts),
            sentences=self._tfidf(counts),
            owner=owner,
            spans=spans,
            finding_cues=self._cue_counts(finding_counts),
            sentence_cues=self._cue_counts(counts),
            cue_themes=self.cue_themes_,
        )

    def _tfidf(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        # TfidfTransformer refuses a matrix without rows; an empty batch has nothing to weigh.
        if not counts.shape[0]:
            n_chars = self.char_map_.shape[1] if self.char_map_ is not None else 0
            return sp.csr_matrix((0, counts.shape[1] + n_chars), dtype=np.float32)
        words = self.tfidf_.transform(counts).astype(np.float32)
        if self.char_map_ is None:
            return words.tocsr()
        return sp.hstack([words, self.char_tfidf_.transform(counts @ self.char_map_).astype(np.float32)], format="csr")

    def _cue_counts(self, counts: sp.csr_matrix) -> np.ndarray:
        """log1p of the distinct cue n-grams of each row, shape (n_rows, n_cue_themes, 2)."""
        present = counts.copy()
        present.data[:] = 1
        term, column = self.cue_terms_.T
        indicator = sp.csr_matrix((np.ones(len(term), dtype=np.float32), (term, column)), shape=(counts.shape[1], 2 * len(self.cue_themes_)))
        return np.log1p(np.asarray((present @ indicator).todense())).reshape(counts.shape[0], len(self.cue_themes_), 2)

    def fit_transform(self, X: Sequence[str], y=None, sentences: Sequence[SentenceSpans] | None = None) -> FindingRows:
        return self.fit(X, y, sentences).transform(X, sentences)

    def feature_names(self) -> np.ndarray:
        """The word n-grams, in column order (the prefix and character blocks' columns follow them)."""
        return self.vectorizer_.get_feature_names_out()


def _cue_terms(terms: np.ndarray, patterns: list[tuple[str, str]]) -> np.ndarray:
    """(vocabulary column, cue column) pairs: the n-grams each (theme, tier) pattern matches whole.

    Cue column 2k is theme k's specific tier, 2k + 1 its broad tier.
    """
    vocabulary = "\n".join(terms)
    starts = np.r_[0, np.cumsum([len(t) + 1 for t in terms])[:-1]]
    pairs = []
    for column, pattern in enumerate(p for pair in patterns for p in pair):
        if not pattern:
            continue
        whole = re.compile(rf"^(?:{pattern})$", re.IGNORECASE | re.MULTILINE)
        # A pattern's white space could also match the line break between two terms: skip those.
        matched = np.searchsorted(starts, [m.start() for m in whole.finditer(vocabulary) if "\n" not in m.group()], side="right") - 1
        pairs.extend((int(term), column) for term in matched)
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _concatenated_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`starts[k], starts[k] + 1, ..., starts[k] + counts[k] - 1` for every k, in one array."""
    return np.repeat(starts, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


def _owner(spans: Sequence[SentenceSpans]) -> np.ndarray:
    return np.repeat(np.arange(len(spans)), [len(s) for s in spans])


def _sentence_texts(X: list[str], spans: Sequence[SentenceSpans]) -> list[str]:
    return [text[start:end] for text, text_spans in zip(X, spans) for start, end in text_spans]


def _finding_counts(counts: sp.csr_matrix, owner: np.ndarray, n_findings: int) -> sp.csr_matrix:
    """Each finding's n-gram counts: the sum of its sentences' rows."""
    membership = sp.csr_matrix((np.ones(len(owner), dtype=counts.dtype), (owner, np.arange(len(owner)))), shape=(n_findings, len(owner)))
    return (membership @ counts).tocsr()


# Themes ------------------------------------------------------------------------------------------


class ThemeHead(ClassifierMixin, BaseEstimator):
    """Multi-label themes from `FindingRows`: linear SVMs read per finding and per best sentence.

    Each theme's calibrated probability is a logistic regression over the finding's and its best
    sentence's decision values (a summary paragraph's themes are diluted over the whole of it) and
    the theme's specific and broad cue counts, fitted on out-of-fold decisions; each theme's threshold maximises F1 on those and is shrunk
    towards the global micro-F1 threshold by `threshold_shrinkage` pseudo positives.

    Parameters
    ----------
    labels : sequence of str, optional
        Theme ids in the column order of `Y` (default: column numbers).
    C : float
        Inverse regularisation of the linear SVMs.
    inner_folds : int
    threshold_shrinkage : float
    random_state : int

    Attributes
    ----------
    classes_ : ndarray of str
    weights_ : ndarray of shape (n_features, n_themes)
        The one-vs-rest SVMs' coefficients side by side, so that a batch's decisions are one
        product over its rows rather than one pass per theme.
    intercept_ : ndarray of shape (n_themes,)
    calibration_coef_ : ndarray of shape (n_themes, 4)
    calibration_intercept_ : ndarray of shape (n_themes,)
        Each theme's calibrating logistic regression, side by side, applied to a batch at once.
    thresholds_ : ndarray of shape (n_themes,)
    """

    def __init__(self, labels: Sequence[str] | None = None, C: float = 0.5, inner_folds: int = 5, threshold_shrinkage: float = 50.0, random_state: int = 0) -> None:
        self.labels = labels
        self.C = C
        self.inner_folds = inner_folds
        self.threshold_shrinkage = threshold_shrinkage
        self.random_state = random_state

    def _linear(self) -> OneVsRestClassifier:
        return OneVsRestClassifier(LinearSVC(C=self.C, dual=True, max_iter=5000, random_state=self.random_state))

    def fit(self, X: FindingRows, Y: np.ndarray, groups: Sequence | None = None, taught: TaughtThemes | None = None) -> ThemeHead:
        """Fit on gold rows `X`, `Y`; with `taught` (a teacher model's theme decisions on other
        findings) the SVMs also learn from those, but calibration and thresholds are fitted on the
        gold's out-of-fold decisions only, and an inner fold's SVMs never learn from a teacher row of
        a group it tests on. The teacher itself may have learnt from every gold row here, so the
        inner decisions are a little optimistic; the outer cross-validation, whose teachers never saw
        its test groups, is what measures the result."""
        Y = np.asarray(Y, dtype=int)
        self.classes_ = np.asarray(self.labels if self.labels is not None else [str(j) for j in range(Y.shape[1])])
        if Y.ndim != 2 or Y.shape[1] != len(self.classes_):
            raise ValueError(f"Y must be an indicator matrix with {len(self.classes_)} columns; got {Y.shape}.")
        if taught is not None:
            taught.check(self.classes_, gold_grouped=groups is not None)
        self.cue_index_ = np.array([X.cue_themes.index(t) if t in X.cue_themes else -1 for t in self.classes_])
        inputs = np.zeros((len(X), Y.shape[1], 4))
        for train, test in inner_splits(len(X), self.inner_folds, groups, self.random_state):
            tested = set(np.asarray(groups, dtype=object)[test]) if groups is not None else set()
            linear = self._linear().fit(*_learning_rows(taught, X.findings[train], Y[train], leaving_out=tested))
            whole, sentence = _decisions(*_side_by_side(linear), X.take(test))
            inputs[test] = self._inputs(whole, _best_sentence(whole, sentence, X.take(test)), X.finding_cues[test])
        self.weights_, self.intercept_ = _side_by_side(self._linear().fit(*_learning_rows(taught, X.findings, Y)))
        coef, intercept = zip(*(_calibration(inputs[:, j], Y[:, j]) for j in range(Y.shape[1])))
        self.calibration_coef_, self.calibration_intercept_ = np.array(coef), np.array(intercept)
        self.thresholds_ = shrunk_thresholds(self._calibrated(inputs), Y, self.threshold_shrinkage)
        return self

    def _inputs(self, whole: np.ndarray, best: np.ndarray, cues: np.ndarray) -> np.ndarray:
        """Calibration inputs (n, n_themes, 4): finding and best-sentence decisions, specific and broad cues."""
        theme_cues = np.zeros(whole.shape + (2,))
        known = self.cue_index_ >= 0
        theme_cues[:, known] = cues[:, self.cue_index_[known]]
        return np.concatenate([whole[..., None], best[..., None], theme_cues], axis=-1)

    def _calibrated(self, inputs: np.ndarray) -> np.ndarray:
        return expit(np.einsum("ntk,tk->nt", inputs, self.calibration_coef_) + self.calibration_intercept_)

    def predict_proba_with_sentences(self, X: FindingRows) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities of each finding and of each of its sentences read as a text of its own."""
        check_is_fitted(self, "weights_")
        whole, sentence = _decisions(self.weights_, self.intercept_, X)
        findings = self._calibrated(self._inputs(whole, _best_sentence(whole, sentence, X), X.finding_cues))
        sentences = self._calibrated(self._inputs(sentence, sentence, X.sentence_cues))
        return findings, sentences

    def predict_proba(self, X: FindingRows) -> np.ndarray:
        return self.predict_proba_with_sentences(X)[0]

    def predict(self, X: FindingRows) -> np.ndarray:
        return (self.predict_proba(X) >= self.thresholds_).astype(int)


@dataclass
class TaughtThemes:
    """A teacher's theme decisions on findings of its own, for `ThemeHead.fit`.

    rows: the findings' `FindingRows`. Y: (n, n_themes) indicator, columns named by `theme_ids`.
    groups: the group of each finding, so that an inner fold never learns from a teacher row of a
    group it tests on (required when the gold has groups).
    """

    rows: FindingRows
    Y: np.ndarray
    theme_ids: Sequence[str]
    groups: Sequence | None = None

    def check(self, classes: np.ndarray, gold_grouped: bool) -> None:
        if [str(t) for t in self.theme_ids] != [str(c) for c in classes]:
            raise ValueError(f"the teacher's themes {list(self.theme_ids)[:3]}... are not the model's {list(classes)[:3]}... in the same order.")
        if np.shape(self.Y) != (len(self.rows), len(classes)):
            raise ValueError(f"the teacher's theme matrix must have shape ({len(self.rows)}, {len(classes)}); got {np.shape(self.Y)}.")
        if gold_grouped and self.groups is None:
            raise ValueError("the gold rows have groups but the teacher's rows have none: give the teacher's groups, so that an "
                             "inner fold does not learn from teacher rows of the groups it tests on.")
        if self.groups is not None and len(self.groups) != len(self.rows):
            raise ValueError(f"the teacher gives {len(self.groups)} groups for {len(self.rows)} findings.")

    def added_to(self, findings: sp.csr_matrix, Y: np.ndarray, leaving_out: set = frozenset()) -> tuple[sp.csr_matrix, np.ndarray]:
        """The gold rows with the teacher's rows below them, but for those of the groups `leaving_out`."""
        keep = np.ones(len(self.Y), dtype=bool)
        if self.groups is not None:
            keep = ~np.isin(np.array([str(g) for g in self.groups], dtype=object), [str(g) for g in leaving_out])
        return sp.vstack([findings, self.rows.findings[keep]]).tocsr(), np.vstack([Y, np.asarray(self.Y, dtype=int)[keep]])


def _learning_rows(taught: TaughtThemes | None, findings: sp.csr_matrix, Y: np.ndarray, leaving_out: set = frozenset()):
    """What a theme SVM learns from: the gold rows, and the teacher's when there is one."""
    return taught.added_to(findings, Y, leaving_out) if taught is not None else (findings, Y)


def _side_by_side(linear: OneVsRestClassifier) -> tuple[np.ndarray, np.ndarray]:
    """(n_features, n_themes) coefficients and (n_themes,) intercepts of a fitted one-vs-rest model;
    a theme without positives (`_ConstantPredictor`) gets no weights and its constant decision."""
    nothing = sp.csr_matrix((1, linear.n_features_in_), dtype=np.float32)
    weights = np.zeros((linear.n_features_in_, len(linear.estimators_)), dtype=np.float32)
    for j, estimator in enumerate(linear.estimators_):
        if hasattr(estimator, "coef_"):
            weights[:, j] = estimator.coef_[0]
    intercept = np.array([float(np.ravel(estimator.decision_function(nothing))[0]) for estimator in linear.estimators_])
    return weights, intercept


def _decisions(weights: np.ndarray, intercept: np.ndarray, X: FindingRows) -> tuple[np.ndarray, np.ndarray]:
    """Decision values of each theme on each finding and each sentence, in one product."""
    both = sp.vstack([X.findings, X.sentences]).tocsr() @ weights + intercept
    return both[: len(X)], both[len(X) :]


def _best_sentence(whole: np.ndarray, sentence: np.ndarray, X: FindingRows) -> np.ndarray:
    """Each finding's best sentence decision; a one-sentence finding's is its own."""
    best = whole.copy()
    several = X.sentence_counts > 1
    if several.any():
        pooled = pool_max(sentence, X.owner, len(X))
        best[several] = pooled[several]
    return best


def _calibration(inputs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """Coefficients and intercept of a theme's calibrating logistic regression; for a theme whose
    training labels are all equal, no coefficients and that label's log-odds (minus or plus infinity)."""
    if labels.min() == labels.max():
        return np.zeros(inputs.shape[1]), float(logit(labels[0]))
    model = LogisticRegression(C=100.0).fit(inputs, labels)
    return model.coef_[0], float(model.intercept_[0])


# Polarity ----------------------------------------------------------------------------------------


class PolarityHead(ClassifierMixin, BaseEstimator):
    """Polarity from `FindingRows`: a finding model, a sentence model and a stack over both.

    The finding model and the sentence model are multinomial logistic regressions (the sentence
    model learns single verdicts: the sentences of findings that are not `mixed`, each taking its
    finding's polarity). The stack, a multinomial logistic regression on standardised inputs,
    reads the finding model's log-probabilities and summaries of the sentence model's: per
    polarity the maximum, mean, first and last sentence; the lower of the strongest strength and
    the strongest weakness sentence; how often the dominant verdict turns; the number of
    sentences, contrast words, imperative openings and figures. It learns from out-of-fold outputs.

    Rows may repeat a finding with different labels: a teacher's soft labels are given as one row
    per polarity, weighted by its probability (`sample_weight`).

    Parameters
    ----------
    labels : sequence of str
    C, sentence_C, stack_C : float
        Inverse regularisation of the finding, sentence and stack models.
    inner_folds : int
    random_state : int
    """

    def __init__(self, labels: Sequence[str] = POLARITIES, C: float = 3.0, sentence_C: float = 1.0, stack_C: float = 0.3, inner_folds: int = 5, random_state: int = 0) -> None:
        self.labels = labels
        self.C = C
        self.sentence_C = sentence_C
        self.stack_C = stack_C
        self.inner_folds = inner_folds
        self.random_state = random_state

    def fit(self, X: FindingRows, y: Sequence[str], texts: Sequence[str], groups: Sequence | None = None, sample_weight: np.ndarray | None = None) -> PolarityHead:
        """Fit on finding rows, their polarities and texts (read for the cue counts)."""
        y = np.asarray(list(y), dtype=str)
        unknown = set(y) - set(self.labels)
        if unknown:
            raise ValueError(f"unknown polarity values {sorted(unknown)}; expected {list(self.labels)}.")
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        texts = list(texts)
        cues = _polarity_cues(texts)
        stack_inputs = None
        for train, test in inner_splits(len(X), self.inner_folds, groups, self.random_state):
            finding_model, sentence_model = self._fit_models(X.take(train), y[train], weight[train])
            inputs = self._stack_inputs(X.take(test), cues[test], finding_model, sentence_model)
            stack_inputs = np.zeros((len(X), inputs.shape[1])) if stack_inputs is None else stack_inputs
            stack_inputs[test] = inputs
        self.finding_model_, self.sentence_model_ = self._fit_models(X, y, weight)
        self.stack_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.stack_C, max_iter=5000))
        self.stack_.fit(stack_inputs, y, logisticregression__sample_weight=weight)
        self.classes_ = self.stack_.classes_
        return self

    def _fit_models(self, X: FindingRows, y: np.ndarray, weight: np.ndarray):
        finding_model = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000).fit(X.findings, y, sample_weight=weight)
        sentence_y, sentence_weight = y[X.owner], weight[X.owner]
        single = sentence_y != MIXED
        sentence_model = LogisticRegression(C=self.sentence_C, class_weight="balanced", max_iter=2000).fit(
            X.sentences[np.flatnonzero(single)], sentence_y[single], sample_weight=sentence_weight[single]
        )
        return finding_model, sentence_model

    def _stack_inputs(self, X: FindingRows, cues: np.ndarray, finding_model, sentence_model) -> np.ndarray:
        n, owner = len(X), X.owner
        finding_probabilities = columns_in_order(finding_model, finding_model.predict_proba(X.findings), self.labels)
        sentence_labels = [label for label in self.labels if label != MIXED]
        sentences = columns_in_order(sentence_model, sentence_model.predict_proba(X.sentences), sentence_labels)
        maxima = pool_max(sentences, owner, n)
        both = np.minimum(maxima[:, sentence_labels.index(STRENGTH)], maxima[:, sentence_labels.index(WEAKNESS)])
        first = np.r_[True, owner[1:] != owner[:-1]] if len(owner) else np.zeros(0, bool)
        last = np.r_[owner[1:] != owner[:-1], True] if len(owner) else np.zeros(0, bool)
        dominant = sentences.argmax(axis=1)
        turned = np.r_[False, (dominant[1:] != dominant[:-1]) & ~first[1:]] if len(owner) else np.zeros(0, bool)
        return np.column_stack(
            [
                np.log(finding_probabilities + 1e-4),
                maxima,
                pool_mean(sentences, owner, n),
                both,
                sentences[first],
                sentences[last],
                np.bincount(owner, weights=turned, minlength=n),
                np.log1p(X.sentence_counts),
                cues,
            ]
        )

    def predict_proba(self, X: FindingRows, texts: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "stack_")
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)))
        inputs = self._stack_inputs(X, _polarity_cues(list(texts)), self.finding_model_, self.sentence_model_)
        return self.stack_.predict_proba(inputs)

    def predict(self, X: FindingRows, texts: Sequence[str]) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X, texts), axis=1)]


def _polarity_cues(texts: list[str]) -> np.ndarray:
    """Per text: contrast words, imperative opening, figures (log1p counts)."""
    counts = [(len(CONTRAST.findall(t)), bool(IMPERATIVE_OPENING.search(t)), len(FIGURE.findall(t))) for t in texts]
    return np.log1p(np.asarray(counts, dtype=float).reshape(len(texts), 3))


def columns_in_order(model, probabilities: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Probability columns in the order of `labels` (0 for a label the model never saw)."""
    ordered = np.zeros((len(probabilities), len(labels)))
    for k, label in enumerate(labels):
        if label in model.classes_:
            ordered[:, k] = probabilities[:, list(model.classes_).index(label)]
    return ordered


# The whole model ---------------------------------------------------------------------------------


@dataclass
class DistilledFindings:
    """Findings labelled by a teacher model: its polarity probabilities, optionally its themes, and a weight.

    texts: the findings. polarity: (n, n_polarities), columns in the taxonomy's polarity order.
    groups: group of each finding (never one of a test fold's). weight: of a distilled row against a
    gold one in the polarity model (a taught theme row counts as a gold row). themes: (n, n_themes)
    indicator of the teacher's theme decisions, columns named by `theme_ids`, or None to learn themes
    from the gold alone. unseen_groups: the groups whose gold the teacher never learnt from (a fold's
    teacher must not have seen the gold of the groups the fold tests on), or None when unknown.
    """

    texts: list[str]
    polarity: np.ndarray
    groups: list[str] | None
    weight: float = 0.3
    themes: np.ndarray | None = None
    theme_ids: Sequence[str] | None = None
    unseen_groups: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if self.themes is not None and self.theme_ids is None:
            raise ValueError("a teacher's theme decisions need their theme_ids, to be matched with the student's themes.")


class FastFindingClassifier(BaseEstimator):
    """Themes, finding polarity and (theme, polarity) pairs from one `FindingFeaturizer` pass.

    Parameters
    ----------
    featurizer : FindingFeaturizer
    themes : ThemeHead
    polarity : PolarityHead
    pair_C : float
        Inverse regularisation of the pair model: the polarity of a theme of a `mixed` finding,
        read from the theme's focus sentences (other findings give every theme their polarity).
    evidence_ngrams : int
        Word n-grams reported as evidence per theme when evidence is asked for.
    """

    def __init__(self, featurizer: FindingFeaturizer | None = None, themes: ThemeHead | None = None, polarity: PolarityHead | None = None, pair_C: float = 3.0, evidence_ngrams: int = 5) -> None:
        self.featurizer = featurizer
        self.themes = themes
        self.polarity = polarity
        self.pair_C = pair_C
        self.evidence_ngrams = evidence_ngrams

    def fit(
        self,
        X: Sequence[str],
        Y: np.ndarray,
        polarity: Sequence[str],
        theme_polarity: Sequence[dict[str, str]],
        groups: Sequence | None = None,
        distilled: DistilledFindings | None = None,
    ) -> FastFindingClassifier:
        X = list(X)
        distilled_texts = distilled.texts if distilled is not None else []
        self.featurizer_ = clone(self.featurizer or FindingFeaturizer()).fit(X + distilled_texts)
        rows = self.featurizer_.transform(X)
        teacher_rows = self.featurizer_.transform(distilled.texts) if distilled is not None else None
        taught = None
        if distilled is not None and distilled.themes is not None:
            taught = TaughtThemes(teacher_rows, distilled.themes, distilled.theme_ids, distilled.groups)
        self.themes_ = clone(self.themes or ThemeHead()).fit(rows, Y, groups, taught)
        self.polarity_ = clone(self.polarity or PolarityHead())
        if distilled is None:
            self.polarity_.fit(rows, polarity, X, groups)
        else:
            self._fit_polarity_with(rows, teacher_rows, X, list(polarity), groups, distilled)
        self.pair_model_ = self._fit_pairs(rows, np.asarray(polarity), theme_polarity)
        return self

    def _fit_polarity_with(self, rows: FindingRows, teacher_rows: FindingRows, X: list[str], polarity: list[str], groups, distilled: DistilledFindings) -> None:
        """Gold rows with weight 1 and each teacher-labelled finding once per polarity it gives at
        least `_SOFT_LABEL_FLOOR` of probability, weighted by that probability times `weight`."""
        taught, columns = np.nonzero(distilled.polarity >= _SOFT_LABEL_FLOOR)
        labels = [POLARITIES[c] for c in columns]
        weights = distilled.weight * distilled.polarity[taught, columns]
        all_rows = _concatenate(rows, teacher_rows.take(taught))
        all_groups = None
        if groups is not None and distilled.groups is not None:
            all_groups = [str(g) for g in groups] + [str(distilled.groups[i]) for i in taught]
        self.polarity_.fit(
            all_rows,
            polarity + labels,
            X + [distilled.texts[i] for i in taught],
            all_groups,
            np.r_[np.ones(len(X)), weights],
        )

    def _fit_pairs(self, rows: FindingRows, polarity: np.ndarray, theme_polarity: Sequence[dict[str, str]]):
        theme_index = {str(t): j for j, t in enumerate(self.themes_.classes_)}
        pairs = [(i, theme_index[t]) for i, labels in enumerate(theme_polarity) if polarity[i] == MIXED for t in labels if labels[t]]
        if not pairs:
            return None
        _, sentence_probabilities = self.themes_.predict_proba_with_sentences(rows)
        focus = _focus_rows(rows, sentence_probabilities, pairs)
        targets = [theme_polarity[i][str(self.themes_.classes_[j])] for i, j in pairs]
        if len(set(targets)) < 2:
            return DummyClassifier(strategy="most_frequent").fit(focus, targets)
        return LogisticRegression(C=self.pair_C, class_weight="balanced", max_iter=2000).fit(focus, targets)

    def predict(self, X: Sequence[str], with_evidence: bool = True, sentences: Sequence[SentenceSpans] | None = None) -> list[FindingLabels]:
        check_is_fitted(self, "themes_")
        X = list(X)
        if not X:
            return []
        rows = self.featurizer_.transform(X, sentences)
        probabilities, sentence_probabilities = self.themes_.predict_proba_with_sentences(rows)
        chosen = probabilities >= self.themes_.thresholds_
        polarities = self.polarity_.predict(rows, X)
        pairs = [(i, j) for i in np.flatnonzero(polarities == MIXED) for j in np.flatnonzero(chosen[i])]
        pair_polarity = {}
        if pairs and self.pair_model_ is not None:
            pair_polarity = dict(zip(pairs, map(str, self.pair_model_.predict(_focus_rows(rows, sentence_probabilities, pairs)))))
        ngrams = self.word_contributions(rows, chosen) if with_evidence else None
        starts = np.searchsorted(rows.owner, np.arange(len(X) + 1))
        theme_ids = [str(t) for t in self.themes_.classes_]
        rounded = np.round(probabilities, 4).tolist()
        results = []
        for i, text in enumerate(X):
            columns = np.flatnonzero(chosen[i])
            mine = sentence_probabilities[starts[i] : starts[i + 1]]
            label = FindingLabels(
                themes=[theme_ids[j] for j in columns],
                polarity=str(polarities[i]),
                theme_polarity={theme_ids[j]: pair_polarity.get((i, j), str(polarities[i])) for j in columns},
                scores=dict(zip(theme_ids, rounded[i])),
            )
            label.evidence = theme_evidence(text, rows.spans[i], mine, columns, theme_ids, ngrams[i] if ngrams is not None else None)
            results.append(label)
        return results

    def scores(self, X: Sequence[str], sentences: Sequence[SentenceSpans] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Theme probabilities (columns `themes_.classes_`) and polarity probabilities (columns
        `polarity_.classes_`) of each text, from one featurisation."""
        check_is_fitted(self, "themes_")
        X = list(X)
        return self.scores_of_rows(self.featurizer_.transform(X, sentences), X)

    def scores_of_rows(self, rows: FindingRows, X: Sequence[str], polarities: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """`scores` of texts `X` already featurised as `rows` (`featurizer_.transform`), so a caller
        that also wants `word_contributions` featurises once; with `polarities`, the polarity
        columns in that order (0 for a polarity the training data lacked)."""
        polarity = self.polarity_.predict_proba(rows, X)
        return self.themes_.predict_proba(rows), polarity if polarities is None else columns_in_order(self.polarity_, polarity, polarities)

    def word_contributions(self, rows: FindingRows, chosen: np.ndarray) -> list[dict[int, list[str]]]:
        """The n-grams of each finding that pushed hardest towards each of its chosen themes, for
        all (finding, theme) pairs of the batch at once: per finding, theme column -> n-grams."""
        names = self.featurizer_.feature_names()
        # The prefix and character blocks' columns follow the words': only words are evidence.
        words = rows.findings[:, : len(names)].tocsr()
        finding, theme = np.nonzero(chosen)
        counts = np.diff(words.indptr)[finding]
        pair = np.repeat(np.arange(len(finding)), counts)
        entry = _concatenated_ranges(words.indptr[finding], counts)
        columns = words.indices[entry]
        contributions = words.data[entry] * self.themes_.weights_[columns, theme[pair]]
        pushing = contributions > 0
        pair, columns, contributions = pair[pushing], columns[pushing], contributions[pushing]
        order = np.lexsort((-contributions, pair))
        pair, columns = pair[order], columns[order]
        rank = np.arange(len(pair)) - np.searchsorted(pair, pair)
        explained: list[dict[int, list[str]]] = [{int(j): [] for j in np.flatnonzero(row)} for row in chosen]
        for k, column in zip(pair[rank < self.evidence_ngrams], columns[rank < self.evidence_ngrams]):
            explained[finding[k]][int(theme[k])].append(str(names[column]))
        return explained


def _focus_rows(rows: FindingRows, sentence_probabilities: np.ndarray, pairs: list[tuple[int, int]]) -> sp.csr_matrix:
    """For each (finding, theme) pair, the L2-normalised sum of the theme's focus sentences' rows."""
    starts = np.searchsorted(rows.owner, np.arange(len(rows) + 1))
    data_rows, data_columns = [], []
    for k, (i, j) in enumerate(pairs):
        focus = starts[i] + np.flatnonzero(focus_mask(sentence_probabilities[starts[i] : starts[i + 1]], j))
        data_rows.extend([k] * len(focus))
        data_columns.extend(focus)
    selection = sp.csr_matrix((np.ones(len(data_rows), dtype=np.float32), (data_rows, data_columns)), shape=(len(pairs), rows.sentences.shape[0]))
    summed = (selection @ rows.sentences).tocsr()
    norms = np.sqrt(np.asarray(summed.multiply(summed).sum(axis=1)).ravel())
    return sp.diags(1.0 / np.maximum(norms, 1e-12)) @ summed


def _concatenate(first: FindingRows, second: FindingRows) -> FindingRows:
    return FindingRows(
        findings=sp.vstack([first.findings, second.findings]).tocsr(),
        sentences=sp.vstack([first.sentences, second.sentences]).tocsr(),
        owner=np.r_[first.owner, second.owner + len(first)],
        spans=first.spans + second.spans,
        finding_cues=np.concatenate([first.finding_cues, second.finding_cues]),
        sentence_cues=np.concatenate([first.sentence_cues, second.sentence_cues]),
        cue_themes=first.cue_themes,
    )
