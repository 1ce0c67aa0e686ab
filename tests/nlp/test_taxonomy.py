"""The taxonomy module mirrors label-schema.md, the contract with the evaluation data."""

from __future__ import annotations

import re

import pytest

from nlp.taxonomy import AREAS, KINDS, POLARITIES, THEME_IDS


@pytest.fixture(scope="module")
def schema_text(corpus):
    path = corpus.parent / "label-schema.md"
    if not path.exists():
        pytest.skip(f"label schema not found at {path}")
    return path.read_text(encoding="utf-8")


@pytest.mark.corpus
def test_taxonomy_theme_ids_are_the_schema_ids_in_order(schema_text):
    themes_table = schema_text.split("## Themes", 1)[1].split("##", 1)[0]
    assert tuple(re.findall(r"^\| `([a-z0-9_]+)` \|", themes_table, flags=re.MULTILINE)) == THEME_IDS


@pytest.mark.corpus
def test_taxonomy_polarities_are_the_schema_values(schema_text):
    polarity_table = schema_text.split("## Polarity", 1)[1].split("##", 1)[0]
    assert set(re.findall(r"^\| `([a-z]+)` \|", polarity_table, flags=re.MULTILINE)) == set(POLARITIES)


@pytest.mark.corpus
def test_taxonomy_areas_cover_every_graded_area_of_the_corpus(corpus_index):
    graded = {area for record in corpus_index.values() for area in record["judgements"]}
    assert graded - {"overall_effectiveness"} <= set(AREAS)


def test_taxonomy_ids_are_unique_and_kinds_fixed():
    assert len(set(THEME_IDS)) == len(THEME_IDS) == 30
    assert KINDS == ("finding", "summary", "recommendation", "context")
