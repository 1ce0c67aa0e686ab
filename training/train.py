"""Train the theme classifier and write a new versioned model artifact.

    python -m training.train training/configs/default.cfg [--section.key value ...]

1. loads the gold set (`datasets.load_dataset("json", ...)`);
2. evaluates the configured model with cross-validation grouped by local authority, next to the
   keyword baseline and the human agreement figures;
3. fits the model on all gold findings;
4. writes `models/<name>-<version>/`: a spaCy pipeline (config, meta with version, labels and
   metrics, component folders) that `spacy.load()` opens, with a generated model card.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path

import datasets
import numpy as np
import typer
from spacy.cli._util import parse_config_overrides
from thinc.api import Config

from nlp.about import __version__
from nlp.artifact import taxonomy_record
from nlp.models import FindingClassifier, PolarityClassifier, ThemeClassifier
from nlp.pipeline import make_segmenter
from training.evaluate import evaluate, folds_summary, grouped_cross_validation, keyword_baseline, theme_matrix
from training.model_card import model_card

app = typer.Typer(add_completion=False)


def load_gold(path: Path) -> list[dict]:
    """Gold records through Hugging Face `datasets`, the format's contract for other teams."""
    dataset = datasets.load_dataset("json", data_files=str(path), split="train")
    return [dict(record) for record in dataset]


def make_model_factory(config: dict):
    model = config["model"]

    def make() -> FindingClassifier:
        return FindingClassifier(
            themes=ThemeClassifier(**model.get("themes", {})),
            polarity=PolarityClassifier(**model.get("polarity", {})),
            theme_polarity=PolarityClassifier(**model.get("theme_polarity", {})),
            **model.get("finding", {}),
        )

    return make


def fit_final(records: list[dict], make_model) -> FindingClassifier:
    return make_model().fit(
        [r["text"] for r in records],
        theme_matrix([r["themes"] for r in records]),
        [r["polarity"] for r in records],
        [r["theme_polarity"] for r in records],
        [r["local_authority"] for r in records],
    )


def train(config: Config) -> Path:
    """Evaluate and fit the configured model, write the artifact and return its folder."""
    random.seed(config["training"]["seed"])
    np.random.seed(config["training"]["seed"])
    paths = config["paths"]
    gold_path = Path(paths["gold"])
    records = load_gold(gold_path)
    make_model = make_model_factory(config)
    folds = config["training"]["folds"]

    started = time.perf_counter()
    cv_predictions = grouped_cross_validation(records, make_model, folds)
    metrics = {
        "model": evaluate(records, cv_predictions),
        "keyword_baseline": evaluate(records, keyword_baseline([r["text"] for r in records]), with_calibration=False),
        "human_agreement": json.loads((gold_path.parent.parent / "agreement.json").read_text()),
        "cross_validation": folds_summary(records, folds),
        "cv_seconds": round(time.perf_counter() - started, 1),
    }
    model = fit_final(records, make_model)

    name, version = config["model"]["name"], config["model"]["version"]
    output = Path(paths["output"]) / f"{name}-{version}"
    nlp = make_segmenter()
    themes = nlp.add_pipe("ofsted_theme_classifier_v1", name="themes")
    themes.initialize(model=model)
    training_data = {
        "gold_path": str(gold_path),
        "gold_sha256": hashlib.sha256(gold_path.read_bytes()).hexdigest(),
        "gold_findings": len(records),
        "gold_reports": len({r["report_id"] for r in records}),
        "gold_local_authorities": len({r["local_authority"] for r in records}),
    }
    themes.model_info = {"version": version, "training_data": training_data}
    nlp.meta.update(
        {
            "name": name,
            "version": version,
            "description": "Themes and strength/weakness polarity for findings of Ofsted children's services inspection reports.",
            "license": "MIT (model); training text: Ofsted reports under the Open Government Licence v3.0",
            "requirements": [f"inspection-themes>={__version__},<{_next_minor(__version__)}"],
            "performance": _performance_summary(metrics),
            "sources": [{"name": "Ofsted inspection reports (391, 2013-2026)", "license": "OGL v3.0"}],
            "inspection_themes": {
                "taxonomy": taxonomy_record(),
                "training_data": training_data,
                "config": config.interpolate().copy(),
                "metrics": metrics,
            },
        }
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    (output / "README.md").write_text(model_card(nlp.meta), encoding="utf-8")
    reports = Path(paths["reports"])
    reports.mkdir(parents=True, exist_ok=True)
    (reports / f"metrics-{name}-{version}.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return output


def _next_minor(version: str) -> str:
    major, minor = version.split(".")[:2]
    return f"{major}.{int(minor) + 1}"


def _performance_summary(metrics: dict) -> dict:
    model, baseline = metrics["model"], metrics["keyword_baseline"]
    return {
        "theme_micro_f1": model["themes"]["micro_f1"],
        "theme_macro_f1": model["themes"]["macro_f1"],
        "polarity_macro_f1": model["polarity"]["macro_f1"],
        "theme_polarity_pair_f1": model["theme_polarity_pairs"]["f1"],
        "calibration_error": model["calibration_error"],
        "keyword_baseline_theme_micro_f1": baseline["themes"]["micro_f1"],
        "keyword_baseline_polarity_macro_f1": baseline["polarity"]["macro_f1"],
    }


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(ctx: typer.Context, config_path: Path = typer.Argument(Path("training/configs/default.cfg"), exists=True)) -> None:
    """Train from a config file; `--section.key value` overrides any config value."""
    config = Config().from_disk(config_path, overrides=parse_config_overrides(ctx.args))
    output = train(config)
    performance = json.loads((output / "meta.json").read_text())["performance"]
    typer.echo(f"model -> {output}")
    typer.echo(json.dumps(performance, indent=2))


if __name__ == "__main__":
    app()
