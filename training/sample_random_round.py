"""Draw a round of findings uniformly at random from the corpus, for annotation (seeded, reproducible).

    python -m training.sample_random_round --name 8 --count 1750 --batches 7 --double 300 --seed 8

Earlier rounds were drawn by cue words (round 1) and by the model's uncertainty (round 2), so gold
is no sample of what the corpus holds, and figures over it say little about the labels of a
whole corpus. This draw is: every finding the segmenter gives (any kind, at least `MIN_CHARS`
long) is equally likely, except one already read in an earlier batch or a near duplicate of one
(`nlp.suggest.candidate_findings`: by normalised text and shingle cosine), and a text repeated in
the corpus counts once. The draw is dealt into `--batches` batches (`batch_<name>a.jsonl`, ...) and
`--double` of its findings, drawn at random again, go to `batch_double_<name>.jsonl` for a second,
independent reading.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import typer

from nlp.corpus import corpus_dir
from nlp.jsonl import read_jsonl
from nlp.suggest import candidate_findings
from training.sample_for_annotation import readable_findings


def draw_round(findings: list[dict], read: list[str], count: int, batches: int, double: int, seed: int) -> tuple[list[list[dict]], list[dict]]:
    """`count` of `findings` drawn uniformly at random, none a text of `read` nor a near duplicate of
    one, dealt into `batches`; and `double` of the drawn ones for a second reading."""
    eligible = candidate_findings(findings, read)
    rng = random.Random(seed)
    drawn = rng.sample(eligible, count)
    return [drawn[k::batches] for k in range(batches)], rng.sample(drawn, double)


def write_batch(path: Path, findings: list[dict]) -> None:
    path.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in findings), encoding="utf-8")


def new_draw_paths(annotation_dir: Path, prefix: str, name: str, batches: int) -> tuple[list[Path], Path]:
    """The files of a draw's batches (`<prefix>_<name>a.jsonl`, ...) and of its second reading
    (`<prefix>_double_<name>.jsonl`). RAISES (SystemExit): one exists, as a drawn round is never
    redrawn over its readings."""
    paths = [annotation_dir / f"{prefix}_{name}{letter}.jsonl" for letter in string.ascii_lowercase[:batches]]
    double_path = annotation_dir / f"{prefix}_double_{name}.jsonl"
    if existing := [str(path) for path in (*paths, double_path) if path.exists()]:
        raise SystemExit(f"{', '.join(existing)} exist: a draw is never redrawn over its readings.")
    return paths, double_path


def write_draw(paths: list[Path], double_path: Path, dealt: list[list[dict]], second: list[dict]) -> None:
    """Each dealt batch to its file of `paths`, and the findings drawn for a second reading to `double_path`."""
    for path, batch in zip(paths, dealt):
        write_batch(path, batch)
    write_batch(double_path, second)


def main(
    name: str = typer.Option(..., help="Round name: batches are batch_<name>a.jsonl, batch_<name>b.jsonl, ..."),
    count: int = typer.Option(1750, help="Findings drawn."),
    batches: int = typer.Option(7, help="Batches the draw is dealt into."),
    double: int = typer.Option(300, help="Findings of the draw read a second time."),
    seed: int = typer.Option(8),
    annotation_dir: Path = typer.Option(Path("training/data/annotation")),
) -> None:
    paths, double_path = new_draw_paths(annotation_dir, "batch", name, batches)
    read = [record["text"] for path in sorted(annotation_dir.glob("batch_*.jsonl")) for _, record in read_jsonl(path)]
    dealt, second = draw_round(readable_findings(corpus_dir()), read, count, batches, double, seed)
    write_draw(paths, double_path, dealt, second)
    typer.echo(f"{count} findings drawn into {batches} batches, {double} of them for a second reading")


if __name__ == "__main__":
    typer.run(main)
