"""What the second gold round changed: grouped CV of a model trained before it and of its retrained
successor, theme by theme, on the same findings.

The successor's CV covers more findings (the new round was drawn for being hard), so its pooled
figures are not comparable with its predecessor's; its figures on the earlier sample are.

    python -m training.gold_round_effect training/reports/metrics-ofsted_themes-0.2.0.json \\
        training/reports/metrics-ofsted_themes-0.3.0.json -o training/reports/gold-round-2-ofsted_themes.md
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from nlp.taxonomy import THEME_IDS

app = typer.Typer(add_completion=False)

HEADLINES = {
    "theme micro-F1": lambda m: m["themes"]["micro_f1"],
    "theme macro-F1": lambda m: m["themes"]["macro_f1"],
    "polarity macro-F1": lambda m: m["polarity"]["macro_f1"],
    "recall of `mixed`": lambda m: m["polarity"]["per_class"]["mixed"]["recall"],
    "(theme, polarity) pair F1": lambda m: m["theme_polarity_pairs"]["f1"],
}


def _kind(metrics: dict) -> str:
    return "accurate" if "accurate" in metrics else "fast"


def _change(before: float, after: float) -> str:
    return f"{after - before:+.3f}"


def effect_markdown(before: dict, after: dict) -> str:
    """Markdown tables: headline and per-theme F1 before, after on the earlier sample, after on all gold."""
    kind = _kind(before)
    old, new = before[kind], after[_kind(after)]
    earlier_sample, *_ = new["by_sample"]
    on_earlier = new["by_sample"][earlier_sample]
    lines = [
        f"# Grouped CV of the {kind} model before and after the second gold round",
        "",
        f"Before: CV over {old['findings']} findings. After: CV over {new['findings']} findings, scored on the "
        f"{on_earlier['findings']} findings of the earlier sample ({earlier_sample}) and on all.",
        "",
        "| measure | before | after, earlier sample | change | after, all gold |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {name} | {read(old)} | {read(on_earlier)} | {_change(read(old), read(on_earlier))} | {read(new)} |"
            for name, read in HEADLINES.items()
        ),
        "",
        "| theme | F1 before | F1 after, earlier sample | change | F1 after, all gold | support after, all |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for theme in THEME_IDS:
        f1_before = old["themes"]["per_theme"][theme]["f1"]
        f1_earlier = on_earlier["themes"]["per_theme"][theme]["f1"]
        everything = new["themes"]["per_theme"][theme]
        lines.append(
            f"| {theme} | {f1_before} | {f1_earlier} | {_change(f1_before, f1_earlier)} | {everything['f1']} | {everything['support']} |"
        )
    return "\n".join(lines) + "\n"


@app.command()
def main(
    before: Path = typer.Argument(..., exists=True, help="Metrics JSON of the model trained before the round."),
    after: Path = typer.Argument(..., exists=True, help="Metrics JSON of the model retrained with it."),
    output: Path = typer.Option(..., "-o", help="Markdown file to write."),
) -> None:
    output.write_text(effect_markdown(json.loads(before.read_text()), json.loads(after.read_text())))
    typer.echo(f"wrote {output}")


if __name__ == "__main__":
    app()
