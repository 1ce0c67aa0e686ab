"""The taxonomy module mirrors label-schema.md, the contract with the evaluation data."""

from __future__ import annotations

import json
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


# A taxonomy as data ---------------------------------------------------------------------------------

SMALL = {
    "name": "harms",
    "version": "2",
    "themes": [{"id": "harm", "description": "exploitation and abuse", "cues": ["county lines"]}, {"id": "care", "description": "care"}],
    "polarities": ["weakness", "strength", "neutral", "mixed"],
    "owner": "another team",
}


def test_taxonomy_default_is_the_file_shipped_in_the_package():
    from importlib.resources import files

    from nlp.taxonomy import DEFAULT_TAXONOMY, load_taxonomy

    shipped = files("nlp").joinpath("data", "ofsted_childrens_services.taxonomy.json")
    assert load_taxonomy(str(shipped)) == DEFAULT_TAXONOMY
    assert DEFAULT_TAXONOMY.theme_ids == THEME_IDS and DEFAULT_TAXONOMY.polarities == POLARITIES
    assert all(DEFAULT_TAXONOMY.descriptions.values())


def test_taxonomy_from_a_json_file_keeps_its_extra_keys_and_reads_cues_as_whole_phrases(tmp_path):
    from nlp.taxonomy import load_taxonomy

    path = tmp_path / "harms.json"
    path.write_text(json.dumps(SMALL), encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert taxonomy.theme_ids == ("harm", "care") and str(taxonomy) == "harms 2 (2 themes)"
    assert taxonomy.to_record()["owner"] == "another team"
    pattern = re.compile(taxonomy.cue_patterns()["harm"], re.IGNORECASE)
    assert pattern.search("County lines are understood") and not pattern.search("county linesman")
    assert set(taxonomy.cue_patterns()) == {"harm"}


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda t: t.pop("name"), '"name" must be a string'),
        (lambda t: t["themes"].append({"id": "harm", "description": ""}), r"repeated: \['harm'\]"),
        (lambda t: t["themes"].append({"id": "two words", "description": ""}), "ids become column names"),
        (lambda t: t.update(polarities=["good", "bad"]), "polarities"),
        (lambda t: t.update(themes=[]), "at least one"),
        (lambda t: t["themes"][0].update(cues="county lines"), "list of words or phrases"),
    ],
)
def test_taxonomy_refuses_a_bad_file_saying_what_is_wrong(change, message):
    import copy

    from nlp.errors import TaxonomyError
    from nlp.taxonomy import Taxonomy

    record = copy.deepcopy(SMALL)
    change(record)
    with pytest.raises(TaxonomyError, match=message):
        Taxonomy.from_record(record)


def test_taxonomy_file_that_is_not_json_is_a_named_error(tmp_path):
    from nlp.errors import TaxonomyError
    from nlp.taxonomy import load_taxonomy

    path = tmp_path / "taxonomy.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid JSON"):
        load_taxonomy(path)
    with pytest.raises(TaxonomyError, match="cannot read"):
        load_taxonomy(tmp_path / "missing.json")
