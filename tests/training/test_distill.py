"""The teacher's labels as the fast model reads them back: theme decisions at the teacher's thresholds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp.model_scores import ModelScores
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import grouped_folds
from training.distill import already_labelled, held_out_by_fold, label_with, save, teacher

THEMES, POLARITIES = DEFAULT_TAXONOMY.theme_ids, DEFAULT_TAXONOMY.polarities


def scores(n: int) -> ModelScores:
    themes = np.full((n, len(THEMES)), 0.05)
    themes[0, THEMES.index("adoption")] = 0.41  # above adoption's threshold of 0.4
    themes[1, THEMES.index("adoption")] = 0.39
    themes[n - 1, THEMES.index("early_help")] = 0.31  # above early_help's threshold of 0.3 only
    polarity = np.tile([0.7, 0.1, 0.1, 0.1], (n, 1))
    thresholds = np.linspace(0.3, 0.6, len(THEMES))
    thresholds[THEMES.index("adoption")] = 0.4
    return ModelScores(THEMES, themes, thresholds, POLARITIES, polarity)


def findings(n: int) -> list[dict]:
    return [{"id": f"f{i}", "text": f"Finding {i}.", "local_authority": f"Authority {i}"} for i in range(n)]


def test_the_teacher_gives_the_themes_it_decides_at_its_own_thresholds(tmp_path):
    save(tmp_path / "fold-0.npz", findings(3), scores(3), seconds=1.0, teacher_name="accurate-0.1.0/fold-0")
    taught = teacher(tmp_path, weight=0.3)(0)
    adoption = THEMES.index("adoption")
    assert taught.themes[:, adoption].tolist() == [1, 0, 0]
    assert taught.themes[:, THEMES.index("early_help")].tolist() == [0, 0, 1]
    assert taught.themes.sum() == 2
    assert taught.texts == ["Finding 0.", "Finding 1.", "Finding 2."]
    assert taught.groups == ["Authority 0", "Authority 1", "Authority 2"]
    assert np.allclose(taught.polarity[:, 0], 0.7) and taught.weight == 0.3


def test_labels_of_an_older_distill_without_themes_are_refused_by_name(tmp_path):
    np.savez_compressed(tmp_path / "final.npz", texts=np.array(["Finding."]), groups=np.array(["A"]),
                        polarity=np.array([[1.0, 0, 0, 0]]), polarities=np.array(POLARITIES))
    with pytest.raises(ValueError, match="older training.distill .* run `python -m training.distill folds` and `final` again"):
        teacher(tmp_path, weight=0.3)("final")


def test_the_teachers_columns_are_put_in_the_taxonomys_order(monkeypatch):
    reversed_scores = scores(2).in_order(THEMES[::-1], POLARITIES[::-1])

    class Scorer:
        name = "teacher"

        def scores(self, texts):
            return reversed_scores

    monkeypatch.setattr("training.distill.scorer_for_model", lambda model: Scorer())
    labelled = label_with(Path("accurate"), findings(2))
    assert labelled.theme_ids == tuple(THEMES) and labelled.polarity_labels == tuple(POLARITIES)
    assert np.array_equal(labelled.theme_probabilities, scores(2).theme_probabilities)
    assert np.array_equal(labelled.theme_thresholds, scores(2).theme_thresholds)
    assert np.array_equal(labelled.polarity_probabilities, scores(2).polarity_probabilities)


def test_without_themes_the_teacher_teaches_polarity_only(tmp_path):
    save(tmp_path / "final.npz", findings(2), scores(2), seconds=1.0, teacher_name="accurate-0.1.0")
    taught = teacher(tmp_path, weight=0.3, themes=False)("final")
    assert taught.themes is None and taught.polarity.shape == (2, len(POLARITIES))


def test_a_fold_teacher_says_whose_gold_it_never_saw_and_a_new_draw_is_labelled_again(tmp_path):
    path = tmp_path / "fold-1.npz"
    save(path, findings(3), scores(3), seconds=1.0, teacher_name="accurate-0.1.0/fold-1", unseen_groups={"Authority 7"})
    assert teacher(tmp_path, weight=0.3)(1).unseen_groups == ["Authority 7"]
    assert already_labelled(path, "accurate-0.1.0/fold-1", findings(3))
    assert not already_labelled(path, "accurate-0.1.0/fold-1", findings(2))  # another draw
    assert not already_labelled(path, "accurate-0.2.0/fold-1", findings(3))  # another teacher


def test_fold_teachers_cross_validated_on_other_folds_are_refused():
    gold = [{"local_authority": f"Authority {a}", "text": f"Finding {a}-{i}."} for a in range(4) for i in range(3)]
    held_out = [{gold[i]["local_authority"] for i in test} for _, test in grouped_folds(gold, 2)]
    fold_of = {authority: k for k, authorities in enumerate(held_out) for authority in authorities}
    assert held_out_by_fold(gold, 2, fold_of) == held_out
    swapped = {authority: 1 - k for authority, k in fold_of.items()}
    with pytest.raises(SystemExit, match="cross-validated on other folds"):
        held_out_by_fold(gold, 2, swapped)


def test_no_held_out_finding_is_drawn_for_a_teacher_to_label(monkeypatch):
    from training import distill

    corpus = [{"text": f"Finding {i}: care leavers are well supported.", "kind": "finding"} for i in range(4)]
    monkeypatch.setattr(distill, "corpus_dir", lambda: None)
    monkeypatch.setattr(distill, "corpus_findings", lambda folder: corpus)
    monkeypatch.setattr(distill, "held_out_findings", lambda: [{"text": corpus[2]["text"].upper()}])
    assert distill.corpus_findings_not_gold([corpus[0]]) == [corpus[1], corpus[3]]
