"""The encoder's fold runs, on a tiny random BERT (no real weights)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from nlp.finetune import FinetuneSettings
from nlp.models.encoder import OnnxEncoder
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import grouped_folds

from ..conftest import tiny_training_set

pytest.importorskip("torch", reason="the encoder's training code needs the [train] extra")


def test_encoder_cv_recomputes_fold_outputs_that_labelling_would_not_give(tiny_encoder, tmp_path):
    from nlp.encoder_cv import run_folds

    records = tiny_training_set()
    folds = grouped_folds(records, 2, "local_authority")
    settings = FinetuneSettings(epochs=1, batch_size=8, max_length=48, threads=1)
    run = lambda: run_folds(records, DEFAULT_TAXONOMY, folds, settings, lambda: copy.deepcopy(tiny_encoder), tmp_path)  # noqa: E731
    run()
    outputs = tmp_path / "fold-0-int8.npz"
    with np.load(outputs) as data:
        assert str(data["encoding"]) == OnnxEncoder.ENCODING
        fresh = {name: data[name] for name in data.files}
    # Outputs saved before encodings were recorded (several findings per encoder call).
    np.savez_compressed(outputs, **{name: values + 1.0 if values.dtype.kind == "f" else values for name, values in fresh.items() if name != "encoding"})
    run()
    with np.load(outputs) as data:
        assert str(data["encoding"]) == OnnxEncoder.ENCODING
        assert np.array_equal(data["theme_logits"], fresh["theme_logits"])


def test_processes_sharing_a_run_each_do_their_own_folds_and_keep_each_others_in_the_log(tiny_encoder, tmp_path, monkeypatch):
    import nlp.encoder_cv
    from nlp.encoder_cv import run_folds

    records = tiny_training_set()
    folds = grouped_folds(records, 2, "local_authority")
    settings = FinetuneSettings(epochs=1, batch_size=8, max_length=48, threads=1)
    load = lambda: copy.deepcopy(tiny_encoder)  # noqa: E731
    fine_tune = nlp.encoder_cv._fine_tune
    finished_elsewhere = {"train": 1, "test": 1, "label_test_seconds": {}, "history": []}

    def fold_0_finishes_in_another_process_meanwhile(*args, **kwargs):
        nlp.encoder_cv._record_fold(tmp_path, settings, 0, finished_elsewhere)
        return fine_tune(*args, **kwargs)

    monkeypatch.setattr("nlp.encoder_cv._fine_tune", fold_0_finishes_in_another_process_meanwhile)
    log = run_folds(records, DEFAULT_TAXONOMY, folds, settings, load, tmp_path, only=[1])
    assert log["folds"]["0"] == finished_elsewhere
    assert log["folds"]["1"]["fine_tune_threads"] == 1
    assert json.loads((tmp_path / "folds.json").read_text()) == log
    assert (tmp_path / "fold-1-int8.npz").exists() and not (tmp_path / "fold-0-float32.onnx").exists()


def _record_folds(folder, folds: list[int]) -> None:
    from nlp.encoder_cv import _record_fold

    for k in folds:
        _record_fold(folder, FinetuneSettings(), k, {"train": k})


def test_processes_recording_folds_at_once_lose_none(tmp_path):
    import multiprocessing

    workers = [multiprocessing.Process(target=_record_folds, args=(tmp_path, list(range(start, 40, 4)))) for start in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(json.loads((tmp_path / "folds.json").read_text())["folds"], key=int) == [str(k) for k in range(40)]


def unlabelled_findings() -> list[dict]:
    """Findings without labels, of the tiny set's authorities: what self-training teaches from."""
    return [
        {"id": f"u{i}", "text": r["text"].replace("borough", "district"), "local_authority": r["local_authority"]}
        for i, r in enumerate(tiny_training_set())
    ]


def logit(probability: float) -> float:
    return float(np.log(probability / (1 - probability)))


def test_a_teacher_teaches_its_theme_probabilities_and_pair_polarity_only_for_the_themes_it_gives():
    from nlp.encoder_cv import Taught
    from nlp.taxonomy import POLARITIES

    strength, weakness, mixed = (POLARITIES.index(p) for p in ("strength", "weakness", "mixed"))
    pair_logits = np.zeros((2, 3, len(POLARITIES)))
    pair_logits[:, :, weakness] = 1.0
    outputs = {
        "theme_logits": np.array([[logit(0.9), logit(0.3), logit(0.5)], [logit(0.1), logit(0.7), logit(0.2)]]),
        "polarity_logits": np.eye(len(POLARITIES))[[mixed, strength]] * 3,
        "pair_logits": pair_logits,
    }
    taught = Taught.from_outputs(["a", "b"], outputs)
    np.testing.assert_allclose(taught.themes, [[0.9, 0.3, 0.5], [0.1, 0.7, 0.2]], rtol=1e-5)
    assert taught.polarity.tolist() == [mixed, strength]
    assert taught.pairs.tolist() == [[weakness, -1, weakness], [-1, weakness, -1]]


def test_a_student_is_never_taught_findings_of_the_groups_its_fold_tests_on():
    from nlp.encoder_cv import SelfTraining

    pool = [{"id": f"f{i}", "local_authority": f"Authority {i % 4}"} for i in range(40)]
    self_training = SelfTraining(findings=15, seed=3)
    drawn = self_training.draw(pool, "local_authority", {"Authority 1", "Authority 3"}, 0)
    assert len({f["id"] for f in drawn}) == 15
    assert {f["local_authority"] for f in drawn} == {"Authority 0", "Authority 2"}
    assert drawn == self_training.draw(pool, "local_authority", {"Authority 1", "Authority 3"}, 0)
    assert drawn != self_training.draw(pool, "local_authority", {"Authority 1", "Authority 3"}, 1)


def test_self_training_refuses_to_draw_more_findings_than_there_are_outside_the_tested_groups():
    from nlp.encoder_cv import SelfTraining
    from nlp.errors import TrainingDataError

    pool = [{"id": f"f{i}", "local_authority": f"Authority {i % 4}"} for i in range(40)]
    with pytest.raises(TrainingDataError, match="only 20 are outside the 2 groups"):
        SelfTraining(findings=21).draw(pool, "local_authority", {"Authority 1", "Authority 3"}, 0)


def test_students_are_kept_as_fold_models_are_and_never_taught_a_group_their_fold_tests_on(tiny_encoder, tmp_path, monkeypatch):
    from nlp.encoder_cv import SelfTraining, encoder_oof, run_folds, run_students

    records = tiny_training_set()
    folds = grouped_folds(records, 2, "local_authority")
    settings = FinetuneSettings(epochs=1, batch_size=8, max_length=48, threads=1)
    load = lambda: copy.deepcopy(tiny_encoder)  # noqa: E731
    run_folds(records, DEFAULT_TAXONOMY, folds, settings, load, tmp_path)
    self_training = SelfTraining(findings=10)
    unlabelled = unlabelled_findings()
    students, log = run_students(records, DEFAULT_TAXONOMY, folds, settings, load, tmp_path, unlabelled, self_training, "local_authority", "int8")
    assert students == tmp_path / "self-training-10-0"
    assert [log["folds"][k]["taught"] for k in ("0", "1")] == [10, 10]
    for k, (_, test) in enumerate(folds):
        with np.load(students / f"fold-{k}-teacher-labels.npz") as labels:
            taught = {str(i) for i in labels["ids"]}
        tested = {records[i]["local_authority"] for i in test}
        assert not tested & {f["local_authority"] for f in unlabelled if f["id"] in taught}
    assert not (students / "fold-0-float32.npz").exists()
    teacher, student = (encoder_oof(len(records), 2, "int8", folder) for folder in (tmp_path, students))
    assert teacher.theme_logits.shape == student.theme_logits.shape
    assert not np.allclose(teacher.theme_logits, student.theme_logits)
    # Done once: a second run fine-tunes nothing.
    monkeypatch.setattr("nlp.encoder_cv.finetune", lambda *args, **kwargs: pytest.fail("a kept student was fine-tuned again"))
    run_students(records, DEFAULT_TAXONOMY, folds, settings, load, tmp_path, unlabelled, self_training, "local_authority", "int8")


@pytest.fixture
def fold_0_teacher(tiny_encoder, tmp_path):
    """Fold 0 of the tiny set fine-tuned in `tmp_path`: records, folds (fold 0 only), settings, loader."""
    from nlp.encoder_cv import run_folds

    records = tiny_training_set()
    folds = grouped_folds(records, 2, "local_authority")[:1]
    settings = FinetuneSettings(epochs=1, batch_size=8, max_length=48, threads=1)
    load = lambda: copy.deepcopy(tiny_encoder)  # noqa: E731
    run_folds(records, DEFAULT_TAXONOMY, folds, settings, load, tmp_path)
    return records, folds, settings, load


def test_a_kept_student_of_another_draw_is_refused_and_a_refitted_fold_loses_its_old_exports(fold_0_teacher, tmp_path):
    from nlp.encoder_cv import SelfTraining, run_students
    from nlp.errors import TrainingDataError

    records, folds, settings, load = fold_0_teacher
    self_training = SelfTraining(findings=10)
    students, _ = run_students(records, DEFAULT_TAXONOMY, folds, settings, load, tmp_path, unlabelled_findings(), self_training, "local_authority", "int8")
    other_pool = [dict(f, text=f["text"] + " Further text.") for f in unlabelled_findings()]
    (students / "fold-0-teacher-labels.npz").unlink()  # even without the labels file to tell
    with pytest.raises(TrainingDataError, match="fold 0 .* was taught by another teacher or other findings"):
        run_students(records, DEFAULT_TAXONOMY, folds, settings, load, tmp_path, other_pool, self_training, "local_authority", "int8")
    # A run that stopped before it logged fold 0 fine-tunes it again: its earlier exports go with it.
    stale = (students / "fold-0-int8.onnx").read_bytes()
    (students / "folds.json").unlink()
    (students / "fold-0-teacher-labels.npz").unlink(missing_ok=True)
    run_students(records, DEFAULT_TAXONOMY, folds, settings, load, tmp_path, other_pool, self_training, "local_authority", "int8")
    assert (students / "fold-0-int8.onnx").read_bytes() != stale


def test_self_training_refuses_unlabelled_findings_without_their_group():
    from nlp.encoder_cv import SelfTraining
    from nlp.errors import TrainingDataError

    pool = [{"id": f"f{i}", "local_authority": f"Authority {i % 4}"} for i in range(40)] + [{"id": "loose"}]
    with pytest.raises(TrainingDataError, match="'loose' has no 'local_authority'"):
        SelfTraining(findings=5).draw(pool, "local_authority", {"Authority 1"}, 0)


def test_teacher_labels_of_another_draw_are_refused_not_reused(fold_0_teacher, tmp_path):
    from nlp.encoder_cv import SelfTraining, run_students
    from nlp.errors import TrainingDataError

    records, folds, settings, load = fold_0_teacher
    self_training = SelfTraining(findings=10)
    students = self_training.folder(tmp_path)
    students.mkdir()
    np.savez_compressed(students / "fold-0-teacher-labels.npz", ids=np.array([f"other{i}" for i in range(10)]), digest=np.array("another"))
    with pytest.raises(TrainingDataError, match="another teacher's labels or labels of other findings"):
        run_students(records, DEFAULT_TAXONOMY, folds, settings, load, tmp_path, unlabelled_findings(), self_training, "local_authority", "int8")


def test_a_self_trained_model_is_the_final_encoders_student_and_reports_its_teachers_stacked_alike(tiny_encoder, tmp_path):
    from nlp.errors import TrainingDataError
    from nlp.train import TrainingSettings, train_model, write_model

    records = tiny_training_set()
    settings = TrainingSettings(kind="accurate", folds=2)
    settings.encoder["finetune"].update(max_length=48, epochs=1, batch_size=8, threads=1)
    settings.encoder["self_training"] = {"findings": 10, "seed": 0}
    load = lambda: copy.deepcopy(tiny_encoder)  # noqa: E731
    with pytest.raises(TrainingDataError, match="needs unlabelled findings"):
        train_model(records, DEFAULT_TAXONOMY, settings, encoder_folder=tmp_path, load_encoder=load)
    trained = train_model(records, DEFAULT_TAXONOMY, settings, encoder_folder=tmp_path, load_encoder=load, unlabelled=unlabelled_findings())
    students = tmp_path / "self-training-10-0"
    assert trained.model.onnx == (students / "final-int8.onnx").read_bytes() != (tmp_path / "final-int8.onnx").read_bytes()
    assert json.loads((students / "final.json").read_text())["taught"] == 10
    assert [fold.onnx for fold in trained.fold_models] == [(students / f"fold-{k}-int8.onnx").read_bytes() for k in range(2)]
    metrics = trained.metrics
    assert metrics["model"] is metrics["accurate_int8"] and "accurate_float32" not in metrics
    settings.encoder["self_training"] = {"findings": 0, "seed": 0}
    untaught = train_model(records, DEFAULT_TAXONOMY, settings, encoder_folder=tmp_path, load_encoder=load)  # reuses every fine-tune
    assert metrics["without_self_training"] == untaught.metrics["accurate_int8"]
    assert untaught.model.onnx == (tmp_path / "final-int8.onnx").read_bytes()
    # The final student was taught by the final teacher: its labels are that teacher's outputs.
    from nlp.encoder_cv import encoder_outputs
    from nlp.models.encoder import heads_from_bytes

    with np.load(students / "final-teacher-labels.npz") as labels:
        taught_texts = [f["text"] for f in unlabelled_findings() if f["id"] in set(labels["ids"].tolist())]
        order = {i: k for k, i in enumerate(labels["ids"].tolist())}
        ids = [f["id"] for f in unlabelled_findings() if f["id"] in order]
        outputs = encoder_outputs(
            (tmp_path / "final-float32.onnx").read_bytes(), tiny_encoder.tokenizer, taught_texts,
            FinetuneSettings(**settings.encoder["finetune"]), heads_from_bytes((tmp_path / "final-heads.safetensors").read_bytes()),
        )
        np.testing.assert_allclose(labels["theme_logits"][[order[i] for i in ids]], outputs["theme_logits"], rtol=1e-5, atol=1e-5)
    assert trained.extra["self_training"] == {"findings": 10, "seed": 0, "unlabelled": len(unlabelled_findings())}
    training_data = {"findings": len(records), "grouped_by": "local_authority", "groups": 4, "path": "tiny.jsonl", "sha256": "0" * 64}
    card = (write_model(trained, tmp_path / "model", name="tiny_self_trained", version="0.1.0", training_data=training_data) / "README.md").read_text()
    assert "self-training: each fold model labelled 10 unlabelled findings" in card
    assert "this model without self-training" in card
