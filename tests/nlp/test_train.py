"""Bring your own taxonomy: train, evaluate and ship a model for other themes, end to end.

A 4-theme taxonomy made from gold by merging themes (`training.benchmarks.bench_own_taxonomy`):
both model kinds are trained on it (the accurate kind from a tiny random BERT, so it stays quick),
then classify, label, suggest and show run with `--model` on them unchanged, and every output uses
only the four ids.
"""

from __future__ import annotations

import copy
import json

import numpy as np

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nlp.batch import FINDINGS_FILE, REPORTS_FILE, findings_taxonomy, label_reports
from nlp.classify import classify_file, load_pipeline, model_taxonomy
from nlp.cli import app
from nlp.errors import ModelCompatibilityError, TrainingDataError
from nlp.jsonl import write_jsonl
from nlp.models.fast import DistilledFindings
from nlp.scoring import theme_matrix
from nlp.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from nlp.train import (
    TrainingSettings,
    check_training_data,
    grouped_folds,
    read_training_data,
    train_model,
    training_data_record,
    write_model,
)
from tests.nlp.bad_inputs import NEWHAM, STOCKPORT
from tests.nlp.conftest import FOLDS
from training.benchmarks.bench_own_taxonomy import GOLD, TAXONOMY_RECORD, merged_findings, tfidf_svc_micro_f1

MERGED_IDS = ("harm", "permanence", "care_leavers", "leadership")

pytestmark = pytest.mark.skipif(not GOLD.exists(), reason=f"gold set not found at {GOLD}")


# taxonomy_file, data_file and fast_model_dir: tests/nlp/conftest.py (the page's tests use the model too).
@pytest.fixture(scope="module")
def accurate_trained(taxonomy_file, data_file, tiny_encoder):
    """The accurate kind, by the same function as `train --model-kind accurate`, from a tiny random BERT."""
    taxonomy = Taxonomy.from_record(json.loads(taxonomy_file.read_text()))
    records = read_training_data(data_file, taxonomy, folds=FOLDS)
    settings = TrainingSettings(kind="accurate", folds=FOLDS)
    settings.encoder["finetune"].update(max_length=48, epochs=1, threads=1)
    return train_model(records, taxonomy, settings, load_encoder=lambda: copy.deepcopy(tiny_encoder))


@pytest.fixture(scope="module")
def accurate_model_dir(accurate_trained, data_file, tmp_path_factory):
    output = tmp_path_factory.mktemp("models") / "merged_accurate"
    training_data = training_data_record(data_file, accurate_trained.records, "local_authority")
    return write_model(accurate_trained, output, name="merged_accurate", version="0.1.0", training_data=training_data)


@pytest.fixture(params=["fast", "accurate"])
def model_dir(request):
    return request.getfixturevalue(f"{request.param}_model_dir")


def test_train_own_taxonomy_model_labels_only_with_its_themes(model_dir, tmp_path):
    pipe = load_pipeline(str(model_dir)).get_pipe("themes")
    assert pipe.labels == MERGED_IDS and pipe.taxonomy.name == "merged_ofsted_4"
    assert model_taxonomy(str(model_dir)).theme_ids == MERGED_IDS

    findings = tmp_path / "findings.jsonl"
    write_jsonl(
        [
            {"id": 1, "text": "Return home interviews after children go missing are timely and the risk of exploitation is well understood."},
            {"id": 2, "text": "Personal advisers keep in touch with care leavers, but pathway plans are not always updated."},
        ],
        findings,
    )
    classify_file(findings, tmp_path / "labels.jsonl", str(model_dir), with_evidence=True)
    for line in (tmp_path / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        assert tuple(label["scores"]) == MERGED_IDS
        assert set(label["themes"]) <= set(MERGED_IDS) and set(label["theme_polarity"]) == set(label["themes"])
        assert set(label["evidence"]) == set(label["themes"])


def test_train_own_taxonomy_model_labels_reports_into_tables_with_its_four_fields(model_dir, tmp_path):
    summary = label_reports([NEWHAM, STOCKPORT], tmp_path / "out", model=str(model_dir), progress=False)
    assert summary.failed == 0 and summary.in_tables == 2

    schema = pq.read_schema(tmp_path / "out" / FINDINGS_FILE)
    for column in ("theme_polarity", "scores", "evidence"):
        assert [field.name for field in schema.field(column).type] == list(MERGED_IDS)
    findings = pq.read_table(tmp_path / "out" / FINDINGS_FILE).to_pylist()
    assert {theme for row in findings for theme in row["themes"]} <= set(MERGED_IDS)
    reports = pq.read_table(tmp_path / "out" / REPORTS_FILE).to_pandas()
    assert set(reports["theme"]) <= set(MERGED_IDS)
    assert findings_taxonomy(tmp_path / "out") == model_taxonomy(str(model_dir))


def test_train_own_taxonomy_model_card_reports_grouped_cross_validation(model_dir):
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    card = (model_dir / "README.md").read_text(encoding="utf-8")
    micro = meta["performance"]["theme_micro_f1"]
    assert meta["inspection_themes"]["taxonomy"]["name"] == "merged_ofsted_4"
    assert meta["labels"]["themes"] == list(MERGED_IDS)
    assert f"{FOLDS} folds grouped by `local_authority`" in card
    assert f"| theme micro-F1 | {micro} |" in card
    assert all(f"| {theme} |" in card for theme in MERGED_IDS)


def test_train_fast_kind_does_at_least_as_well_as_tfidf_and_linear_svc(fast_model_dir, data_file):
    """Measured in the same run: the same findings and the same grouped folds."""
    meta = json.loads((fast_model_dir / "meta.json").read_text(encoding="utf-8"))
    records = read_training_data(data_file, Taxonomy.from_record(TAXONOMY_RECORD), folds=FOLDS)
    assert meta["performance"]["theme_micro_f1"] >= tfidf_svc_micro_f1(records, MERGED_IDS, FOLDS)


def test_train_own_taxonomy_model_suggests_and_shows_with_its_themes(fast_model_dir, tmp_path):
    from nlp.show import write_report_page
    from nlp.suggest import suggest_file

    findings = tmp_path / "findings.jsonl"
    write_jsonl([{"id": i, "text": r["text"]} for i, r in enumerate(merged_findings(40, seed=1))], findings)
    suggest_file(findings, tmp_path / "queue.jsonl", 5, model=str(fast_model_dir), progress=False)
    queue = [json.loads(line) for line in (tmp_path / "queue.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(queue) == 5 and all(set(item["pre_annotation"]["themes"]) <= set(MERGED_IDS) for item in queue)

    view = write_report_page(STOCKPORT, tmp_path / "page.html", model=str(fast_model_dir))
    assert {theme for row in view.findings.itertuples() for theme in row.themes} <= set(MERGED_IDS)


def test_train_refuses_to_compare_models_of_different_taxonomies(fast_model_dir, tiny_pipeline_dir, tmp_path):
    """`suggest --compare-model` needs both models to label with the same themes; nothing else needs the default ones."""
    from nlp.suggest import suggest_file

    findings = tmp_path / "findings.jsonl"
    write_jsonl([{"id": i, "text": r["text"]} for i, r in enumerate(merged_findings(20, seed=2))], findings)
    with pytest.raises(ModelCompatibilityError, match="different themes"):
        suggest_file(findings, tmp_path / "queue.jsonl", 5, model=str(fast_model_dir), compare_model=str(tiny_pipeline_dir), progress=False)


# Data checks -------------------------------------------------------------------------------------------


def _line(**changes) -> dict:
    record = {"id": "a", "text": "Care leavers are well supported.", "themes": ["care_leavers"], "polarity": "strength",
              "theme_polarity": {"care_leavers": "strength"}, "local_authority": "A"}
    return {**record, **changes}


def test_train_data_with_a_label_outside_the_taxonomy_names_the_line_and_the_ids():
    taxonomy = Taxonomy.from_record(TAXONOMY_RECORD)
    lines = [(1, _line()), (2, _line(themes=["adoption"], theme_polarity={"adoption": "strength"}))]
    with pytest.raises(TrainingDataError, match=r"data:2: theme\(s\) \['adoption'\] are not in the taxonomy merged_ofsted_4"):
        check_training_data(lines, taxonomy, "local_authority", 2, "data")


def test_train_data_missing_a_field_names_it():
    line = _line()
    del line["theme_polarity"]
    with pytest.raises(TrainingDataError, match=r"data:1: missing field\(s\) \['theme_polarity'\]"):
        check_training_data([(1, line)], Taxonomy.from_record(TAXONOMY_RECORD), "local_authority", 2, "data")


def test_train_data_with_too_few_examples_of_a_theme_says_which_and_how_many_are_needed():
    taxonomy = Taxonomy.from_record(TAXONOMY_RECORD)
    lines = [(i, _line(id=str(i), local_authority=str(i % 5))) for i in range(1, 30)]
    lines += [(30 + i, _line(id=f"h{i}", themes=["harm"], theme_polarity={"harm": "weakness"}, local_authority=str(i))) for i in range(3)]
    with pytest.raises(TrainingDataError, match=r"harm \(3\), permanence \(0\), leadership \(0\); each theme needs at least 10"):
        check_training_data(lines, taxonomy, "local_authority", 5, "data")


def test_train_data_without_the_default_group_field_is_split_without_groups():
    taxonomy = Taxonomy.from_record({**TAXONOMY_RECORD, "themes": [{"id": "care_leavers", "description": ""}]})
    lines = [(i, {k: v for k, v in _line(id=str(i)).items() if k != "local_authority"}) for i in range(1, 11)]
    records = check_training_data(lines, taxonomy, "local_authority", 5, "data")
    assert len(grouped_folds(records, 5)) == 5
    with pytest.raises(TrainingDataError, match='lack the grouping field "region"'):
        check_training_data(lines, taxonomy, "region", 5, "data")


def test_train_cli_exits_2_with_the_reason_for_bad_data(taxonomy_file, tmp_path):
    data = tmp_path / "bad.jsonl"
    write_jsonl([_line(themes=["adoption"], theme_polarity={"adoption": "strength"})], data)
    result = CliRunner().invoke(app, ["train", str(data), "--taxonomy", str(taxonomy_file), "-o", str(tmp_path / "model")])
    assert result.exit_code == 2 and "not in the taxonomy" in result.output
    assert not (tmp_path / "model").exists()


def test_train_default_taxonomy_has_no_cues_of_its_own_and_uses_the_lexicon():
    from nlp.models.training import theme_cues

    assert set(theme_cues(DEFAULT_TAXONOMY)) == set(DEFAULT_TAXONOMY.theme_ids)
    merged = theme_cues(Taxonomy.from_record(TAXONOMY_RECORD))
    assert set(merged) == {"harm"}  # only the theme whose taxonomy entry lists cues, whatever the lexicon knows


def _teacher_of(records: list[dict], keep, theme_ids, unseen=None):
    """A teacher that calls every finding `keep(fold, record)` allows a weakness, with confidence, of its gold themes."""
    polarities = list(DEFAULT_TAXONOMY.polarities)

    def teacher(fold):
        taught = [r for r in records if keep(fold, r)]
        soft = np.tile(np.where(np.array(polarities) == "weakness", 0.85, 0.05), (len(taught), 1))
        themes = theme_matrix([r["themes"] for r in taught], theme_ids)
        return DistilledFindings([r["text"] for r in taught], soft, [r["local_authority"] for r in taught], weight=0.3,
                                 themes=themes, theme_ids=theme_ids, unseen_groups=unseen(fold) if unseen else None)

    return teacher


def test_train_fast_kind_learns_from_a_teacher_only_outside_each_folds_test_groups(taxonomy_file, data_file, tmp_path):
    taxonomy = Taxonomy.from_record(json.loads(taxonomy_file.read_text()))
    records = read_training_data(data_file, taxonomy, folds=FOLDS)
    tested = {k: {records[i]["local_authority"] for i in test} for k, (_, test) in enumerate(grouped_folds(records, FOLDS))}
    settings = TrainingSettings(kind="fast", folds=FOLDS)
    for head in ("themes", "polarity"):
        settings.fast[head]["inner_folds"] = 2
    honest = _teacher_of(records, lambda fold, r: fold == "final" or r["local_authority"] not in tested[fold], taxonomy.theme_ids)
    trained = train_model(records, taxonomy, settings, teacher=honest)
    assert trained.extra["teacher"]["final_findings"] == len(records)
    assert all(0 < n < len(records) for n in trained.extra["teacher"]["fold_findings"])
    # The card says what the model learnt from beside the gold, and how much each teacher row weighs.
    training_data = training_data_record(data_file, records, "local_authority")
    card = (write_model(trained, tmp_path / "taught", name="taught", version="0.1.0", training_data=training_data) / "README.md").read_text()
    assert f"also learnt from {len(records):,} corpus findings" in card and "counts 0.3 of a gold finding" in card and "the theme decisions and polarity probabilities of a teacher" in card
    leaky = _teacher_of(records, lambda fold, r: True, taxonomy.theme_ids)
    with pytest.raises(TrainingDataError, match="fold 0 include findings of .* which fold 0 tests on"):
        train_model(records, taxonomy, settings, teacher=leaky)
    # A teacher whose own training saw the gold of the fold's test groups is refused too.
    learnt_from_the_test = _teacher_of(records, lambda fold, r: fold == "final" or r["local_authority"] not in tested[fold],
                                       taxonomy.theme_ids, unseen=lambda fold: tested[(fold + 1) % FOLDS] if fold != "final" else None)
    with pytest.raises(TrainingDataError, match="fold 0's teacher learnt from the gold of"):
        train_model(records, taxonomy, settings, teacher=learnt_from_the_test)


def test_train_cross_validates_data_that_lacks_a_polarity(taxonomy_file, data_file):
    from nlp.taxonomy import load_taxonomy
    from nlp.train import fast_out_of_fold

    taxonomy = load_taxonomy(taxonomy_file)
    records = [r for r in read_training_data(data_file, taxonomy) if r["polarity"] in ("strength", "weakness")]
    for r in records:
        r["theme_polarity"] = {theme: r["polarity"] for theme in r["themes"]}
    cv = fast_out_of_fold(records, taxonomy, TrainingSettings(kind="fast", folds=FOLDS))
    columns = {polarity: cv.polarity_probabilities[:, k] for k, polarity in enumerate(taxonomy.polarities)}
    assert not columns["mixed"].any() and not columns["neutral"].any()
    assert np.allclose(columns["strength"] + columns["weakness"], 1.0)


def test_train_accurate_fold_models_label_from_the_second_opinion_their_stacker_learnt_from(accurate_trained):
    """What a fold model reads from its fast model when labelling is what its stacker was fitted on."""
    from nlp.sentences import text_sentences
    from nlp.train import fast_out_of_fold

    records, settings = accurate_trained.records, accurate_trained.settings
    second_opinion = fast_out_of_fold(records, accurate_trained.taxonomy, settings)
    folds = grouped_folds(records, settings.folds, settings.group_by, settings.seed)
    for model, (_, test) in zip(accurate_trained.fold_models, folds):
        texts = [records[i]["text"] for i in test]
        _, _, inputs = model.stack_inputs(texts, text_sentences(texts))
        np.testing.assert_allclose(inputs.ngram_probabilities, second_opinion.theme_probabilities[test], atol=1e-6)
        np.testing.assert_allclose(inputs.ngram_polarity_probabilities, second_opinion.polarity_probabilities[test], atol=1e-6)
