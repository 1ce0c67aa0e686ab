"""Soft labels for the fast model from the accurate model's fine-tuned encoder (the teacher).

    python -m training.distill folds   # for grouped CV: fold k's teacher on its training authorities
    python -m training.distill final   # for the model: the committed accurate model's encoder

The teacher's labels are the encoder heads' finding polarity probabilities (softmax of the
polarity logits). They are given to findings of the corpus reports (`nlp.corpus.corpus_findings`)
that are not gold (matched by normalised text), drawn once at random (`--findings`, seeded). For cross-validation, fold k's student may
only learn from authorities outside fold k's test set, labelled by the encoder fine-tuned without
fold k's gold (`training/runs/encoder-cv/<run>/fold-k-int8.onnx`, from `training.encoder_cv
folds`); so no label it learns from was made by a model that saw its test authorities' gold.
Output: `<output>/fold-<k>.npz` or `final.npz`, with the findings' ids, texts, authorities and
probabilities (polarity columns in the taxonomy's order), written fold by fold; `teacher` reads
them back as the fast kind's `nlp.train.Teacher`.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np
import typer
from scipy.special import softmax
from thinc.api import Config

from nlp.classify import resolve_model
from nlp.corpus import corpus_dir, corpus_findings
from nlp.models.encoder import OnnxEncoder, heads_from_bytes
from nlp.models.fast import DistilledFindings
from nlp.near_duplicates import normalise_text
from nlp.sentences import text_sentences
from nlp.taxonomy import DEFAULT_TAXONOMY
from nlp.train import Teacher, grouped_folds
from training.encoder_cv import run_folder

app = typer.Typer(add_completion=False)

OUTPUT = Path("training/runs/distill")


def committed_encoder() -> Path:
    """The encoder part of the committed accurate model (the newest `models/ofsted_themes-*`)."""
    return resolve_model("accurate") / "themes"


def gold_and_drawn(config_path: Path, sample: int, seed: int) -> tuple[Config, list[dict], list[dict]]:
    """The config, its gold set, and `sample` corpus findings of kind "finding" that are not gold,
    drawn at random with `seed`."""
    from training.train import load_gold  # training.train reads this module's teachers

    config = Config().from_disk(config_path)
    gold = load_gold(Path(config["paths"]["gold"]), config["training"]["folds"])
    gold_texts = {normalise_text(r["text"]) for r in gold}
    pool = [f for f in corpus_findings(corpus_dir()) if f["kind"] == "finding" and normalise_text(f["text"]) not in gold_texts]
    return config, gold, random.Random(seed).sample(pool, min(sample, len(pool)))


def label_with(onnx: bytes, heads_bytes: bytes, tokenizer: str, findings: list[dict], max_length: int, batch_tokens: int) -> np.ndarray:
    """The teacher's finding polarity probabilities, columns in the taxonomy's polarity order."""
    runtime = OnnxEncoder(onnx, tokenizer, max_length=max_length, batch_tokens=batch_tokens, threads=2)
    texts = [f["text"] for f in findings]
    outputs = heads_from_bytes(heads_bytes).apply(runtime.encode(texts), text_sentences(texts))
    return softmax(outputs.polarity_logits, axis=1)


def save(path: Path, findings: list[dict], polarity: np.ndarray, seconds: float) -> None:
    np.savez_compressed(
        path,
        ids=np.array([f["id"] for f in findings]),
        texts=np.array([f["text"] for f in findings]),
        groups=np.array([f["local_authority"] for f in findings]),
        polarity=polarity.astype(np.float32),
        polarities=np.array(DEFAULT_TAXONOMY.polarities),
        seconds=seconds,
    )


def teacher(folder: Path, weight: float) -> Teacher:
    """The soft labels saved in `folder`, for fold k (an int) or the final model ("final"), each
    distilled row weighted `weight` against a gold one."""

    def labels(fold: int | str) -> DistilledFindings:
        name = f"fold-{fold}.npz" if fold != "final" else "final.npz"
        with np.load(folder / name) as data:
            if list(data["polarities"]) != list(DEFAULT_TAXONOMY.polarities):
                raise ValueError(f"{folder / name} has polarity columns {list(data['polarities'])}.")
            return DistilledFindings([str(t) for t in data["texts"]], data["polarity"], [str(g) for g in data["groups"]], weight)

    return labels


@app.command()
def folds(
    config_path: Path = typer.Argument(Path("training/configs/default.cfg")),
    findings: int = typer.Option(10_000, help="Corpus findings drawn for the teachers."),
    seed: int = 0,
    output: Path = typer.Option(OUTPUT, help="Folder of the fold labels."),
) -> None:
    """Label, with each fold's teacher, the drawn findings of authorities outside its test set."""
    config, gold, drawn = gold_and_drawn(config_path, findings, seed)
    output.mkdir(parents=True, exist_ok=True)
    encoder_folder = run_folder(config, gold)
    # The fold encoders were fine-tuned from the same base as the committed model: one tokenizer.
    tokenizer = (committed_encoder() / "tokenizer.json").read_text(encoding="utf-8")
    settings = config["encoder"]
    for k, (_, test) in enumerate(grouped_folds(gold, config["training"]["folds"])):
        path, onnx = output / f"fold-{k}.npz", encoder_folder / f"fold-{k}-int8.onnx"
        if path.exists() or not onnx.exists():
            typer.echo(f"fold {k}: {'done' if path.exists() else 'no teacher yet'}")
            continue
        held_out = {gold[i]["local_authority"] for i in test}
        mine = [f for f in drawn if f["local_authority"] not in held_out]
        started = time.perf_counter()
        heads = (encoder_folder / f"fold-{k}-heads.safetensors").read_bytes()
        polarity = label_with(onnx.read_bytes(), heads, tokenizer, mine, settings["finetune"]["max_length"], settings["batch_tokens"])
        save(path, mine, polarity, time.perf_counter() - started)
        typer.echo(f"fold {k}: {len(mine)} findings in {time.perf_counter() - started:.0f} s")


@app.command()
def final(
    config_path: Path = typer.Argument(Path("training/configs/default.cfg")),
    findings: int = typer.Option(10_000, help="Corpus findings drawn for the teacher."),
    seed: int = 0,
    output: Path = typer.Option(OUTPUT, help="Folder of the labels, beside the fold labels `teacher` reads with them."),
) -> None:
    """Label the drawn findings with the committed accurate model's encoder."""
    _, _, drawn = gold_and_drawn(config_path, findings, seed)
    model = committed_encoder()
    cfg = json.loads((model / "cfg.json").read_text())
    started = time.perf_counter()
    polarity = label_with(
        (model / "encoder.onnx").read_bytes(),
        (model / "heads.safetensors").read_bytes(),
        (model / "tokenizer.json").read_text(encoding="utf-8"),
        drawn,
        cfg["encoder"]["max_length"],
        cfg["encoder"]["batch_tokens"],
    )
    output.mkdir(parents=True, exist_ok=True)
    save(output / "final.npz", drawn, polarity, time.perf_counter() - started)
    typer.echo(f"final: {len(drawn)} findings in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    app()
