"""Sentence-level polarity gold: where, inside a finding, its strength and weakness claims are.

    python -m training.sentence_annotation draw        # the reading batches and the second-reading batch
    python -m training.sentence_annotation agreement   # first against second reading
    python -m training.sentence_annotation build       # training/data/gold/sentences.jsonl

A finding's gold polarity says *whether* it makes a material strength and a material weakness
claim (`mixed`); it does not say which sentences make them. Readers give each sentence of a gold
finding (`nlp.sentences.sentence_spans`, the splitter the models use) a polarity of its own under
the rules of `label-schema.md`, applied to the sentence alone (ANNOTATION.md §11). Drawn (seeded)
from gold: `--mixed` findings whose gold polarity is `mixed`, and `--plain` each of `strength` and
`weakness` findings of at least two sentences, where a caveat may have been judged passing.

Files under `training/data/annotation/sentences/`: `batch_s<k>.jsonl` (what a reader reads: the
finding's id, text, gold themes and polarity, and its numbered sentences with character offsets),
`labels_s<k>.jsonl` (a reader's labels: `{"id", "sentences": [{"n", "polarity"}], "note"}`), and
`batch_s_double.jsonl` / `labels_s_double.jsonl` for the second reading of findings drawn across
the batches.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import typer
from sklearn.metrics import cohen_kappa_score

from nlp.jsonl import read_jsonl, write_jsonl
from nlp.sentences import sentence_spans
from nlp.taxonomy import POLARITIES

app = typer.Typer(add_completion=False)

GOLD = Path("training/data/gold/gold.jsonl")
FOLDER = Path("training/data/annotation/sentences")
OUTPUT = Path("training/data/gold/sentences.jsonl")
AGREEMENT = Path("training/data/sentence-agreement.json")
DOUBLE = "s_double"


def records(path: Path) -> list[dict]:
    return [record for _, record in read_jsonl(path)]


def reading_record(finding: dict) -> dict:
    """What a reader sees of a gold finding: its labels, and its sentences numbered with their offsets."""
    return {
        "id": finding["id"],
        "kind": finding["kind"],
        "section": finding.get("section"),
        "themes": finding["themes"],
        "polarity": finding["polarity"],
        "text": finding["text"],
        "sentences": [
            {"n": n, "start": start, "end": end, "text": finding["text"][start:end]}
            for n, (start, end) in enumerate(sentence_spans(finding["text"]))
        ],
    }


@app.command()
def draw(
    mixed: int = typer.Option(400, help="Gold findings of polarity mixed."),
    plain: int = typer.Option(150, help="Gold findings of each of strength and weakness with two sentences or more."),
    batches: int = typer.Option(4),
    double: int = typer.Option(100, help="Findings of the batches read a second time."),
    seed: int = 0,
    force: bool = typer.Option(False, help="Overwrite batches already drawn (their labels would no longer match)."),
) -> None:
    """Write the reading batches and the second-reading batch."""
    if list(FOLDER.glob("batch_s*.jsonl")) and not force:
        raise SystemExit(f"{FOLDER} already holds batches, and labels read from them: draw elsewhere, or --force.")
    rng = random.Random(seed)
    gold = records(GOLD)
    by_polarity = {
        polarity: [r for r in gold if r["polarity"] == polarity and (polarity == "mixed" or len(sentence_spans(r["text"])) >= 2)]
        for polarity in ("mixed", "strength", "weakness")
    }
    drawn = rng.sample(by_polarity["mixed"], mixed) + rng.sample(by_polarity["strength"], plain) + rng.sample(by_polarity["weakness"], plain)
    rng.shuffle(drawn)
    FOLDER.mkdir(parents=True, exist_ok=True)
    for k in range(batches):
        write_jsonl([reading_record(r) for r in drawn[k::batches]], FOLDER / f"batch_s{k + 1}.jsonl")
    write_jsonl([reading_record(r) for r in rng.sample(drawn, double)], FOLDER / f"batch_{DOUBLE}.jsonl")
    typer.echo(f"{len(drawn)} findings in {batches} batches, {double} read twice: " + json.dumps(Counter(r["polarity"] for r in drawn)))


def read_labels(path: Path, batch: Path) -> dict[str, list[str]]:
    """A reader's sentence polarities by finding id, checked against the batch it read."""
    expected = {r["id"]: len(r["sentences"]) for r in records(batch)}
    labels = {}
    for record in records(path):
        numbers = sorted(s["n"] for s in record["sentences"])
        polarities = [s["polarity"] for s in sorted(record["sentences"], key=lambda s: s["n"])]
        if record["id"] in labels or numbers != list(range(expected.get(record["id"], -1))) or set(polarities) - set(POLARITIES):
            raise SystemExit(
                f"{path}: {record['id']}: labelled twice, not in {batch.name}, not one label for each of its sentences, "
                f"or a value outside {POLARITIES}."
            )
        labels[record["id"]] = polarities
    if set(labels) != set(expected):
        raise SystemExit(f"{path}: {len(set(expected) - set(labels))} findings of {batch.name} are not labelled.")
    return labels


def first_readings() -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    for batch in sorted(FOLDER.glob("batch_s[0-9]*.jsonl")):
        labels.update(read_labels(FOLDER / batch.name.replace("batch_", "labels_"), batch))
    return labels


@app.command()
def agreement(output: Path = typer.Option(AGREEMENT)) -> None:
    """Sentence polarity agreement of the two readings of the double batch."""
    first = first_readings()
    second = read_labels(FOLDER / f"labels_{DOUBLE}.jsonl", FOLDER / f"batch_{DOUBLE}.jsonl")
    a = [p for i in second for p in first[i]]
    b = [p for i in second for p in second[i]]
    gold_polarity = {r["id"]: r["polarity"] for r in records(FOLDER / f"batch_{DOUBLE}.jsonl")}
    both_sides = lambda ps: {"strength", "weakness"} <= set(ps) or "mixed" in ps  # noqa: E731
    result = {
        "findings": len(second),
        "sentences": len(a),
        "sentence_accuracy": round(sum(x == y for x, y in zip(a, b)) / len(a), 3),
        "sentence_kappa": round(float(cohen_kappa_score(a, b)), 3),
        "findings_identical": round(sum(first[i] == second[i] for i in second) / len(second), 3),
        "first_reading": dict(Counter(a)),
        "second_reading": dict(Counter(b)),
        # How often a reading locates both sides in a finding whose gold polarity is mixed.
        "mixed_findings_with_both_sides": {
            name: round(sum(both_sides(r[i]) for i in second if gold_polarity[i] == "mixed") / max(1, sum(p == "mixed" for p in gold_polarity.values())), 3)
            for name, r in (("first", first), ("second", second))
        },
    }
    output.write_text(json.dumps(result, indent=1) + "\n")
    typer.echo(json.dumps(result, indent=1))


@app.command()
def build(output: Path = typer.Option(OUTPUT)) -> None:
    """Sentence gold of every finding read: the first reading, or for the findings read twice, the
    adjudicated reading (the agreed labels, and a decision where the two readings differed)."""
    labels = first_readings()
    adjudicated = FOLDER / f"labels_{DOUBLE}_adjudicated.jsonl"
    if adjudicated.exists():
        labels.update(read_labels(adjudicated, FOLDER / f"batch_{DOUBLE}.jsonl"))
    built = []
    for batch in sorted(FOLDER.glob("batch_s[0-9]*.jsonl")):
        for finding in records(batch):
            built.append({
                "id": finding["id"],
                "sentences": [
                    {"start": s["start"], "end": s["end"], "polarity": p} for s, p in zip(finding["sentences"], labels[finding["id"]])
                ],
            })
    built.sort(key=lambda r: r["id"])
    write_jsonl(built, output)
    typer.echo(f"{len(built)} findings, {sum(len(r['sentences']) for r in built)} sentences -> {output}")


if __name__ == "__main__":
    app()
