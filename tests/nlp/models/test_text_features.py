"""The compact vectorizer: saves its vocabulary as one string and stays usable after saving."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import skops.io as sio

from nlp.artifact import TRUSTED_TYPES
from nlp.models.text_features import CompactTfidfVectorizer, NgramLookup, make_text_features, transform

TEXTS = [
    "Return home interviews are timely for children who go missing.",
    "Adopters are recruited quickly and matched well.",
    "Care leavers are helped by personal advisers who stay in touch.",
    "Return home interviews are not always completed.",
]


@pytest.fixture
def fitted():
    features = make_text_features(min_df=1)
    features.fit(TEXTS)
    return features


def test_compact_vectorizer_round_trips_through_skops_with_the_same_features(fitted):
    loaded = sio.loads(sio.dumps(fitted), trusted=list(TRUSTED_TYPES))
    for (_, before), (_, after) in zip(fitted.transformer_list, loaded.transformer_list):
        assert isinstance(after, CompactTfidfVectorizer)
        assert after.vocabulary_ == before.vocabulary_
    assert np.array_equal(transform(loaded, TEXTS).toarray(), transform(fitted, TEXTS).toarray())


def test_compact_vectorizer_still_transforms_after_being_saved(fitted):
    expected = transform(fitted, TEXTS).toarray()
    sio.dumps(fitted)
    pickle.dumps(fitted)
    assert np.array_equal(transform(fitted, TEXTS).toarray(), expected)


def test_compact_vectorizer_saves_the_vocabulary_as_one_string_without_dropped_ngrams(fitted):
    words = fitted.transformer_list[0][1]
    state = words.__getstate__()
    assert "vocabulary_" not in state and "stop_words_" not in state
    assert state["vocabulary_terms_"].split("\n")[words.vocabulary_["adopters"]] == "adopters"


def test_compact_vectorizer_refuses_a_vocabulary_it_cannot_save_compactly():
    vectorizer = CompactTfidfVectorizer(analyzer="char", ngram_range=(1, 1)).fit(["line one\nline two"])
    with pytest.raises(ValueError, match="line break"):
        sio.dumps(vectorizer)


def test_an_ngram_with_an_unknown_word_is_not_counted_as_the_vocabulary_ngram_its_key_would_match():
    # Words "a" = 0 and "b" = 1: "a b" has the key 0 * 2 + 1 = 1, and so would "b <unknown>" (1 * 2 - 1).
    lookup = NgramLookup({"a": 0, "b": 1, "a b": 2})
    assert lookup.counts([["b", "zz"], ["a", "b"]], (1, 2), np.float32).toarray().tolist() == [[0, 1, 0], [1, 1, 1]]
