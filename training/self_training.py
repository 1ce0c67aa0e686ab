"""Does the encoder read better when it also learns from corpus findings its own fold model labelled?

    python -m training.self_training training/configs/default.cfg [--folds 1] [--findings 3000]

Self-training, measured fold by fold on the grouped folds of `training.train`. For fold k:

1. the teacher is fold k's fine-tune of `nlp.encoder_cv.run_folds` (the same run folder
   `training.train` fills, so a fold done here is not fine-tuned again there), which never saw
   fold k's gold;
2. it labels `--findings` corpus findings of kind "finding", drawn at random (seeded) from reports
   of authorities outside fold k's test set, none of them gold (by normalised text): its theme
   probabilities (kept soft: the theme loss is a binary cross-entropy), its polarity, and the
   polarity of each theme it gives;
3. the student is fine-tuned from the pretrained weights, with the config's settings, on fold k's
   training gold plus those labelled findings;
4. teacher and student, as int8 ONNX as labelling runs them, label fold k's test findings, and the
   heads' own figures (`training.encoder_cv.encoder_only_scores`, before stacking) are compared.

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
from thinc.api import Config

from nlp.corpus import corpus_dir, corpus_findings
from nlp.encoder_cv import encoder_outputs, encoder_targets, run_folds
from nlp.finetune import export_onnx, finetune, load_base_encoder, quantize_onnx
from nlp.models.encoder import EncoderHeads, heads_from_bytes, heads_to_bytes
from nlp.near_duplicates import normalise_text
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import grouped_folds
from training.encoder_cv import encoder_only_scores, run_folder, settings_from

app = typer.Typer(add_completion=False)

OUTPUT = Path("training/reports/self-training.json")


def teacher_labels(outputs: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets from a teacher's head outputs: theme probabilities, polarity index, and the polarity of
    each theme it gives (probability >= 0.5), -1 for the others."""
    probabilities = 1 / (1 + np.exp(-outputs["theme_logits"]))
    pairs = np.where(probabilities >= 0.5, outputs["pair_logits"].argmax(-1), -1)
    return probabilities.astype(np.float32), outputs["polarity_logits"].argmax(1), pairs.astype(np.int64)


@app.command()
def main(
    config_path: Path = typer.Argument(Path("training/configs/default.cfg")),
    folds: int = typer.Option(1, help="Folds run, first ones first."),
    findings: int = typer.Option(3000, help="Corpus findings the teacher labels for each fold."),
    seed: int = 0,
    output: Path = typer.Option(OUTPUT),
) -> None:
    from training.train import load_gold

    config = Config().from_disk(config_path)
    settings = settings_from(config)
    gold = load_gold(Path(config["paths"]["gold"]), config["training"]["folds"])
    splits = grouped_folds(gold, config["training"]["folds"])[:folds]
    load_encoder = lambda: load_base_encoder(config["encoder"]["base"])  # noqa: E731
    teachers = run_folder(config, gold)
    run_folds(gold, DEFAULT_TAXONOMY, splits, settings, load_encoder, teachers, log=typer.echo)
    folder = Path(config["paths"]["runs"]) / "self-training" / f"{teachers.name}-{findings}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    texts, themes, polarity, pairs = encoder_targets(gold, DEFAULT_TAXONOMY)
    gold_texts = {normalise_text(t) for t in texts}
    pool = [f for f in corpus_findings(corpus_dir()) if f["kind"] == "finding" and normalise_text(f["text"]) not in gold_texts]
    tokenizer = load_encoder().tokenizer
    results = {"config": str(config_path), "findings": findings, "seed": seed, "settings": settings.__dict__, "folds": {}}
    for k, (train, test) in enumerate(splits):
        tested = {gold[i]["local_authority"] for i in test}
        drawn = random.Random(seed + k).sample([f for f in pool if f["local_authority"] not in tested], findings)
        teacher_heads = heads_from_bytes((teachers / f"fold-{k}-heads.safetensors").read_bytes())
        labels_path = folder / f"fold-{k}-teacher-labels.npz"
        if not labels_path.exists():
            float32 = (teachers / f"fold-{k}-float32.onnx").read_bytes()
            arrays = encoder_outputs(float32, tokenizer, [f["text"] for f in drawn], settings, teacher_heads)
            np.savez_compressed(labels_path, ids=np.array([f["id"] for f in drawn]), **arrays)
        with np.load(labels_path) as data:
            assert [str(i) for i in data["ids"]] == [f["id"] for f in drawn], f"{labels_path} labels another draw"
            taught_themes, taught_polarity, taught_pairs = teacher_labels(dict(data))
        student_onnx, student_heads_path = folder / f"fold-{k}-student-int8.onnx", folder / f"fold-{k}-student-heads.safetensors"
        record = {"train": len(train), "test": len(test), "taught": len(drawn)}
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
            (folder / f"fold-{k}-student.json").write_text(json.dumps({"fine_tune_seconds": round(time.perf_counter() - started, 1), "history": tuned.history}) + "\n")
        record["student_fine_tune_seconds"] = json.loads((folder / f"fold-{k}-student.json").read_text())["fine_tune_seconds"]
        test_texts = [texts[i] for i in test]
        for name, onnx, heads in (
            ("teacher", (teachers / f"fold-{k}-int8.onnx").read_bytes(), teacher_heads),
            ("student", student_onnx.read_bytes(), heads_from_bytes(student_heads_path.read_bytes())),
        ):
            arrays = encoder_outputs(onnx, tokenizer, test_texts, settings, heads)
            record[name] = encoder_only_scores(themes[test], polarity[test], pairs[test], arrays["theme_logits"], arrays["polarity_logits"], arrays["pair_logits"])
        results["folds"][str(k)] = record
        output.write_text(json.dumps(results, indent=1) + "\n")
        typer.echo(f"fold {k}: " + json.dumps({n: record[n] for n in ("teacher", "student")}))


if __name__ == "__main__":
    app()
