"""Normalised text and near-duplicate boilerplate."""

from __future__ import annotations

import pytest

from nlp.near_duplicates import near_duplicates_of, normalise_text, shingle_vectors

BOILERPLATE = (
    "The local authority has an effective multi-agency response to children who go missing from home, "
    "and return home interviews are offered to every child in {place}."
)


@pytest.mark.parametrize(
    "text, normalised",
    [
        ("Return-home  interviews: TIMELY.", "return home interviews timely"),
        ("  Children’s\tservices\n(MASH) ", "children s services mash"),
        ("...", ""),
    ],
)
def test_normalise_text_ignores_case_punctuation_and_spacing(text, normalised):
    assert normalise_text(text) == normalised


def test_boilerplate_naming_another_authority_is_a_near_duplicate():
    candidates = shingle_vectors([BOILERPLATE.format(place="Wigan"), "Adopters are recruited and matched quickly by a strong team."])
    references = shingle_vectors([BOILERPLATE.format(place="Kirklees")])
    assert near_duplicates_of(candidates, references).tolist() == [True, False]


def test_figures_do_not_hide_a_repeated_template():
    candidates = shingle_vectors(["In secondary schools is 26% (the national average is 13%)."])
    references = shingle_vectors(["in secondary schools is 4.1% (the national average is 15%)"])
    assert near_duplicates_of(candidates, references).tolist() == [True]


def test_opposite_verdicts_in_the_same_frame_are_not_near_duplicates():
    candidates = shingle_vectors(
        ["The experiences and progress of children who need help and protection, already good at the last inspection, are now outstanding."]
    )
    references = shingle_vectors(["The experiences and progress of children who need help and protection requires improvement to be good"])
    assert near_duplicates_of(candidates, references).tolist() == [False]


def test_texts_too_short_for_shingles_match_nothing():
    vectors = shingle_vectors(["Adoption.", "Adoption."])
    assert near_duplicates_of(vectors[:1], vectors[1:]).tolist() == [False]
