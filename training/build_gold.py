"""Assemble the gold set from the annotation batches, and write its generated summary.

Every finding's label is the first reading, except where a second, independent reading disagreed:
there the adjudicated label is used. Findings are re-placed in the current segmentation (the
pipeline's findings component, as `segment` gives it) by their text, so `index`, `kind`, `section`
and `area` are today's; a finding whose text the segmenter no longer produces keeps the values it
was annotated with and says so (`segmentation: as annotated`).

A round may be held out (`Round.held_out`): read, double-read and adjudicated like the others, but
written to `held-out.jsonl` beside the gold instead of into it, so that models trained on the gold
can be compared on findings none of them learnt from (`training.score_sample --gold`) before the
round joins the gold.

A re-read (`Reread`, drawn by `training.sample_theme_reread`) reads gold findings again for one
theme, under conventions settled after they were first read. Only where the re-reading and the
earlier reading (or a second re-reading) disagree on whether the theme is there does an adjudicator
decide, and only whether it is there: the adjudicated verdict adds the theme to a gold label that
lacks it, or removes it from one that has it. A theme the gold label keeps keeps its earlier
verdict, and finding polarity is never changed. Each change is listed in the record's `revisions`.
Once the readings of a round (listed in `ROUNDS`) or a re-read (in `REREADS`) are in,
`--adjudicate <name>` writes the findings its readings disagree on, with those readings, for the
adjudicator (`disagreements<suffix>.jsonl`, `reread_disagreements_<name>.jsonl`).

    python -m training.build_gold
    python -m training.build_gold --adjudicate 5      # a round
    python -m training.build_gold --adjudicate v2     # a re-read
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import typer
from sklearn.metrics import cohen_kappa_score, f1_score

from nlp.corpus import corpus_dir, corpus_findings
from nlp.jsonl import read_jsonl, write_jsonl
from nlp.taxonomy import POLARITIES, THEME_IDS
from training.agreement import agreement, load_labels

ANNOTATION_DIR = Path("training/data/annotation")
GOLD_PATH = Path("training/data/gold/gold.jsonl")
HELD_OUT_PATH = Path("training/data/gold/held-out.jsonl")
SUMMARY_PATH = Path("training/data/README.md")
AGREEMENT_PATH = Path("training/data/agreement.json")


@dataclass(frozen=True)
class Round:
    """One round of annotation: its batches, how their findings were drawn, the files of its
    second reading (`labels_double<suffix>.jsonl`) and adjudication (`labels_adjudicated<suffix>.jsonl`),
    and whether it is held out of the gold."""

    name: str
    batches: tuple[str, ...]
    drawn: str
    suffix: str
    held_out: bool = False


ROUNDS = (
    Round("1", ("1", "2", "3", "4", "5", "6"), "cue-word sampling by theme, with top-ups (ANNOTATION.md §3)", ""),
    Round("2", ("7a", "7b", "7c", "7d", "7e", "7f"), "the `suggest` queue 7: model uncertainty and diversity (ANNOTATION.md §10)", "_7"),
    Round("3", ("8a", "8b", "8c", "8d", "8e", "8f", "8g"), "uniformly at random from the corpus findings not yet read (ANNOTATION.md §12)", "_8"),
    Round("4", ("9a", "9b", "9c", "9d"), "uniformly at random from the corpus findings not yet read (ANNOTATION.md §13)", "_9"),
    Round("5", ("10a", "10b", "10c", "10d"), "uniformly at random from the corpus findings not yet read (ANNOTATION.md §16)", "_10", held_out=True),
)
@dataclass(frozen=True)
class Reread:
    """A re-read of one theme over gold findings: its first readings (`reread_labels_<batch>.jsonl`),
    second readings (`reread_labels_double_<name>.jsonl`) and adjudication
    (`reread_labels_adjudicated_<name>.jsonl`), each line `{"id": ..., <theme>: verdict or null}`."""

    name: str
    theme: str
    batches: tuple[str, ...]
    why: str


REREADS: tuple[Reread, ...] = (
    Reread("v1", "voice_of_child", tuple(f"v1{letter}" for letter in "abcdef"), "conventions settled after rounds 1-3 were read"),
    Reread("v2", "care_leavers", tuple(f"v2{letter}" for letter in "abcd"), "its share differs between the random rounds 3 and 4"),
    Reread("v3", "private_fostering", ("v3a",), "its share differs between the random rounds 3 and 4"),
)


# Batch 4's file was written to by other annotators' scripts for a while (a shared /tmp); its labels
# are readings under the protocol, but not certainly all by one annotator, so agreement is measured
# without its findings.
AGREEMENT_EXCLUDED_BATCHES = ("4",)
LABEL_FIELDS = ("themes", "polarity", "theme_polarity")


def held_out_findings(path: Path = HELD_OUT_PATH) -> list[dict]:
    """The findings of held-out rounds, as `main` wrote them (none when no round is held out)."""
    return [record for _, record in read_jsonl(path)] if path.exists() else []


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def current_findings(report_ids: set[str], corpus: Path) -> dict[tuple[str, str], tuple[int, dict]]:
    """(report id, normalised text) -> (index, placement) of each finding the pipeline gives today."""
    return {
        (finding["report_id"], _normalise(finding["text"])): (
            finding["index"],
            {"kind": finding["kind"], "section": finding["section"], "area": finding["area"]},
        )
        for finding in corpus_findings(corpus, report_ids)
    }


def read_round(annotation_dir: Path, round_: Round) -> dict[str, dict]:
    """The findings of one round by id, each with its batch and its readings (later batches win)."""
    findings, first = {}, {}
    for batch in round_.batches:
        for line in open(annotation_dir / f"batch_{batch}.jsonl", encoding="utf-8"):
            record = json.loads(line)
            findings[record["id"]] = {"finding": record, "batch": batch}
        first.update(load_labels(annotation_dir / f"labels_{batch}.jsonl"))
    second = load_labels(annotation_dir / f"labels_double{round_.suffix}.jsonl")
    adjudicated = _labels_if_any(annotation_dir / f"labels_adjudicated{round_.suffix}.jsonl")
    for finding_id, entry in findings.items():
        entry.update(first=first[finding_id], second=second.get(finding_id), adjudicated=adjudicated.get(finding_id))
    return findings


def _labels_if_any(path: Path) -> dict[str, dict]:
    """`load_labels` of a file of decisions that may not have been written yet."""
    return load_labels(path) if path.exists() else {}


def _differ(first: dict, second: dict) -> bool:
    """Whether two readings of a finding differ in themes, polarity or a theme's polarity."""

    def label(reading: dict) -> tuple:
        return sorted(reading["themes"]), reading["polarity"], sorted(reading["theme_polarity"].items())

    return label(first) != label(second)


def round_disagreements(annotation_dir: Path, round_: Round) -> list[dict]:
    """The findings of a round's second reading (`batch_double<suffix>.jsonl`, in its order) whose
    two readings differ in themes, polarity or a theme's polarity, each with both readings and their
    notes (`reading_a` the first, `reading_b` the second), for the adjudicator.

    RAISES (ValueError): a finding of the second reading's batch has no second reading.
    """
    entries = read_round(annotation_dir, round_)
    double = [record for _, record in read_jsonl(annotation_dir / f"batch_double{round_.suffix}.jsonl")]
    if unread := [finding["id"] for finding in double if entries[finding["id"]]["second"] is None]:
        raise ValueError(f"round {round_.name}: {len(unread)} findings of batch_double{round_.suffix}.jsonl have no second reading ({unread[:5]}).")

    def shown(reading: dict) -> dict:
        return {**{key: reading[key] for key in LABEL_FIELDS}, "note": reading.get("note", "")}

    return [
        {**finding, "reading_a": shown(entry["first"]), "reading_b": shown(entry["second"])}
        for finding in double
        if _differ((entry := entries[finding["id"]])["first"], entry["second"])
    ]


def read_reread(annotation_dir: Path, reread: Reread) -> dict[str, dict]:
    """The re-read findings by gold id, each with its readings."""
    first: dict[str, dict] = {}
    for batch in reread.batches:
        first.update(load_labels(annotation_dir / f"reread_labels_{batch}.jsonl"))
    second = load_labels(annotation_dir / f"reread_labels_double_{reread.name}.jsonl")
    adjudicated = _labels_if_any(annotation_dir / f"reread_labels_adjudicated_{reread.name}.jsonl")
    if orphans := sorted((set(second) | set(adjudicated)) - set(first)):
        raise ValueError(f"re-read {reread.name}: second readings or adjudications of findings it has no first reading of: {orphans[:5]}")
    for finding_id, label in [*first.items(), *second.items(), *adjudicated.items()]:
        if label.get(reread.theme, "missing") not in (*POLARITIES, None):
            raise ValueError(f"re-read {reread.name}: {finding_id} gives {reread.theme} {label.get(reread.theme, 'no verdict')!r}, not one of {POLARITIES} or null")
    return {
        finding_id: {"first": label, "second": second.get(finding_id), "adjudicated": adjudicated.get(finding_id)}
        for finding_id, label in first.items()
    }


def apply_reread(gold: list[dict], reread: Reread, entries: dict[str, dict]) -> dict:
    """Add or remove `reread.theme` in the gold labels as adjudicated; return the changes made.

    RAISES (ValueError): a re-read finding is not gold; readings disagree on whether the theme is
        there and no adjudicated verdict decides; or a verdict is adjudicated where they agree.
    """
    theme, by_id = reread.theme, {record["id"]: record for record in gold}
    disputed = _disputed(by_id, reread, entries)
    if undecided := sorted(i for i, entry in entries.items() if disputed[i] and entry["adjudicated"] is None):
        raise ValueError(
            f"re-read {reread.name}: {len(undecided)} findings whose readings disagree on whether {theme} is there "
            f"have no adjudicated verdict ({undecided[:5]}): add them to reread_labels_adjudicated_{reread.name}.jsonl."
        )
    if unasked := sorted(i for i, entry in entries.items() if not disputed[i] and entry["adjudicated"] is not None):
        raise ValueError(
            f"re-read {reread.name}: {len(unasked)} findings have an adjudicated verdict although their readings agree "
            f"({unasked[:5]}): remove them from reread_labels_adjudicated_{reread.name}.jsonl."
        )
    changes = Counter()
    for finding_id, entry in entries.items():
        record = by_id[finding_id]
        if entry["adjudicated"] is None:
            changes["unchanged"] += 1
            continue
        verdict = entry["adjudicated"][theme]
        if verdict is None and theme in record["themes"]:
            record["themes"].remove(theme)
            del record["theme_polarity"][theme]
            record["revisions"].append(f"{theme} removed by re-read {reread.name}")
            changes["removed"] += 1
        elif verdict is not None and theme not in record["themes"]:
            record["themes"].append(theme)
            record["theme_polarity"][theme] = verdict
            record["revisions"].append(f"{theme}: {verdict} added by re-read {reread.name}")
            changes["added"] += 1
        else:
            changes["unchanged"] += 1
    return dict(changes)


def _disputed(by_id: dict[str, dict], reread: Reread, entries: dict[str, dict]) -> dict[str, bool]:
    """Whether the readings of each re-read finding (the earlier gold one, of `by_id`, included)
    disagree on whether the theme is there.

    RAISES (ValueError): a re-read finding is not gold.
    """
    if unknown := sorted(set(entries) - set(by_id)):
        raise ValueError(f"re-read {reread.name} holds findings that are not gold: {unknown[:5]}")
    return {finding_id: len(_presences(entry, reread.theme, by_id[finding_id])) > 1 for finding_id, entry in entries.items()}


def adjudication_queue(gold: list[dict], reread: Reread, entries: dict[str, dict]) -> list[dict]:
    """The re-read findings whose readings disagree on whether the theme is there (adjudicated or
    not), each with its readings as an adjudicator reads them: the earlier gold reading (its verdict
    on the theme, and the finding's other themes as `gold` has them) and the re-readings, with their
    notes."""
    disputed, theme = _disputed({record["id"]: record for record in gold}, reread, entries), reread.theme
    queue = []
    for record in gold:
        entry = entries.get(record["id"])
        if entry is None or not disputed[record["id"]]:
            continue
        rereadings = {"reread": entry["first"], "reread_second": entry["second"]}
        queue.append(
            {
                **{name: record[name] for name in ("id", "text", "kind", "section")},
                "earlier_reading": {theme: record["theme_polarity"].get(theme), "other_themes": [t for t in record["themes"] if t != theme]},
                **{
                    name: {theme: reading[theme], "note": reading.get("note", "")}
                    for name, reading in rereadings.items()
                    if reading is not None
                },
            }
        )
    return queue


def _presences(entry: dict, theme: str, record: dict) -> set[bool]:
    """Whether each reading of a re-read finding, the earlier gold one included, has the theme."""
    readings = [entry["first"], entry["second"]]
    return {theme in record["themes"]} | {reading[theme] is not None for reading in readings if reading is not None}


def reread_agreement(entries: dict[str, dict], theme: str, earlier: dict[str, bool]) -> dict:
    """Agreement between the two re-readings of the double-read findings: on whether the theme is
    there (F1, Cohen's kappa) and, where both find it, on its verdict; and between the re-reading
    and the earlier reading (`earlier`: gold id -> whether gold had the theme), on whether it is there."""
    present_earlier = [earlier[finding_id] for finding_id in entries]
    present_reread = [entry["first"][theme] is not None for entry in entries.values()]
    double = [e for e in entries.values() if e["second"] is not None]
    first = [e["first"][theme] for e in double]
    second = [e["second"][theme] for e in double]
    present_first = [verdict is not None for verdict in first]
    present_second = [verdict is not None for verdict in second]
    both = [(a, b) for a, b in zip(first, second) if a is not None and b is not None]

    def kappa(a: list[bool], b: list[bool]) -> float | None:
        # undefined when both readings give one answer throughout, or there is nothing to compare
        return round(float(cohen_kappa_score(a, b)), 3) if len(set(a) | set(b)) > 1 else None

    return {
        "findings": len(double),
        "presence_f1": round(float(f1_score(present_first, present_second, zero_division=1.0)), 3) if double else None,
        "presence_kappa": kappa(present_first, present_second),
        "verdict_agreement": round(sum(a == b for a, b in both) / len(both), 3) if both else None,
        "double_read_adjudicated": sum(e["adjudicated"] is not None for e in double),
        "adjudicated": sum(e["adjudicated"] is not None for e in entries.values()),
        "with_earlier_reading": {
            "findings": len(entries),
            "presence_kappa": kappa(present_earlier, present_reread),
            "earlier_only": sum(a and not b for a, b in zip(present_earlier, present_reread)),
            "reread_only": sum(b and not a for a, b in zip(present_earlier, present_reread)),
        },
    }


def build(annotation_dir: Path, corpus: Path, rereads: tuple[Reread, ...] | None = None) -> tuple[list[dict], list[dict], dict]:
    """The gold, the findings of held-out rounds (in the gold's form) and the agreement figures;
    with `rereads` (default: all of `REREADS`) applied in order."""
    rounds = {round_.name: read_round(annotation_dir, round_) for round_ in ROUNDS}
    report_ids = {e["finding"]["report_id"] for findings in rounds.values() for e in findings.values()}
    placements = current_findings(report_ids, corpus)
    gold, held_out, used_ids = [], [], set()
    seen: set[tuple[str, str]] = set()
    # Held-out rounds come last, so that the gold never depends on which rounds are held out.
    for round_ in sorted(ROUNDS, key=lambda round_: round_.held_out):
        records = held_out if round_.held_out else gold
        for finding_id, entry in rounds[round_.name].items():
            finding = entry["finding"]
            report_id = finding["report_id"]
            # A later batch may hold a finding already read under an older segmentation's index.
            if (report_id, _normalise(finding["text"])) in seen:
                continue
            seen.add((report_id, _normalise(finding["text"])))
            label, provenance = entry["first"], "single reading"
            if entry["second"] is not None:
                if entry["adjudicated"] is not None:
                    label, provenance = entry["adjudicated"], "adjudicated after two readings disagreed"
                elif _differ(entry["first"], entry["second"]):
                    raise ValueError(
                        f"round {round_.name}: the two readings of {finding_id} differ and it has no adjudicated label: "
                        f"run `python -m training.build_gold --adjudicate {round_.name}` and add the decisions to labels_adjudicated{round_.suffix}.jsonl."
                    )
                else:
                    provenance = "two readings agreed"
            # Ids are `report#index` at annotation time: a later round can reuse one for another paragraph.
            gold_id = finding_id if finding_id not in used_ids else f"{finding_id}@round{round_.name}"
            used_ids.add(gold_id)
            placed = placements.get((report_id, _normalise(finding["text"])))
            records.append(
                {
                    "id": gold_id,
                    "report_id": report_id,
                    "index": placed[0] if placed else finding["index"],
                    "local_authority": finding["local_authority"],
                    "framework": finding["framework"],
                    "year": finding["year"],
                    "overall_judgement": finding["overall_judgement"],
                    **(placed[1] if placed else {k: finding[k] for k in ("kind", "section", "area")}),
                    "segmentation": "current" if placed else "as annotated",
                    "text": finding["text"],
                    # copies: a re-read changes the gold label, not the reading agreement is measured on
                    **{key: copy.deepcopy(label[key]) for key in LABEL_FIELDS},
                    "provenance": provenance,
                    "batch": entry["batch"],
                    "drawn": round_.drawn,
                    "revisions": [],
                }
            )
    reread_figures = {}
    for reread in REREADS if rereads is None else rereads:
        entries = read_reread(annotation_dir, reread)
        earlier = {record["id"]: reread.theme in record["themes"] for record in gold}
        changes = apply_reread(gold, reread, entries)
        reread_figures[reread.name] = {
            "theme": reread.theme,
            "why": reread.why,
            "read": len(entries),
            "changes": changes,
            "agreement": reread_agreement(entries, reread.theme, earlier),
        }
    double = {
        name: [e for e in findings.values() if e["second"] is not None] for name, findings in rounds.items()
    }
    checked = {name: [e for e in entries if e["batch"] not in AGREEMENT_EXCLUDED_BATCHES] for name, entries in double.items()}

    def readings(entries: list[dict]) -> tuple[list[dict], list[dict]]:
        return [e["first"] for e in entries], [e["second"] for e in entries]

    figures = agreement(*readings([e for entries in checked.values() for e in entries]))
    figures["excluded_batches"] = list(AGREEMENT_EXCLUDED_BATCHES)
    figures["all_double_annotated"] = {
        k: v for k, v in agreement(*readings([e for entries in double.values() for e in entries])).items() if k != "per_theme"
    }
    figures["by_round"] = {
        round_.name: {
            "drawn": round_.drawn,
            "held_out": round_.held_out,
            **{k: v for k, v in agreement(*readings(checked[round_.name])).items() if k != "per_theme"},
        }
        for round_ in ROUNDS
    }
    figures["rereads"] = reread_figures
    return gold, held_out, figures


def read_by_name(name: str) -> Round | Reread:
    """The round of `ROUNDS` or re-read of `REREADS` called `name`.

    RAISES (ValueError): none is.
    """
    named = {read.name: read for read in (*ROUNDS, *REREADS)}
    if name not in named:
        raise ValueError(
            f"no round or re-read named {name!r} (rounds: {', '.join(r.name for r in ROUNDS)}; re-reads: "
            f"{', '.join(r.name for r in REREADS) or 'none'}): list it in training/build_gold.py's ROUNDS or REREADS first."
        )
    return named[name]


def adjudication_file(annotation_dir: Path, corpus: Path, read: Round | Reread) -> tuple[Path, list[dict]]:
    """Where the findings of a round or re-read that its readings disagree on go, and those findings."""
    if isinstance(read, Round):
        return annotation_dir / f"disagreements{read.suffix}.jsonl", round_disagreements(annotation_dir, read)
    return annotation_dir / f"reread_disagreements_{read.name}.jsonl", reread_queue(annotation_dir, corpus, read)


def reread_queue(annotation_dir: Path, corpus: Path, reread: Reread) -> list[dict]:
    """The adjudication queue of `reread`, against the gold as the earlier re-reads of its theme
    left it (re-reads of other themes leave its theme alone, so they need not be adjudicated first)."""
    earlier = tuple(other for other in REREADS[: REREADS.index(reread)] if other.theme == reread.theme)
    return adjudication_queue(build(annotation_dir, corpus, earlier)[0], reread, read_reread(annotation_dir, reread))


def summary_markdown(gold: list[dict], held_out: list[dict], figures: dict) -> str:
    themes = Counter(theme for record in gold for theme in record["themes"])
    pairs = Counter((t, p) for record in gold for t, p in record["theme_polarity"].items())
    polarity = Counter(record["polarity"] for record in gold)
    lines = [
        "# Labelled data (generated by `python -m training.build_gold`; do not edit)",
        "",
        f"Gold: **{len(gold)} findings** from **{len({r['report_id'] for r in gold})} reports** "
        f"of {len({r['local_authority'] for r in gold})} local authorities, read against `label-schema.md` "
        "(see `training/ANNOTATION.md`). Weak labels live apart in `weak/` and are never gold.",
        *(
            [
                "",
                f"Held out of the gold: **{len(held_out)} findings** of batches "
                f"{', '.join(sorted({str(r['batch']) for r in held_out}))}, read the same way, in `gold/held-out.jsonl`, "
                "to score models that never learnt from them before they join the gold.",
            ]
            if held_out
            else []
        ),
        "",
        "| | count |",
        "| --- | --- |",
        *(f"| framework {k} | {v} |" for k, v in sorted(Counter(r["framework"] for r in gold).items())),
        *(f"| kind {k} | {v} |" for k, v in sorted(Counter(r["kind"] for r in gold).items())),
        *(f"| grade {k} | {v} |" for k, v in sorted(Counter(r["overall_judgement"] for r in gold).items())),
        *(f"| year {k} | {v} |" for k, v in sorted(Counter(r["year"] for r in gold).items())),
        *(f"| provenance: {k} | {v} |" for k, v in sorted(Counter(r["provenance"] for r in gold).items())),
        *(f"| drawn by {k} | {v} |" for k, v in sorted(Counter(r["drawn"] for r in gold).items())),
        "",
        "## Polarity of findings",
        "",
        "| polarity | findings |",
        "| --- | --- |",
        *(f"| {p} | {polarity[p]} |" for p in POLARITIES),
        "",
        "## Themes (positives, and their polarity)",
        "",
        "| theme | findings | " + " | ".join(POLARITIES) + " |",
        "| --- | --- | " + " | ".join("---" for _ in POLARITIES) + " |",
        *(f"| {t} | {themes[t]} | " + " | ".join(str(pairs[(t, p)]) for p in POLARITIES) + " |" for t in THEME_IDS),
        "",
        "## Agreement between two independent readings",
        "",
        f"{figures['findings']} findings read twice (batch 4 excluded, see ANNOTATION.md): "
        f"theme micro-F1 **{figures['theme_micro_f1']}**, "
        f"macro-F1 **{figures['theme_macro_f1']}**, polarity Cohen's kappa **{figures['polarity_kappa']}** "
        f"(accuracy {figures['polarity_accuracy']}, macro-F1 {figures['polarity_macro_f1']}), "
        f"(theme, polarity) pair F1 **{figures['pair_f1']}**. All {figures['all_double_annotated']['findings']} "
        f"double-read findings: theme micro-F1 {figures['all_double_annotated']['theme_micro_f1']}, "
        f"kappa {figures['all_double_annotated']['polarity_kappa']}.",
        "",
        "| round | how its findings were drawn | double-read | theme micro-F1 | polarity kappa | pair F1 |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {name}{' (held out)' if r['held_out'] else ''} | {r['drawn']} | {r['findings']} | {r['theme_micro_f1']} | {r['polarity_kappa']} | {r['pair_f1']} |"
            for name, r in figures["by_round"].items()
        ),
        "",
        "| theme | F1 between readings | positives (first) | positives (second) |",
        "| --- | --- | --- | --- |",
        *(f"| {t} | {v['f1']} | {v['support_first']} | {v['support_second']} |" for t, v in figures["per_theme"].items()),
        "",
        *(
            [
                "## Re-reads of one theme (ANNOTATION.md §14)",
                "",
                "| re-read | theme | why | findings read | added | removed | double-read | presence kappa | verdict agreement |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
                *(
                    f"| {name} | {r['theme']} | {r['why']} | {r['read']} | {r['changes'].get('added', 0)} | "
                    f"{r['changes'].get('removed', 0)} | {r['agreement']['findings']} | {r['agreement']['presence_kappa']} | "
                    f"{r['agreement']['verdict_agreement']} |"
                    for name, r in figures["rereads"].items()
                ),
                "",
            ]
            if figures["rereads"]
            else []
        ),
    ]
    return "\n".join(lines)


def main(
    annotation_dir: Path = typer.Option(ANNOTATION_DIR),
    out: Path = typer.Option(GOLD_PATH),
    held_out_path: Path = typer.Option(HELD_OUT_PATH, "--held-out"),
    adjudicate: str = typer.Option(
        "", help="A round's or re-read's name: write the findings its readings disagree on (disagreements<round's suffix>.jsonl, "
        "reread_disagreements_<name>.jsonl), for adjudication, instead of the gold."
    ),
) -> None:
    if adjudicate:
        try:
            read = read_by_name(adjudicate)
        except ValueError as problem:
            raise typer.BadParameter(str(problem), param_hint="--adjudicate") from problem
        # a problem in the readings themselves is not a bad option: it surfaces as it is
        path, disagreements = adjudication_file(annotation_dir, corpus_dir(), read)
        write_jsonl(disagreements, path)
        typer.echo(f"{len(disagreements)} findings of {adjudicate} to adjudicate -> {path}")
        return
    gold, held_out, figures = build(annotation_dir, corpus_dir())
    write_jsonl(gold, out)
    if held_out:
        write_jsonl(held_out, held_out_path)
    else:
        held_out_path.unlink(missing_ok=True)
    AGREEMENT_PATH.write_text(json.dumps(figures, indent=2) + "\n")
    SUMMARY_PATH.write_text(summary_markdown(gold, held_out, figures), encoding="utf-8")
    typer.echo(f"{len(gold)} gold findings -> {out}; {len(held_out)} held out -> {held_out_path}; agreement on {figures['findings']} double-read findings")


if __name__ == "__main__":
    typer.run(main)
