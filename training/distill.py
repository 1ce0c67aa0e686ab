"""Labels for the fast model from the accurate model (the teacher): its themes and polarity probabilities.

    python -m training.distill folds   # for grouped CV: fold k's accurate model on its training authorities
    python -m training.distill final   # for the model: the committed accurate model

The teacher's labels are the accurate model's stacked, calibrated theme probabilities with its
per-theme thresholds (so its theme decisions), and its finding polarity probabilities, exactly as
it labels (`nlp.model_scores.EncoderModelScorer`). They are given to findings of the corpus reports
(`nlp.corpus.corpus_findings`) that are not gold (matched by normalised text), drawn once at random
(`--findings`, seeded). For cross-validation, fold k's student may only learn from authorities
outside fold k's test set, labelled by the accurate model of fold k
(`training/runs/fold-models/<accurate model>/fold-k`, written by `training.train`), which never saw
fold k's gold; so no label it learns from was made by a model that saw its test authorities' gold.
Output: `<output>/fold-<k>.npz` or `final.npz`, with the findings' ids, texts, authorities,
probabilities (theme and polarity columns in the taxonomy's order) and theme thresholds, the
teacher's name and, for a fold, the authorities whose gold its teacher never saw; written fold by
fold. `teacher` reads them back as the fast kind's `nlp.train.Teacher`, and training refuses a fold
teacher that saw gold of an authority the fold tests on.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import typer
from thinc.api import Config

from nlp.classify import resolve_model
from nlp.corpus import corpus_dir, corpus_findings
from nlp.model_scores import ModelScores, scorer_for_model
from nlp.models.fast import DistilledFindings
from nlp.near_duplicates import normalise_text
from nlp.suggest import score_findings
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import Teacher, grouped_folds
from training.build_gold import held_out_findings

app = typer.Typer(add_completion=False)

OUTPUT = Path("training/runs/distill")


def fold_teachers(config: Config) -> Path:
    """The folder of the accurate model's fold models, for the committed accurate model's version."""
    from training.train import fold_models_folder  # training.train reads this module's teachers

    return fold_models_folder(config["paths"]["runs"], resolve_model("accurate").name)


def gold_and_drawn(config_path: Path, sample: int, seed: int) -> tuple[Config, list[dict], list[dict]]:
    """The config, its gold set, and `sample` corpus findings of kind "finding" that are not gold,
    drawn at random with `seed`."""
    from training.train import load_gold  # training.train reads this module's teachers

    config = Config().from_disk(config_path)
    gold = load_gold(Path(config["paths"]["gold"]), config["training"]["folds"])
    pool = corpus_findings_not_gold(gold)
    return config, gold, random.Random(seed).sample(pool, min(sample, len(pool)))


def corpus_findings_not_gold(gold: list[dict]) -> list[dict]:
    """The corpus findings of kind "finding" whose normalised text is neither a gold finding's nor a
    held-out one's (`training.build_gold.held_out_findings`): models are compared on held-out
    findings, so none may learn them, not even with a teacher's labels."""
    read = {normalise_text(r["text"]) for r in [*gold, *held_out_findings()]}
    return [f for f in corpus_findings(corpus_dir()) if f["kind"] == "finding" and normalise_text(f["text"]) not in read]


def label_with(model: Path, findings: list[dict]) -> ModelScores:
    """The accurate model's scores of `findings`, its columns in the taxonomy's order."""
    scores = score_findings(scorer_for_model(model), [f["text"] for f in findings], progress=True)
    return scores.in_order(DEFAULT_TAXONOMY.theme_ids, DEFAULT_TAXONOMY.polarities)


def save(path: Path, findings: list[dict], scores: ModelScores, seconds: float, teacher_name: str, unseen_groups: set[str] | None = None) -> None:
    """The teacher's labels of `findings`; `unseen_groups`: the groups whose gold the teacher never saw."""
    extra = {} if unseen_groups is None else {"unseen_groups": np.array(sorted(unseen_groups))}
    np.savez_compressed(
        path,
        ids=np.array([f["id"] for f in findings]),
        texts=np.array([f["text"] for f in findings]),
        groups=np.array([f["local_authority"] for f in findings]),
        themes=scores.theme_probabilities,
        thresholds=scores.theme_thresholds,
        theme_ids=np.array(scores.theme_ids),
        polarity=scores.polarity_probabilities.astype(np.float32),
        polarities=np.array(scores.polarity_labels),
        teacher=np.array(teacher_name),
        seconds=seconds,
        **extra,
    )


def labelled_by(data) -> str | None:
    """The teacher named in a loaded labels file, or None for a file of an older distill."""
    return str(data["teacher"]) if "teacher" in data and "themes" in data else None


def already_labelled(path: Path, teacher_name: str, findings: list[dict]) -> bool:
    """Whether `path` holds `teacher_name`'s labels of exactly these findings (same draw)."""
    if not path.exists():
        return False
    with np.load(path) as data:
        return labelled_by(data) == teacher_name and [str(i) for i in data["ids"]] == [f["id"] for f in findings]


def held_out_by_fold(gold: list[dict], n_folds: int, fold_of: dict[str, int]) -> list[set[str]]:
    """The authorities each fold tests on, refused unless the fold models were cross-validated on the
    same folds (`fold_of`, from their folds.json): otherwise a fold's teacher could have seen its
    test authorities' gold."""
    held_out = [{gold[i]["local_authority"] for i in test} for _, test in grouped_folds(gold, n_folds)]
    if {authority: k for k, authorities in enumerate(held_out) for authority in authorities} != fold_of:
        raise SystemExit("the fold models were cross-validated on other folds than the gold makes now: a fold's "
                         "teacher could have seen its test authorities. Train the accurate model again "
                         "(python -m training.train) before distilling.")
    return held_out


def teacher(folder: Path, weight: float, themes: bool = True) -> Teacher:
    """The teacher's labels saved in `folder`, for fold k (an int) or the final model ("final"): its
    polarity probabilities, each distilled row weighted `weight` against a gold one, and (`themes`)
    its theme decisions."""

    def labels(fold: int | str) -> DistilledFindings:
        path = folder / (f"fold-{fold}.npz" if fold != "final" else "final.npz")
        with np.load(path) as data:
            if labelled_by(data) is None:
                raise ValueError(f"{path} was written by an older training.distill (no theme labels, no teacher named): "
                                 "run `python -m training.distill folds` and `final` again.")
            for name, expected in (("theme_ids", DEFAULT_TAXONOMY.theme_ids), ("polarities", DEFAULT_TAXONOMY.polarities)):
                if list(data[name]) != list(expected):
                    raise ValueError(f"{path} has {name} {list(data[name])}, not the taxonomy's.")
            return DistilledFindings(
                [str(t) for t in data["texts"]],
                data["polarity"],
                [str(g) for g in data["groups"]],
                weight,
                themes=(data["themes"] >= data["thresholds"]).astype(int) if themes else None,
                theme_ids=DEFAULT_TAXONOMY.theme_ids if themes else None,
                unseen_groups=[str(g) for g in data["unseen_groups"]] if "unseen_groups" in data else None,
            )

    return labels


def _label_and_save(model: Path, teacher_name: str, findings: list[dict], path: Path, unseen_groups: set[str] | None = None) -> None:
    started = time.perf_counter()
    save(path, findings, label_with(model, findings), time.perf_counter() - started, teacher_name, unseen_groups)
    typer.echo(f"{path.stem}: {len(findings)} findings labelled by {teacher_name} in {time.perf_counter() - started:.0f} s")


@app.command()
def folds(
    config_path: Path = typer.Argument(Path("training/configs/default.cfg")),
    findings: int = typer.Option(10_000, help="Corpus findings drawn for the teachers."),
    seed: int = 0,
    output: Path = typer.Option(OUTPUT, help="Folder of the fold labels."),
) -> None:
    """Label, with each fold's accurate model, the drawn findings of authorities outside its test set.

    A fold whose labels of the same draw by the same teacher are already there is not labelled
    again; exits 1 when a fold's teacher is missing."""
    from training.train import read_fold_models

    config, gold, drawn = gold_and_drawn(config_path, findings, seed)
    teachers = fold_teachers(config)
    held_out = held_out_by_fold(gold, config["training"]["folds"], read_fold_models(teachers))
    output.mkdir(parents=True, exist_ok=True)
    missing = []
    for k, tested in enumerate(held_out):
        path, model, name = output / f"fold-{k}.npz", teachers / f"fold-{k}", f"{teachers.name}/fold-{k}"
        mine = [f for f in drawn if f["local_authority"] not in tested]
        if already_labelled(path, name, mine):
            typer.echo(f"fold {k}: done, by {name}")
        elif not model.exists():
            missing.append(k)
            typer.echo(f"fold {k}: no teacher: {model} is missing (written by python -m training.train)", err=True)
        else:
            _label_and_save(model, name, mine, path, unseen_groups=tested)
    if missing:
        raise typer.Exit(1)


@app.command()
def final(
    config_path: Path = typer.Argument(Path("training/configs/default.cfg")),
    findings: int = typer.Option(10_000, help="Corpus findings drawn for the teacher."),
    seed: int = 0,
    output: Path = typer.Option(OUTPUT, help="Folder of the labels, beside the fold labels `teacher` reads with them."),
) -> None:
    """Label the drawn findings with the committed accurate model."""
    _, _, drawn = gold_and_drawn(config_path, findings, seed)
    output.mkdir(parents=True, exist_ok=True)
    model = resolve_model("accurate")
    _label_and_save(model, model.name, drawn, output / "final.npz")


if __name__ == "__main__":
    app()
