"""Fine-tune the encoder once per grouped fold and keep its out-of-fold outputs.

    python -m training.encoder_cv folds training/configs/default.cfg     # the 5 fold models
    python -m training.encoder_cv curve training/configs/default.cfg     # a validation curve

`folds` fine-tunes on the training authorities of each fold of the same `GroupKFold` as
`training.evaluate`, exports the encoder to ONNX (float32 and int8), and runs the labelling-time
code (`nlp.models.encoder`) on the test fold with each export. The head outputs of every gold
finding, each from the fold model that never saw its authority, go to
`training/runs/encoder-cv/<run>/fold-<k>-<precision>.npz`, with the time, peak memory and loss curve
of each fold in `folds.json`; a finished fold is not redone. The fold models themselves are kept
beside them (ONNX and heads), so that the corpus can be labelled leak-free, each report by the
model that never saw its authority (`training.grade_validity`). The stacked model is fitted and
evaluated on these outputs (`training.train`), and the final model's stacker learns from them.

`curve` holds out a fifth of the training authorities of fold 0 and reports their scores after
every epoch, to choose the number of epochs without looking at any test fold.
"""

from __future__ import annotations

import hashlib
import json
import resource
import time
from pathlib import Path

import numpy as np
import typer
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupShuffleSplit
from thinc.api import Config

from nlp.finetune import FinetuneSettings, export_onnx, finetune, load_base_encoder, quantize_onnx
from nlp.models.encoder import EncoderHeads, EncoderOutputs, OnnxEncoder, heads_from_bytes, heads_to_bytes
from nlp.sentences import text_sentences
from nlp.taxonomy import POLARITIES, THEME_IDS
from nlp.scoring import theme_matrix
from training.evaluate import grouped_folds

app = typer.Typer(add_completion=False)
PRECISIONS = ("float32", "int8")


def encoder_targets(records: list[dict]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Texts, theme matrix, polarity indices and per-theme polarity indices (-1: theme absent)."""
    polarity_index = {p: k for k, p in enumerate(POLARITIES)}
    theme_index = {t: j for j, t in enumerate(THEME_IDS)}
    pairs = np.full((len(records), len(THEME_IDS)), -1, dtype=np.int64)
    for i, record in enumerate(records):
        for theme, polarity in record["theme_polarity"].items():
            if polarity is not None:
                pairs[i, theme_index[theme]] = polarity_index[polarity]
    return (
        [r["text"] for r in records],
        theme_matrix([r["themes"] for r in records]),
        np.array([polarity_index[r["polarity"]] for r in records]),
        pairs,
    )


def settings_from(config: Config) -> FinetuneSettings:
    return FinetuneSettings(**config["encoder"]["finetune"])


def encoder_outputs(onnx: bytes, tokenizer: str, texts: list[str], settings: FinetuneSettings, heads: EncoderHeads, batch_tokens: int) -> dict:
    """The labelling-time head outputs for `texts`, as arrays to save."""
    runtime = OnnxEncoder(onnx, tokenizer, max_length=settings.max_length, batch_tokens=batch_tokens, threads=settings.threads)
    outputs = heads.apply(runtime.encode(texts), text_sentences(texts))
    return {name: getattr(outputs, name) for name in outputs.__dataclass_fields__}


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_folder(config: Config, records: list[dict]) -> Path:
    """Where a run's fold outputs live: one folder per (gold set, settings), so a change retrains."""
    key = json.dumps({"gold": [(r["id"], r["text"], r["themes"], r["polarity"], r["theme_polarity"]) for r in records],
                      "base": config["encoder"]["base"], "finetune": config["encoder"]["finetune"],
                      "folds": config["training"]["folds"]}, sort_keys=True)
    return Path(config["paths"]["runs"]) / "encoder-cv" / hashlib.sha256(key.encode()).hexdigest()[:12]


@app.command()
def folds(config_path: Path = typer.Argument(Path("training/configs/default.cfg"))) -> None:
    """Fine-tune one model per grouped fold and save the out-of-fold head outputs."""
    from training.train import load_gold

    config = Config().from_disk(config_path)
    run_folds(config, load_gold(Path(config["paths"]["gold"])))


def run_folds(config: Config, records: list[dict]) -> dict:
    """Fine-tune the fold models that are not done yet, and label each test fold at every precision
    not done yet (int8 is quantised from the saved float32 export); return the folds' log."""
    settings = settings_from(config)
    texts, themes, polarity, pairs = encoder_targets(records)
    folder = run_folder(config, records)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "folds.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else {"settings": settings.__dict__, "folds": {}}
    tokenizer = load_base_encoder(config["encoder"]["base"]).tokenizer
    for k, (train, test) in enumerate(grouped_folds(records, config["training"]["folds"])):
        float32_path, heads_path = folder / f"fold-{k}-float32.onnx", folder / f"fold-{k}-heads.safetensors"
        if str(k) not in log["folds"]:
            started = time.perf_counter()
            tuned = finetune(
                load_base_encoder(config["encoder"]["base"]),
                [texts[i] for i in train],
                themes[train],
                polarity[train],
                pairs[train],
                len(POLARITIES),
                settings,
                log=lambda line: typer.echo(f"fold {k}: {line}"),
            )
            heads_path.write_bytes(heads_to_bytes(EncoderHeads(tuned.heads)))
            float32_path.write_bytes(export_onnx(tuned.encoder, quantize=False))
            log["folds"][str(k)] = {
                "train": len(train),
                "test": len(test),
                "fine_tune_seconds": round(time.perf_counter() - started, 1),
                "label_test_seconds": {},
                "peak_rss_mb": _peak_rss_mb(),
                "history": tuned.history,
            }
        heads = heads_from_bytes(heads_path.read_bytes())
        for precision in PRECISIONS:
            outputs_path = folder / f"fold-{k}-{precision}.npz"
            if outputs_path.exists():
                continue
            onnx = float32_path.read_bytes() if precision == "float32" else quantize_onnx(float32_path.read_bytes())
            (folder / f"fold-{k}-{precision}.onnx").write_bytes(onnx)
            begin = time.perf_counter()
            arrays = encoder_outputs(onnx, tokenizer, [texts[i] for i in test], settings, heads, config["encoder"]["batch_tokens"])
            log["folds"][str(k)]["label_test_seconds"][precision] = round(time.perf_counter() - begin, 1)
            np.savez_compressed(outputs_path, test=test, **arrays)
        log_path.write_text(json.dumps(log, indent=2) + "\n")
        typer.echo(f"fold {k} done")
    return log


def encoder_oof(config: Config, records: list[dict], precision: str) -> tuple[EncoderOutputs, dict]:
    """The out-of-fold head outputs of every record (fine-tuning the missing folds first), and the log."""
    log = run_folds(config, records)
    folder = run_folder(config, records)
    n, parts = len(records), []
    for k in range(config["training"]["folds"]):
        with np.load(folder / f"fold-{k}-{precision}.npz") as data:
            parts.append({name: data[name] for name in data.files})
    first = parts[0]
    merged = {name: np.zeros((n, *first[name].shape[1:]), dtype=np.float32) for name in ("theme_logits", "polarity_logits", "pair_logits")}
    sentence_theme, sentence_polarity, owner = [], [], []
    for part in parts:
        for name in merged:
            merged[name][part["test"]] = part[name]
        owner.append(part["test"][part["sentence_owner"]])
        sentence_theme.append(part["sentence_theme_logits"])
        sentence_polarity.append(part["sentence_polarity_logits"])
    owner = np.concatenate(owner)
    order = np.argsort(owner, kind="stable")
    outputs = EncoderOutputs(
        sentence_theme_logits=np.concatenate(sentence_theme)[order],
        sentence_polarity_logits=np.concatenate(sentence_polarity)[order],
        sentence_owner=owner[order],
        **merged,
    )
    return outputs, log


def fold_encoders(config: Config, records: list[dict], precision: str) -> list[dict]:
    """The ONNX file and heads of each fold model, in fold order."""
    folder = run_folder(config, records)
    return [
        {
            "onnx": (folder / f"fold-{k}-{precision}.onnx").read_bytes(),
            "heads": heads_from_bytes((folder / f"fold-{k}-heads.safetensors").read_bytes()),
        }
        for k in range(config["training"]["folds"])
    ]


def final_encoder(config: Config, records: list[dict]) -> dict:
    """The encoder fine-tuned on every record and exported at the configured precision (cached in the run folder)."""
    settings = settings_from(config)
    folder = run_folder(config, records)
    precision = config["encoder"]["precision"]
    onnx_path, heads_path = folder / f"final-{precision}.onnx", folder / "final-heads.safetensors"
    loaded = load_base_encoder(config["encoder"]["base"])
    if not onnx_path.exists() or not heads_path.exists():
        texts, themes, polarity, pairs = encoder_targets(records)
        tuned = finetune(loaded, texts, themes, polarity, pairs, len(POLARITIES), settings, log=lambda line: typer.echo(f"final: {line}"))
        heads_path.write_bytes(heads_to_bytes(EncoderHeads(tuned.heads)))
        float32 = export_onnx(tuned.encoder, quantize=False)
        onnx_path.write_bytes(float32 if precision == "float32" else quantize_onnx(float32))
        (folder / "final.json").write_text(json.dumps({"history": tuned.history}, indent=2) + "\n")
    return {
        "onnx": onnx_path.read_bytes(),
        "heads": heads_from_bytes(heads_path.read_bytes()),
        "tokenizer": loaded.tokenizer,
        "provenance": loaded.provenance,
    }


@app.command()
def curve(
    config_path: Path = typer.Argument(Path("training/configs/default.cfg")),
    epochs: int = 10,
    output: Path = Path("training/reports/encoder-curve.json"),
) -> None:
    """Scores on held-out training authorities of fold 0 after every epoch."""
    from training.train import load_gold

    config = Config().from_disk(config_path)
    settings = settings_from(config)
    settings.epochs = epochs
    records = load_gold(Path(config["paths"]["gold"]))
    texts, themes, polarity, pairs = encoder_targets(records)
    groups = np.array([r["local_authority"] for r in records])
    train, _ = grouped_folds(records, config["training"]["folds"])[0]
    inner, validation = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=0).split(train, groups=groups[train]))
    fit, held = train[inner], train[validation]
    scores = []

    def score(epoch: int, predict) -> None:
        theme_logits, polarity_logits, pair_logits = predict([texts[i] for i in held])
        probabilities = 1 / (1 + np.exp(-theme_logits))
        best = max(np.arange(0.1, 0.9, 0.05), key=lambda t: f1_score(themes[held], probabilities >= t, average="micro"))
        mask = pairs[held] >= 0
        scores.append(
            {
                "epoch": epoch,
                "theme_micro_f1_at_0.5": round(float(f1_score(themes[held], probabilities >= 0.5, average="micro")), 3),
                "theme_micro_f1_best_threshold": round(float(f1_score(themes[held], probabilities >= best, average="micro")), 3),
                "best_threshold": round(float(best), 2),
                "theme_macro_f1_at_0.5": round(float(f1_score(themes[held], probabilities >= 0.5, average="macro", zero_division=0)), 3),
                "polarity_macro_f1": round(float(f1_score(polarity[held], polarity_logits.argmax(1), average="macro")), 3),
                "pair_polarity_accuracy": round(float((pair_logits.argmax(-1)[mask] == pairs[held][mask]).mean()), 3),
            }
        )
        typer.echo(json.dumps(scores[-1]))
        output.write_text(json.dumps({"settings": settings.__dict__, "fit": len(fit), "validation": len(held), "scores": scores}, indent=2) + "\n")

    finetune(
        load_base_encoder(config["encoder"]["base"]),
        [texts[i] for i in fit],
        themes[fit],
        polarity[fit],
        pairs[fit],
        len(POLARITIES),
        settings,
        log=typer.echo,
        on_epoch=score,
    )


if __name__ == "__main__":
    app()
