"""The fast model: one featurisation pass, heads that follow the estimator contract, soft labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils.estimator_checks import check_no_attributes_set_in_init

from nlp.artifact import dumps_estimator, loads_estimator
from nlp.models.fast import (
    TaughtThemes,
    CompactCountVectorizer,
    DistilledFindings,
    FastFindingClassifier,
    FindingFeaturizer,
    PolarityHead,
    ThemeHead,
)
from nlp.models._cv import inner_splits
from nlp.scoring import theme_matrix
from nlp.sentences import text_sentences
from nlp.taxonomy import POLARITIES, THEME_IDS
from tests.conftest import TINY_POLARITY_WORDS, TINY_THEMES, tiny_training_set

TEXTS = [
    "Return home interviews are timely. However, too few children are offered one.",
    "Adopters are matched quickly.",
    "Personal advisers keep in touch with care leavers. Pathway plans are strong. Caseloads are high.",
]


def _fit(records: list[dict], **parameters) -> FastFindingClassifier:
    model = FastFindingClassifier(
        featurizer=FindingFeaturizer(min_df=1, **parameters.pop("featurizer", {})),
        themes=ThemeHead(labels=THEME_IDS, inner_folds=2),
        polarity=PolarityHead(inner_folds=2),
    )
    return model.fit(
        [r["text"] for r in records],
        theme_matrix([r["themes"] for r in records], THEME_IDS),
        [r["polarity"] for r in records],
        [r["theme_polarity"] for r in records],
        [r["local_authority"] for r in records],
        **parameters,
    )


@pytest.fixture(scope="module")
def fast_model() -> FastFindingClassifier:
    return _fit(tiny_training_set())


# Featuriser --------------------------------------------------------------------------------------


def test_a_findings_row_is_made_from_its_sentences_counts():
    featurizer = FindingFeaturizer(ngram_range=(1, 1), min_df=1).fit(TEXTS)
    rows = featurizer.transform(TEXTS)
    assert rows.findings.shape[0] == 3 and rows.sentences.shape[0] == 6
    assert list(rows.owner) == [0, 0, 1, 2, 2, 2]
    # The first finding's words are exactly the union of its two sentences' words.
    finding_words = set(rows.findings[0].indices)
    sentence_words = set(rows.sentences[0].indices) | set(rows.sentences[1].indices)
    assert finding_words == sentence_words
    # Rows are L2-normalised TF-IDF.
    assert np.allclose(np.sqrt(rows.findings.multiply(rows.findings).sum(axis=1)), 1.0)


def test_sentences_given_by_the_doc_are_used_as_given():
    featurizer = FindingFeaturizer(min_df=1).fit(TEXTS)
    whole = [[(0, len(text))] for text in TEXTS]
    rows = featurizer.transform(TEXTS, whole)
    assert rows.sentences.shape[0] == 3
    assert np.allclose(rows.findings.toarray(), featurizer.transform(TEXTS).findings.toarray(), atol=1e-6)
    assert rows.spans == whole
    assert featurizer.transform(TEXTS).spans == text_sentences(TEXTS)


def test_taking_findings_keeps_their_own_sentences():
    rows = FindingFeaturizer(min_df=1).fit(TEXTS).transform(TEXTS)
    taken = rows.take(np.array([2, 0]))
    assert list(taken.owner) == [0, 0, 0, 1, 1]
    assert (taken.sentences[3] != rows.sentences[0]).nnz == 0
    assert taken.spans == [rows.spans[2], rows.spans[0]]


def test_cues_count_vocabulary_ngrams_that_a_pattern_matches_whole():
    cues = {"missing_children": (r"return home interviews?", r"missing"), "adoption": (r"adopters?", "")}
    featurizer = FindingFeaturizer(min_df=1, cues=cues).fit(TEXTS + ["Children go missing."])
    rows = featurizer.transform(["Return home interviews for children missing. Adopters wait.", "Nothing here."])
    assert rows.cue_themes == ("missing_children", "adoption")
    counts = np.expm1(rows.finding_cues)
    assert counts[0].tolist() == [[1, 1], [1, 0]]
    assert counts[1].sum() == 0


def test_an_empty_batch_gives_empty_rows():
    rows = FindingFeaturizer(min_df=1).fit(TEXTS).transform([])
    assert rows.findings.shape[0] == 0 and rows.sentences.shape[0] == 0
    with_chars = FindingFeaturizer(min_df=1, char_ngram_range=(3, 4)).fit(TEXTS)
    assert with_chars.transform([]).findings.shape == (0, with_chars.transform(TEXTS).findings.shape[1])


def test_character_ngrams_come_from_the_vocabulary_words_of_the_text():
    featurizer = FindingFeaturizer(ngram_range=(1, 2), min_df=1, char_ngram_range=(3, 4)).fit(TEXTS)
    n_words = len(featurizer.feature_names())
    char_names = featurizer.char_map_.shape[1]
    rows = featurizer.transform(["Adopters are matched.", "Adopters zzzqqq."])
    own = rows.findings[0, n_words:]
    # The block holds the char_wb 3-4-grams of "adopters", "are" and "matched", and no others.
    expected = CountVectorizer(analyzer="char_wb", ngram_range=(3, 4)).fit(["adopters are matched"]).get_feature_names_out()
    names = CountVectorizer(analyzer="char_wb", ngram_range=(3, 4)).fit(list(featurizer.feature_names()[[" " not in w for w in featurizer.feature_names()]])).get_feature_names_out()
    assert len(names) == char_names
    assert set(names[own.indices]) == set(expected)
    # An out-of-vocabulary word adds no character n-grams: only "adopters"' remain.
    assert set(names[rows.findings[1, n_words:].indices]) == set(CountVectorizer(analyzer="char_wb", ngram_range=(3, 4)).fit(["adopters"]).get_feature_names_out())
    # The word block and the character block are each L2-normalised.
    assert np.isclose(np.linalg.norm(rows.findings[0, :n_words].toarray()), 1.0)
    assert np.isclose(np.linalg.norm(own.toarray()), 1.0)


# Words not seen in fitting, repeated n-grams, case, apostrophes, hyphens, an empty text.
UNSEEN = [
    "Return home interviews are timely, timely and TIMELY. Return home interviews!",
    "Care leavers' pathway plans are up-to-date; zzqq care leavers zzqq.",
    "",
    "Caseloads are high high high.",
]


def _word_pairs(text: str) -> list[str]:
    """A tokenizer whose tokens hold a space: words two by two."""
    words = text.split()
    return [" ".join(words[i : i + 2]) for i in range(0, len(words), 2)]


@pytest.mark.parametrize(
    "settings",
    [
        {"ngram_range": (1, 3), "token_pattern": r"(?u)\b\w[\w'\u2019-]*\b"},
        # The prefix block's vectorizer: a capturing group keeps a word's first characters.
        {"ngram_range": (1, 2), "token_pattern": r"(?u)\b(\w{1,4})[\w'\u2019-]*"},
        {"ngram_range": (2, 3), "stop_words": ["are", "and"]},
        {"ngram_range": (1, 2), "binary": True},
        {"ngram_range": (1, 2), "tokenizer": _word_pairs, "token_pattern": None},
    ],
    ids=["words", "prefixes", "stop-words", "binary", "tokens-with-spaces"],
)
def test_the_vectorizer_counts_exactly_what_scikit_learn_counts(settings):
    vectorizer = CompactCountVectorizer(min_df=1, dtype=np.float32, **settings).fit(TEXTS + UNSEEN[:1])
    ours, theirs = vectorizer.transform(UNSEEN + TEXTS), CountVectorizer.transform(vectorizer, UNSEEN + TEXTS)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape and ours.has_canonical_format
    assert (ours != theirs).nnz == 0
    assert list(vectorizer.get_feature_names_out()) == list(CountVectorizer.get_feature_names_out(vectorizer))


def test_the_vectorizer_counts_with_its_new_vocabulary_after_a_refit_and_after_saving():
    vectorizer = CompactCountVectorizer(min_df=1).fit(TEXTS)
    vectorizer.transform(UNSEEN)
    vectorizer.fit(UNSEEN)
    assert (vectorizer.transform(TEXTS) != CountVectorizer.transform(vectorizer, TEXTS)).nnz == 0
    assert list(vectorizer.get_feature_names_out()) == list(CountVectorizer.get_feature_names_out(vectorizer))
    restored = loads_estimator(dumps_estimator(vectorizer), "vectorizer")
    assert not hasattr(restored, "_lookup")
    assert (restored.transform(TEXTS) != vectorizer.transform(TEXTS)).nnz == 0


def test_the_vectorizer_refuses_a_single_string_as_scikit_learn_does():
    with pytest.raises(ValueError, match="Iterable over raw text documents expected"):
        CompactCountVectorizer(min_df=1).fit(TEXTS).transform("Adopters are matched quickly.")


def test_the_committed_fast_models_vectorizer_counts_corpus_sentences_as_scikit_learn_does(corpus):
    from nlp.classify import CLASSIFIER_PIPE, load_pipeline, resolve_model

    vectorizer = load_pipeline(resolve_model("fast")).get_pipe(CLASSIFIER_PIPE).model.classifier.featurizer_.vectorizer_
    texts = [path.read_text(encoding="utf-8") for path in sorted((corpus / "text").glob("*.txt"))[:3]]
    sentences = [text[start:end] for text, spans in zip(texts, text_sentences(texts)) for start, end in spans]
    assert (vectorizer.transform(sentences) != CountVectorizer.transform(vectorizer, sentences)).nnz == 0


# Heads -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("head", [ThemeHead(labels=THEME_IDS, C=2.0), PolarityHead(C=2.0)])
def test_heads_follow_the_estimator_contract(head):
    copy = clone(head)
    assert copy.get_params() == head.get_params()
    # __init__ stores its parameters and nothing else (what clone and grid search rely on).
    check_no_attributes_set_in_init(type(head).__name__, head)
    with pytest.raises(NotFittedError):
        head.predict_proba(FindingFeaturizer(min_df=1).fit(TEXTS).transform(TEXTS), *(() if isinstance(head, ThemeHead) else (TEXTS,)))


def test_fit_returns_the_estimator_and_predicts_the_training_labels(fast_model):
    records = tiny_training_set()
    unfitted = FastFindingClassifier(featurizer=FindingFeaturizer(min_df=1), themes=ThemeHead(labels=THEME_IDS, inner_folds=2))
    assert unfitted.fit([r["text"] for r in records], theme_matrix([r["themes"] for r in records], THEME_IDS),
                        [r["polarity"] for r in records], [r["theme_polarity"] for r in records]) is unfitted
    assert isinstance(fast_model.themes_, ThemeHead) and isinstance(fast_model.polarity_, PolarityHead)
    predictions = fast_model.predict([r["text"] for r in records], with_evidence=False)
    assert [p.themes for p in predictions] == [r["themes"] for r in records]
    assert [p.polarity for p in predictions] == [r["polarity"] for r in records]
    assert all(set(p.scores) == set(THEME_IDS) for p in predictions)


def test_evidence_names_focus_sentences_with_offsets_and_ngrams_only_when_asked(fast_model):
    text = f"{TINY_THEMES['adoption']} in borough 9. {TINY_POLARITY_WORDS['strength']}"
    labels = fast_model.predict([text], with_evidence=True)[0]
    sentences = labels.evidence["adoption"]["sentences"]
    assert sentences and all(text[s["start"] : s["end"]] == s["text"] for s in sentences)
    assert labels.evidence["adoption"]["ngrams"]
    assert "ngrams" not in fast_model.predict([text], with_evidence=False)[0].evidence["adoption"]


def test_scores_come_in_the_taxonomys_polarity_order_with_zeros_for_polarities_never_seen(fast_model):
    texts = [r["text"] for r in tiny_training_set()]
    _, polarity = fast_model.scores(texts)
    _, ordered = fast_model.scores_of_rows(fast_model.featurizer_.transform(texts), texts, POLARITIES)
    # The tiny set has strengths and weaknesses only: its model never saw `mixed` or `neutral`.
    seen = list(fast_model.polarity_.classes_)
    for k, value in enumerate(POLARITIES):
        expected = polarity[:, seen.index(value)] if value in seen else np.zeros(len(texts))
        assert np.array_equal(ordered[:, k], expected)


def test_the_model_survives_the_safe_artifact_round_trip(fast_model):
    texts = [r["text"] for r in tiny_training_set()]
    with_chars = _fit(tiny_training_set(), featurizer={"char_ngram_range": (3, 4), "prefix_length": 5})
    for model in (fast_model, with_chars):
        loaded = loads_estimator(dumps_estimator(model), "model.skops")
        assert [p.to_dict(True) for p in loaded.predict(texts)] == [p.to_dict(True) for p in model.predict(texts)]


def test_soft_labels_teach_the_polarity_head():
    records = tiny_training_set()
    # The teacher calls the unlabelled "done late" findings weaknesses, with confidence.
    taught = [f"{sentence} in borough 7. It is done late." for sentence in TINY_THEMES.values()] * 3
    polarity = np.tile(np.eye(len(POLARITIES))[POLARITIES.index("weakness")] * 0.9 + 0.025, (len(taught), 1))
    distilled = DistilledFindings(taught, polarity, [f"Authority {k % 2 + 5}" for k in range(len(taught))], weight=1.0)
    plain, student = _fit(records), _fit(records, distilled=distilled)
    probe = [f"{TINY_THEMES['workforce']} in borough 8. It is done late."]
    weakness = list(student.polarity_.classes_).index("weakness")
    rows_plain, rows_student = plain.featurizer_.transform(probe), student.featurizer_.transform(probe)
    assert student.polarity_.predict_proba(rows_student, probe)[0, weakness] > plain.polarity_.predict_proba(rows_plain, probe)[0, weakness]
    assert student.predict(probe)[0].polarity == "weakness"


def test_a_teachers_theme_decisions_teach_the_theme_head_words_the_gold_never_uses():
    records = tiny_training_set()
    # The teacher reads "permanence hearings" findings, which no gold finding mentions, as adoption.
    taught = [f"Permanence hearings for children in borough {k} come quickly. {TINY_POLARITY_WORDS['strength']}" for k in range(12)]
    themes = np.zeros((len(taught), len(THEME_IDS)), dtype=int)
    themes[:, THEME_IDS.index("adoption")] = 1
    polarity = np.tile(np.eye(len(POLARITIES))[POLARITIES.index("strength")], (len(taught), 1))
    groups = [f"Authority {k % 3 + 5}" for k in range(len(taught))]
    plain = _fit(records, distilled=DistilledFindings(taught, polarity, groups, weight=1.0))
    student = _fit(records, distilled=DistilledFindings(taught, polarity, groups, weight=1.0, themes=themes, theme_ids=THEME_IDS))
    probe = ["Permanence hearings for children in borough 20 come quickly."]
    assert "adoption" not in plain.predict(probe)[0].themes
    assert "adoption" in student.predict(probe)[0].themes


def test_an_inner_fold_never_learns_from_teacher_rows_of_the_groups_it_tests_on(monkeypatch):
    records = tiny_training_set()
    texts, groups = [r["text"] for r in records], [r["local_authority"] for r in records]
    featurizer = FindingFeaturizer(min_df=1).fit(texts)
    taught = [f"{TINY_THEMES['adoption']} in borough {k}." for k in range(8)]
    teacher_groups = [f"Authority {k % 4}" for k in range(8)]  # the gold's own groups
    left_out, added = [], TaughtThemes.added_to

    def spy(self, findings, Y, leaving_out=frozenset()):
        left_out.append(set(leaving_out))
        X, Y = added(self, findings, Y, leaving_out)
        kept = [g for g in teacher_groups if g not in leaving_out]
        assert X.shape[0] == findings.shape[0] + len(kept)
        return X, Y

    monkeypatch.setattr(TaughtThemes, "added_to", spy)
    teacher_Y = np.zeros((8, len(THEME_IDS)), dtype=int)
    teacher_Y[:, THEME_IDS.index("adoption")] = 1
    head = ThemeHead(labels=THEME_IDS, inner_folds=2)
    head.fit(featurizer.transform(texts), theme_matrix([r["themes"] for r in records], THEME_IDS), groups,
             TaughtThemes(featurizer.transform(taught), teacher_Y, THEME_IDS, teacher_groups))
    tested = [set(np.array(groups)[test]) for _, test in inner_splits(len(records), 2, groups, 0)]
    assert left_out == [*tested, set()]  # each inner fit leaves out its test groups; the final fit none
    with pytest.raises(ValueError, match="give the teacher's groups"):
        ThemeHead(labels=THEME_IDS, inner_folds=2).fit(featurizer.transform(texts), theme_matrix([r["themes"] for r in records], THEME_IDS),
                                                       groups, TaughtThemes(featurizer.transform(taught), teacher_Y, THEME_IDS))
    with pytest.raises(ValueError, match="are not the model's"):
        ThemeHead(labels=THEME_IDS, inner_folds=2).fit(featurizer.transform(texts), theme_matrix([r["themes"] for r in records], THEME_IDS),
                                                       groups, TaughtThemes(featurizer.transform(taught), teacher_Y, THEME_IDS[::-1], teacher_groups))


def test_taking_a_finding_twice_gives_it_its_sentences_twice():
    # Soft labels repeat a teacher-labelled finding once per polarity it is taught.
    rows = FindingFeaturizer(min_df=1).fit(TEXTS).transform(TEXTS)
    taken = rows.take(np.array([0, 0, 2]))
    assert list(taken.owner) == [0, 0, 1, 1, 2, 2, 2]
    assert (taken.sentences[:2] != taken.sentences[2:4]).nnz == 0
    assert taken.spans == [rows.spans[0], rows.spans[0], rows.spans[2]]
