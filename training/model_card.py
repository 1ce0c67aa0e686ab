"""The model card (`README.md` in the artifact), generated from the pipeline's meta."""

from __future__ import annotations

import platform
from importlib.metadata import version as installed_version

LIBRARIES = ("inspection-themes", "spacy", "scikit-learn", "skops", "numpy", "scipy", "datasets")


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for library in LIBRARIES:
        versions[library] = installed_version(library)
    return versions


def model_card(meta: dict) -> str:
    """Markdown model card: intended use and limits, data and provenance, metrics, versions."""
    custom = meta["inspection_themes"]
    metrics = custom["metrics"]
    model, baseline, human = metrics["model"], metrics["keyword_baseline"], metrics["human_agreement"]
    data = custom["training_data"]
    per_theme = model["themes"]["per_theme"]
    polarity = model["polarity"]
    confusion = polarity["confusion_matrix"]
    lines = [
        f"# {meta['name']} {meta['version']}",
        "",
        meta["description"],
        "",
        "## Intended use and limits",
        "",
        "- **Use:** label findings (paragraphs) of Ofsted inspection reports of English local authority children's "
        "services with the 30 themes and 4 polarity values of `label-schema.md` (version "
        f"{custom['taxonomy']['schema_version']}), and aggregate those labels across reports for research.",
        "- **It labels text; it is not an inspection judgement.** A count of weakness findings is not a grade, and "
        "the model's errors are not evenly spread over themes (see the table below). Check evidence before relying "
        "on a single label.",
        "- Trained on reports from 2013-2026 (SIF and ILACS frameworks); other inspection types or report formats "
        "are outside what it was measured on.",
        "",
        "## Training data and provenance",
        "",
        f"- Gold set: {data['gold_findings']} findings from {data['gold_reports']} reports of "
        f"{data['gold_local_authorities']} local authorities (`{data['gold_path']}`, sha256 `{data['gold_sha256'][:16]}…`).",
        "- Each finding was labelled by reading it against the schema (protocol: `training/ANNOTATION.md`). The "
        "readers were AI annotators working to that protocol, not Ofsted staff; "
        f"{human['findings']} findings were read twice independently and disagreements adjudicated.",
        f"- Agreement between the two readings (the ceiling the model is compared with): theme micro-F1 "
        f"{human['theme_micro_f1']}, macro-F1 {human['theme_macro_f1']}, polarity Cohen's kappa {human['polarity_kappa']}, "
        f"(theme, polarity) pair F1 {human['pair_f1']}. Readers applying the same written protocol agree more than "
        "independent human experts typically would, so treat this ceiling as optimistic.",
        "- Source reports: Ofsted, Open Government Licence v3.0 (Crown copyright).",
        "",
        "## Evaluation",
        "",
        f"Cross-validation with {metrics['cross_validation']['folds']} folds grouped by local authority "
        f"({metrics['cross_validation']['authorities']} authorities; none in both training and test folds).",
        "",
        "| measure | model | keyword baseline | two human readings |",
        "| --- | --- | --- | --- |",
        f"| theme micro-F1 | {model['themes']['micro_f1']} | {baseline['themes']['micro_f1']} | {human['theme_micro_f1']} |",
        f"| theme macro-F1 | {model['themes']['macro_f1']} | {baseline['themes']['macro_f1']} | {human['theme_macro_f1']} |",
        f"| polarity macro-F1 | {polarity['macro_f1']} | {baseline['polarity']['macro_f1']} | {human['polarity_macro_f1']} |",
        f"| polarity accuracy | {polarity['accuracy']} | {baseline['polarity']['accuracy']} | {human['polarity_accuracy']} |",
        f"| (theme, polarity) pair F1 | {model['theme_polarity_pairs']['f1']} | {baseline['theme_polarity_pairs']['f1']} | {human['pair_f1']} |",
        f"| theme calibration error (ECE) | {model['calibration_error']} | | |",
        "",
        "### Per theme (model)",
        "",
        "| theme | precision | recall | F1 | gold positives |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {t} | {m['precision']} | {m['recall']} | {m['f1']} | {m['support']} |" for t, m in per_theme.items()),
        "",
        "### Polarity confusion (rows: gold, columns: predicted)",
        "",
        "| | " + " | ".join(confusion["labels"]) + " |",
        "| --- | " + " | ".join("---" for _ in confusion["labels"]) + " |",
        *(
            f"| {label} | " + " | ".join(str(v) for v in row) + " |"
            for label, row in zip(confusion["labels"], confusion["rows_gold_columns_predicted"])
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
