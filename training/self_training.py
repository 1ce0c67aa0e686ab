"""Does the encoder read better when it also learns from corpus findings its own fold model labelled?

    python -m training.self_training training/configs/default.cfg [--folds 1] [--findings 3000]

Self-training, measured fold by fold on the grouped folds of `training.train`. For fold k:

1. the teacher is fold k's fine-tune of `nlp.encoder_cv.run_folds` (the run folder `training.train`
   fills for the same config and overrides, so a fold done here is not fine-tuned again there),
   which never saw fold k's gold;
2. it labels `--findings` corpus findings of kind "finding", drawn at random (seeded) from reports
   of authorities outside fold k's test set, none of them gold (by normalised text): its theme
   probabilities (kept soft: the theme loss is a binary cross-entropy), its polarity, and the
   polarity of each theme it gives;
3. the student is fine-tuned from the pretrained weights, with the config's settings, on fold k's
   training gold plus those labelled findings;
4. the student, as int8 ONNX as labelling runs it, labels fold k's test findings, and its figures
   (`training.encoder_cv.fold_figures`: the heads' own, and the stacker fitted within the fold) are
   compared with those of the teacher's outputs that `run_folds` saved.

Each step's result is kept in `training/runs/self-training/<run>/` and the figures are written to
`--output` after every fold. The model labels of step 2 are training signal, never gold.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np
import typer
from spacy.cli._util import parse_config_overrides
from thinc.api import Config

from nlp.encoder_cv import encoder_outputs, encoder_targets, run_folds
from nlp.finetune import export_onnx, finetune, load_base_encoder, quantize_onnx
from nlp.models.encoder import EncoderHeads, heads_from_bytes, heads_to_bytes
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import grouped_folds
from training.distill import corpus_findings_not_gold
from training.encoder_cv import fold_figures, run_folder, settings_from

app = typer.Typer(add_completion=False)

OUTPUT = Path("training/reports/self-training.json")


def teacher_labels(outputs: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets from a teacher's head outputs: theme probabilities, polarity index, and the polarity of
    each theme it gives (probability >= 0.5), -1 for the others."""
    probabilities = 1 / (1 + np.exp(-outputs["theme_logits"]))
    pairs = np.where(probabilities >= 0.5, outputs["pair_logits"].argmax(-1), -1)
    return probabilities.astype(np.float32), outputs["polarity_logits"].argmax(1), pairs.astype(np.int64)


def student_findings(pool: list[dict], tested: set[str], n: int, seed: int) -> list[dict]:
    """`n` findings of `pool` (corpus findings that are not gold) drawn at random with `seed`, none of
    an authority in `tested` (the fold's test authorities)."""
    return random.Random(seed).sample([f for f in pool if f["local_authority"] not in tested], n)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    config_path: Path = typer.Argument(Path("training/configs/default.cfg")),
    folds: int = typer.Option(1, help="Folds run, first ones first."),
    findings: int = typer.Option(3000, help="Corpus findings the teacher labels for each fold."),
    seed: int = 0,
    output: Path = typer.Option(OUTPUT),
) -> None:
    from training.train import gold_of

    config = Config().from_disk(config_path, overrides=parse_config_overrides(ctx.args))
    settings = settings_from(config)
    gold = gold_of(config)
    splits = grouped_folds(gold, config["training"]["folds"])[:folds]
    load_encoder = lambda: load_base_encoder(config["encoder"]["base"])  # noqa: E731
    teachers = run_folder(config, gold)
    run_folds(gold, DEFAULT_TAXONOMY, splits, settings, load_encoder, teachers, log=typer.echo)
    folder = Path(config["paths"]["runs"]) / "self-training" / f"{teachers.name}-{findings}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    texts, themes, polarity, pairs = encoder_targets(gold, DEFAULT_TAXONOMY)
    pool = corpus_findings_not_gold(gold)
    tokenizer = load_encoder().tokenizer
    results = {"config": str(config_path), "findings": findings, "seed": seed, "settings": settings.__dict__, "folds": {}}
    for k, (train, test) in enumerate(splits):
        drawn = student_findings(pool, {gold[i]["local_authority"] for i in test}, findings, seed + k)
        drawn_ids = [f["id"] for f in drawn]
        labels_path = folder / f"fold-{k}-teacher-labels.npz"
        if not labels_path.exists():
            float32 = (teachers / f"fold-{k}-float32.onnx").read_bytes()
            heads = heads_from_bytes((teachers / f"fold-{k}-heads.safetensors").read_bytes())
            arrays = encoder_outputs(float32, tokenizer, [f["text"] for f in drawn], settings, heads)
            np.savez_compressed(labels_path, ids=np.array(drawn_ids), **arrays)
        with np.load(labels_path) as data:
            if [str(i) for i in data["ids"]] != drawn_ids:
                raise SystemExit(f"{labels_path} holds labels of another draw (the corpus or gold changed): remove {folder}.")
            taught_themes, taught_polarity, taught_pairs = teacher_labels(dict(data))
        student_onnx, student_heads_path = folder / f"fold-{k}-student-int8.onnx", folder / f"fold-{k}-student-heads.safetensors"
        student_log = folder / f"fold-{k}-student.json"
        if not student_onnx.exists():
            started = time.perf_counter()
            tuned = finetune(
                load_encoder(),
                [texts[i] for i in train] + [f["text"] for f in drawn],
                np.vstack([themes[train], taught_themes]),
                np.concatenate([polarity[train], taught_polarity]),
                np.vstack([pairs[train], taught_pairs]),
                len(DEFAULT_TAXONOMY.polarities),
                settings,
                log=lambda line: typer.echo(f"fold {k} student: {line}"),
            )
            student_heads_path.write_bytes(heads_to_bytes(EncoderHeads(tuned.heads)))
            student_onnx.write_bytes(quantize_onnx(export_onnx(tuned.encoder, quantize=False)))
            student_log.write_text(json.dumps({"fine_tune_seconds": round(time.perf_counter() - started, 1), "taught": drawn_ids, "history": tuned.history}) + "\n")
        record = json.loads(student_log.read_text())
        if record.get("taught") != drawn_ids:
            raise SystemExit(f"{student_onnx} was taught another draw: remove {folder}.")
        with np.load(teachers / f"fold-{k}-int8.npz") as data:
            teacher = {key: data[key] for key in data.files}
        student = encoder_outputs(student_onnx.read_bytes(), tokenizer, [texts[i] for i in test], settings, heads_from_bytes(student_heads_path.read_bytes()))
        results["folds"][str(k)] = {
            "train": len(train),
            "test": len(test),
            "taught": len(drawn),
            "student_fine_tune_seconds": record["fine_tune_seconds"],
            **{name: fold_figures(gold, test, arrays, dict(config["stacker"])) for name, arrays in (("teacher", teacher), ("student", student))},
        }
        output.write_text(json.dumps(results, indent=1) + "\n")
        typer.echo(f"fold {k}: " + json.dumps({n: results["folds"][str(k)][n] for n in ("teacher", "student")}))


if __name__ == "__main__":
    app()
