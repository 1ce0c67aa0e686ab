"""The model card (`README.md` in the artifact), generated from the pipeline's meta.

Every model gets the same card, whatever its taxonomy: intended use, taxonomy, training data,
grouped cross-validation figures, per-theme table, polarity confusion and library versions. The
committed Ofsted models add a keyword baseline and the agreement of two human readings of the gold
set (`training/train.py`); other models' cards leave those columns out.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version

LIBRARIES = ("inspection-themes", "spacy", "scikit-learn", "skops", "numpy", "scipy", "datasets", "onnxruntime", "tokenizers")
TRAINING_LIBRARIES = ("torch", "transformers", "onnx")


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for library in LIBRARIES + TRAINING_LIBRARIES:
        try:
            versions[library] = installed_version(library)
        except PackageNotFoundError:
            versions[library] = "not installed"
    return versions


# Models another kind's run may also have measured on the same folds.
_OTHER_MODELS = (
    ("without_self_training", "this model without self-training (its teachers' outputs, stacked alike)"),
    ("fast", "fast model"),
    ("second_opinion", "fast model of the gold alone (the accurate kind's second opinion)"),
    ("ngram", "n-gram model (`FindingClassifier`: the fast model, and the accurate model's second opinion, before 0.4.0)"),
)


def _compared(metrics: dict, kind: str) -> list[tuple[str, dict]]:
    """The models measured in the same run, best first: this one (of `kind`), the others, the keyword baseline."""
    columns = [("this model", metrics["model"])]
    for key, name in _OTHER_MODELS:
        if key != kind and metrics.get(key) is not None:
            columns.append((name, metrics[key]))
    if metrics.get("keyword_baseline") is not None:
        columns.append(("keyword baseline", metrics["keyword_baseline"]))
    return columns


def _base_encoder_lines(custom: dict) -> list[str]:
    base = custom.get("base_encoder")
    if not base:
        return []
    # Only the pinned encoders of nlp.finetune carry a package and a hash; one built in code (as in the tests) does not.
    source = (
        f"{base['name']} ({base['licence']}), from the PyPI package `{base['package']}=={base['version']}`; "
        f"`model.safetensors` SHA-256 `{base['sha256']}`, checked before training"
        if "sha256" in base
        else f"{base['name']}, not from pinned weights"
    )
    return [
        f"- Pretrained encoder: {source}. Fine-tuned on the gold set and exported to ONNX ({custom.get('precision')}); "
        "labelling runs on ONNX Runtime without torch.",
    ]


def _training_lines(metrics: dict) -> list[str]:
    training = metrics.get("training", {})
    lines = [
        "",
        f"Training on 2 CPU cores: {training.get('total_seconds')} s for the run that wrote this model (its "
        f"peak memory {training.get('peak_rss_mb')} MB), plus the encoder fine-tunes (below), which it may have reused from an earlier run with the same gold and settings.",
    ]
    for precision in ("float32", "int8"):
        variant = metrics.get(f"accurate_{precision}")
        if variant:
            lines.append(
                f"- encoder exported as {precision}: theme micro-F1 {variant['themes']['micro_f1']}, polarity macro-F1 "
                f"{variant['polarity']['macro_f1']}, pair F1 {variant['theme_polarity_pairs']['f1']}"
            )
    folds = (training.get("encoder_cv") or {}).get("folds", {})
    if folds:
        seconds = sum(f["fine_tune_seconds"] for f in folds.values())
        threads = sorted({f["fine_tune_threads"] for f in folds.values() if "fine_tune_threads" in f})
        # Folds fine-tuned by parallel processes of one thread each add up to more than the time waited.
        at = f" (their times added up; {' or '.join(map(str, threads))} thread(s) each)" if threads else ""
        lines.append(f"- encoder fine-tuning: {len(folds)} fold models in {seconds:.0f} s{at}, then one on all findings in {training.get('final_fine_tune_seconds')} s")
    students = (training.get("self_training") or {}).get("folds", {})
    if students:
        seconds = sum(f["fine_tune_seconds"] for f in students.values())
        taught = sorted({f.get("taught") for f in students.values()})
        lines.append(
            f"- self-training: each fold model labelled {', '.join(map(str, taught))} unlabelled findings of authorities it is not tested on, "
            f"and a student learnt from its gold and those labels ({len(students)} students in {seconds:.0f} s); the final model is the student "
            f"of the encoder fine-tuned on all findings (the one on all findings above is the student; its teacher took "
            f"{training.get('final_teacher_fine_tune_seconds')} s). The teachers' labels are training signal, never gold."
        )
    return lines


def _sample_lines(model: dict) -> list[str]:
    """This model's figures on each sample of gold (gold mixes findings drawn in different ways)."""
    samples = model.get("by_sample")
    if not samples:
        return []
    return [
        "",
        "The training data holds findings drawn in different ways (for the Ofsted gold set, `training/ANNOTATION.md` §3, §10 and §12); the same "
        "cross-validated predictions, scored on each sample apart:",
        "",
        "| sample | findings | theme micro-F1 | theme macro-F1 | polarity macro-F1 | recall of `mixed` | pair F1 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *(
            f"| {name} | {m['findings']} | {m['themes']['micro_f1']} | {m['themes']['macro_f1']} | {m['polarity']['macro_f1']} "
            f"| {m['polarity']['per_class']['mixed']['recall']} | {m['theme_polarity_pairs']['f1']} |"
            for name, m in samples.items()
        ),
    ]


def _use_lines(taxonomy: dict) -> list[str]:
    themes = len(taxonomy["themes"])
    return [
        f"- **Use:** label findings (paragraphs) of reports with the {themes} themes of the taxonomy "
        f"`{taxonomy['name']}` (version {taxonomy['version']}, stored in the model) and 4 polarity values, and aggregate "
        "those labels across reports for research.",
        "- **It labels text; it is not an inspection judgement.** A count of weakness findings is not a grade, and the model's "
        "errors are not evenly spread over themes (see the table below). Check evidence before relying on a single label.",
        "- Findings are cut from reports by the Ofsted report segmenter; text of another kind can be labelled as "
        "findings (`classify`), but it is outside what the figures below measured unless the training data was of that kind.",
    ]


def _data_lines(custom: dict, metrics: dict) -> list[str]:
    data = custom["training_data"]
    human = metrics.get("human_agreement")
    if human is None:
        grouped = f"grouped by `{data['grouped_by']}` ({data['groups']} groups)" if data.get("grouped_by") else "not grouped"
        return [
            f"- Training data: {data['findings']} labelled findings, {grouped} (`{data['path']}`, sha256 `{data['sha256'][:16]}…`).",
            *_teacher_lines(custom.get("teacher")),
        ]
    return [
        f"- Gold set: {data['gold_findings']} findings from {data['gold_reports']} reports of "
        f"{data['gold_local_authorities']} local authorities (`{data['gold_path']}`, sha256 `{data['gold_sha256'][:16]}…`).",
        "- Each finding was labelled by reading it against the schema (protocol: `training/ANNOTATION.md`). The "
        "readers were AI annotators working to that protocol, not Ofsted staff; "
        f"{human['findings']} findings were read twice independently and disagreements adjudicated.",
        f"- Agreement between the two readings (the ceiling the model is compared with): theme micro-F1 "
        f"{human['theme_micro_f1']}, macro-F1 {human['theme_macro_f1']}, polarity Cohen's kappa {human['polarity_kappa']}, "
        f"(theme, polarity) pair F1 {human['pair_f1']}. Readers applying the same written protocol agree more than "
        "independent human experts typically would, so treat this ceiling as optimistic.",
        *(
            [
                f"- Sentence gold: the encoder's polarity head also learnt the polarity of {data['sentence_gold_sentences']} "
                f"sentences of {data['sentence_gold_findings']} gold findings, read sentence by sentence "
                f"(`{data['sentence_gold_path']}`, sha256 `{data['sentence_gold_sha256'][:16]}…`)."
            ]
            if "sentence_gold_path" in data
            else []
        ),
        "- Source reports: Ofsted, Open Government Licence v3.0 (Crown copyright).",
        *_teacher_lines(custom.get("teacher")),
    ]


def _teacher_lines(teacher: dict | None) -> list[str]:
    if not teacher:
        return []
    labels = "theme decisions and polarity probabilities" if teacher.get("themes") else "polarity probabilities"
    return [
        f"- Distilled: the model also learnt from {teacher['final_findings']:,} corpus findings that are not gold, labelled with "
        f"the {labels} of a teacher, the accurate model (`training.distill`); each probability-weighted polarity "
        f"row counts {teacher['weight']} of a gold finding. In cross-validation, fold k's model learnt only from findings "
        "of authorities outside its test fold, labelled by the teacher trained without that fold's gold "
        f"({', '.join(f'{n:,}' for n in teacher['fold_findings'])} findings per fold).",
    ]


def _folds_line(cv: dict) -> str:
    groups = cv.get("groups", cv.get("authorities"))
    if cv.get("grouped_by"):
        return (
            f"Cross-validation with {cv['folds']} folds grouped by `{cv['grouped_by']}` ({groups} groups; none in both "
            "training and test folds)."
        )
    return f"Cross-validation with {cv['folds']} folds of findings drawn at random (the data named no groups)."


def model_card(meta: dict) -> str:
    """Markdown model card: intended use and limits, taxonomy, data and provenance, metrics, versions."""
    custom = meta["inspection_themes"]
    metrics = custom["metrics"]
    model, human = metrics["model"], metrics.get("human_agreement")
    compared = _compared(metrics, custom["kind"])
    header = " | ".join(name for name, _ in compared) + (" | two human readings" if human else "")
    # Each row: this run's models, then the human ceiling where there is one.
    row = lambda label, value, ceiling="": (  # noqa: E731
        f"| {label} | " + " | ".join(str(value(m)) for _, m in compared) + (f" | {human[ceiling] if ceiling else ''} |" if human else " |")
    )
    per_theme = model["themes"]["per_theme"]
    polarity = model["polarity"]
    confusion = polarity["confusion_matrix"]
    taxonomy = custom["taxonomy"]
    descriptions = {t["id"]: t.get("description", "") for t in taxonomy["themes"]}
    lines = [
        f"# {meta['name']} {meta['version']}",
        "",
        meta["description"],
        "",
        "## Intended use and limits",
        "",
        *_use_lines(taxonomy),
        "",
        "## Training data and provenance",
        "",
        *_data_lines(custom, metrics),
        *_base_encoder_lines(custom),
        "",
        "## Evaluation",
        "",
        _folds_line(metrics["cross_validation"]),
        "",
        "All columns come from the same run, folds and findings.",
        "",
        f"| measure | {header} |",
        "| --- | " + " | ".join("---" for _ in range(len(compared) + bool(human))) + " |",
        row("theme micro-F1", lambda m: m["themes"]["micro_f1"], "theme_micro_f1"),
        row("theme macro-F1", lambda m: m["themes"]["macro_f1"], "theme_macro_f1"),
        row("polarity macro-F1", lambda m: m["polarity"]["macro_f1"], "polarity_macro_f1"),
        row("polarity accuracy", lambda m: m["polarity"]["accuracy"], "polarity_accuracy"),
        row("recall of `mixed`", lambda m: m["polarity"]["per_class"]["mixed"]["recall"]),
        row("(theme, polarity) pair F1", lambda m: m["theme_polarity_pairs"]["f1"], "pair_f1"),
        row("theme ECE, pooled", lambda m: m.get("calibration_error", {}).get("pooled", "")),
        *_sample_lines(model),
        *_training_lines(metrics),
        "",
        "### Per theme (model)",
        "",
        "ECE is the calibration error of the theme's probability (10 bins), per theme: pooled over all themes it is "
        "flattered by the many near-zero scores.",
        "",
        "| theme | precision | recall | F1 | gold positives | ECE |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {t} | {m['precision']} | {m['recall']} | {m['f1']} | {m['support']} | {model['calibration_error']['per_theme'][t]} |"
            for t, m in per_theme.items()
        ),
        "",
        "### Themes of the taxonomy",
        "",
        "| theme | description |",
        "| --- | --- |",
        *(f"| {t} | {d} |" for t, d in descriptions.items()),
        "",
        "### Polarity confusion (rows: gold, columns: predicted)",
        "",
        "| | " + " | ".join(confusion["labels"]) + " |",
        "| --- | " + " | ".join("---" for _ in confusion["labels"]) + " |",
        *(
            f"| {label} | " + " | ".join(str(v) for v in row_) + " |"
            for label, row_ in zip(confusion["labels"], confusion["rows_gold_columns_predicted"])
        ),
        "",
        "## Use",
        "",
        "```python",
        "import spacy, nlp  # `nlp` is the inspection-themes package; it registers the components",
        f'pipeline = spacy.load("models/{meta["name"]}-{meta["version"]}")',
        'doc = pipeline(open("report.txt").read())',
        'for finding in doc.spans["findings"]:',
        "    print(finding._.themes, finding._.polarity, finding._.theme_polarity)",
        "```",
        "",
        "Or from the shell: `inspection-themes classify findings.jsonl -o labels.jsonl --model <this folder>`.",
        "",
        "## Library versions at training time",
        "",
        *(f"- {name}: {value}" for name, value in _library_versions().items()),
        "",
    ]
    return "\n".join(lines)
