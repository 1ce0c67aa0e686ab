"""Draw gold findings for a re-read of one theme under the conventions settled since they were read.

    python -m training.sample_theme_reread --theme voice_of_child --name v1 --batches 6 --double 200 \\
        --also "personal advisers?|\\bPAs?\\b|relationships?|life[- ]story|identity|family time|wishes|feelings|listen|participat|consult" --seed 10

Conventions settled in later rounds' adjudication (ANNOTATION.md §10, §12, §13) were not applied to
the findings read before them, so gold can label alike findings differently. A re-read asks one
question of each drawn finding, by reading it against `label-schema.md` and those conventions: is
the theme there, and with which verdict? Drawn are the gold findings that have the theme, and those
whose text matches the theme's cues (`nlp.lexicon`, specific and broad) or `--also`; the cues only
decide which findings are read. The readers see the text alone, not the gold labels. The draw is
shuffled (seeded) and dealt into `--batches` (`reread_<name>a.jsonl`, ...); `--double` of them, drawn
at random again, go to `reread_double_<name>.jsonl` for an independent second reading.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import typer

from nlp.lexicon import broad_cues, compile_cues, specific_cues
from nlp.taxonomy import THEME_IDS
from training.sample_random_round import new_draw_paths, write_draw
from training.train import load_gold

READ_FIELDS = ("id", "report_id", "kind", "section", "text")


def draw_reread(gold: list[dict], theme: str, also: str, batches: int, double: int, seed: int) -> tuple[list[list[dict]], list[dict]]:
    """The gold findings with `theme` or a cue of it (or a match of the `also` pattern), text only,
    shuffled and dealt into `batches`; and `double` of them for a second reading."""
    cues = compile_cues(specific_cues(theme) + broad_cues(theme))
    extra = re.compile(also, re.IGNORECASE) if also else None
    drawn = [
        {name: record[name] for name in READ_FIELDS}
        for record in gold
        if theme in record["themes"] or cues.search(record["text"]) or (extra and extra.search(record["text"]))
    ]
    rng = random.Random(seed)
    rng.shuffle(drawn)
    return [drawn[k::batches] for k in range(batches)], rng.sample(drawn, min(double, len(drawn)))


def main(
    theme: str = typer.Option(..., help="The theme re-read."),
    name: str = typer.Option(..., help="Re-read name: batches are reread_<name>a.jsonl, reread_<name>b.jsonl, ..."),
    batches: int = typer.Option(6),
    double: int = typer.Option(200, help="Drawn findings read a second time."),
    also: str = typer.Option("", help="A regular expression: findings matching it are drawn too (cues the lexicon lacks)."),
    seed: int = typer.Option(10),
    gold: Path = typer.Option(Path("training/data/gold/gold.jsonl")),
    annotation_dir: Path = typer.Option(Path("training/data/annotation")),
) -> None:
    if theme not in THEME_IDS:
        raise SystemExit(f"unknown theme {theme!r}: use one of label-schema.md's ids.")
    paths, double_path = new_draw_paths(annotation_dir, "reread", name, batches)
    dealt, second = draw_reread(load_gold(gold), theme, also, batches, double, seed)
    write_draw(paths, double_path, dealt, second)
    typer.echo(f"{sum(map(len, dealt))} gold findings drawn for a re-read of {theme} into {batches} batches, {len(second)} of them read twice")


if __name__ == "__main__":
    typer.run(main)
