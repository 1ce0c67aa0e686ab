"""Which findings to label next: the unlabelled findings whose labels would teach the model most.

    inspection-themes suggest findings.parquet -n 1500 -o queue.jsonl --exclude training/data/gold/gold.jsonl --exclude training/data/gold/held-out.jsonl

**Uncertainty.** Each finding gets a score, the sum of three parts, each counted in decisions the
model is unsure of:

- *themes*: per theme, the probability, by the model's own calibrated probability p, that its
  decision at the theme's threshold t is wrong: p when p < t (the theme is left out), 1 - p when
  p >= t (it is given). It peaks at the threshold. Summed over the finding's `THEMES_COUNTED` most
  doubtful themes, so that a long summary near ten thresholds does not outrank everything (each of
  its themes costs the annotator a decision too);
- *polarity*: 1 - the margin between the two most probable polarities. A recommendation is a
  weakness by the schema's rule, whatever the model says, so its polarity counts for nothing;
- *disagreement*, only when a second model is given: the themes one model gives and the other does
  not, plus the total variation distance between their polarity probabilities.

**Diversity.** The queue is drawn greedily by score, under these rules:

- a finding whose normalised text is in `exclude` (the gold set), or a near duplicate of one
  (`nlp.near_duplicates`), is never drawn, nor a near duplicate of a finding already drawn;
- at most `max_per_report` findings come from one report;
- a local authority or a framework x year that already has more places than its share of the
  candidates has its findings' scores scaled down by (fair count + 1) / (count + 1);
- the model's polarity (strength, weakness, mixed, neutral) and the kind of finding (finding,
  summary, recommendation, context) each keep, in every top of the queue, at most their share of
  the candidates: the queue takes the most uncertain findings *within* each group. Ranked by
  uncertainty alone, a queue is two fifths `mixed` and has almost no neutral context; a model
  refitted on gold plus such a queue learns those skewed class priors and got worse on the
  corpus-like held-out findings in the simulation (`training/simulate_suggest.py`);
- `random_share` of the places, spread evenly through the queue, go to findings drawn uniformly at
  random from the eligible ones: an unbiased sample of the corpus beside the biased one, so that
  error rates and prevalences can still be estimated from labels of the queue.

The model is read only through `nlp.model_scores.FindingScorer`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from .batch import FINDINGS_FILE
from .components.theme_classifier import RECOMMENDATION_KIND, apply_kind_rule
from .errors import SuggestInputError
from .jsonl import read_jsonl, write_jsonl
from .model_scores import FindingScorer, ModelScores, scorer_for_model
from .near_duplicates import NEAR_DUPLICATE_COSINE, near_duplicates_of, normalise_text, shingle_vectors

# Fields of a finding carried into its queue line when the input has them.
CONTEXT_FIELDS = ("report_id", "local_authority", "framework", "year", "kind", "section", "area", "index")
DEFAULT_RANDOM_SHARE = 0.1
# With no cap given, a report may give this many times its even share of the queue (at least 2).
REPORT_CAP_FACTOR = 1.5
SCORE_BATCH = 512
THEMES_COUNTED = 3
# The polarity `apply_kind_rule` gives every recommendation.
RECOMMENDATION_POLARITY = "weakness"
# A theme is "at threshold" in the reasons when its odds are within a factor of 2 of the threshold's.
AT_THRESHOLD_LOG_ODDS = math.log(2)
# A theme among the most doubtful is named in the reasons from this chance that its decision is wrong.
REASON_DOUBT = 0.2
_PROBABILITY_FLOOR = 1e-6


def _logit(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities, _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
    return np.log(clipped) - np.log1p(-clipped)


def _decisions(scores: ModelScores) -> np.ndarray:
    return scores.theme_probabilities >= scores.theme_thresholds


# --- uncertainty -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uncertainty:
    """How unsure the model is of each finding, part by part (see the module docstring).

    scores (ModelScores): the model's probabilities.
    theme_doubt (ndarray): shape (n, themes), the chance that each theme decision is wrong.
    polarity (ndarray): shape (n,); 0 where the polarity is fixed by the finding's kind.
    polarity_fixed (ndarray): shape (n,), bool: the finding's kind fixes its polarity.
    disagreement (ndarray): shape (n,); 0 without a second model.
    compared (ModelScores | None): the second model's probabilities, in the columns of `scores`.
    compared_name (str | None): the second model's name.
    """

    scores: ModelScores
    theme_doubt: np.ndarray
    polarity: np.ndarray
    polarity_fixed: np.ndarray
    disagreement: np.ndarray
    compared: ModelScores | None = None
    compared_name: str | None = None

    @property
    def total(self) -> np.ndarray:
        most_doubtful = -np.sort(-self.theme_doubt, axis=1)[:, :THEMES_COUNTED]
        return most_doubtful.sum(axis=1) + self.polarity + self.disagreement

    def predicted_polarity(self) -> list[str]:
        """The model's polarity of each finding; a recommendation's is the schema's weakness."""
        scores = self.scores
        return [
            RECOMMENDATION_POLARITY if fixed else scores.polarity_labels[int(k)]
            for fixed, k in zip(self.polarity_fixed, np.argmax(scores.polarity_probabilities, axis=1))
        ]

    def reasons(self, i: int) -> list[str]:
        """Why finding `i` is uncertain, the largest part first."""
        scores = self.scores
        weighted: list[tuple[float, str]] = []
        doubtful = np.argsort(-self.theme_doubt[i], kind="stable")
        named = [j for j in doubtful[:THEMES_COUNTED] if self.theme_doubt[i, j] >= REASON_DOUBT] or doubtful[:1]
        distance = np.abs(_logit(scores.theme_probabilities[i]) - _logit(scores.theme_thresholds))
        for j in named:
            place = "at threshold" if distance[j] <= AT_THRESHOLD_LOG_ODDS else "uncertain"
            weighted.append(
                (
                    self.theme_doubt[i, j],
                    f"{scores.theme_ids[j]} {place} "
                    f"({scores.theme_probabilities[i, j]:.2f} vs {scores.theme_thresholds[j]:.2f})",
                )
            )
        if self.polarity[i] > 0:
            first, second = np.argsort(-scores.polarity_probabilities[i], kind="stable")[:2]
            weighted.append(
                (
                    self.polarity[i],
                    f"polarity margin {1 - self.polarity[i]:.2f} "
                    f"({scores.polarity_labels[first]} vs {scores.polarity_labels[second]})",
                )
            )
        if self.compared is None:
            return [text for _, text in sorted(weighted, key=lambda pair: -pair[0])] + [
                "disagreement not used: no second model given"
            ]
        mine, theirs = _decisions(scores)[i], _decisions(self.compared)[i]
        changed = [f"+{scores.theme_ids[j]}" for j in np.flatnonzero(theirs & ~mine)] + [
            f"-{scores.theme_ids[j]}" for j in np.flatnonzero(mine & ~theirs)
        ]
        if changed:
            weighted.append((len(changed), f"{self.compared_name} disagrees on themes: {', '.join(changed)}"))
        polarity_mine = scores.polarity_labels[int(np.argmax(scores.polarity_probabilities[i]))]
        polarity_theirs = scores.polarity_labels[int(np.argmax(self.compared.polarity_probabilities[i]))]
        if not self.polarity_fixed[i] and polarity_mine != polarity_theirs:
            weighted.append((0.5, f"{self.compared_name} disagrees on polarity: {polarity_theirs} vs {polarity_mine}"))
        return [text for _, text in sorted(weighted, key=lambda pair: -pair[0])]


def measure_uncertainty(
    scores: ModelScores,
    kinds: Sequence[str | None],
    compared: ModelScores | None = None,
    compared_name: str | None = None,
) -> Uncertainty:
    """The uncertainty of each finding from one model's scores, and optionally a second model's.

    scores (ModelScores): the model's probabilities for n findings.
    kinds (Sequence[str | None]): each finding's kind (`recommendation`, ...), None when unknown.
    compared (ModelScores | None): a second model's probabilities for the same findings.
    compared_name (str | None): its name, for the reasons.
    RETURNS (Uncertainty): the parts of each finding's score.
    """
    probabilities = scores.theme_probabilities
    doubt = np.where(_decisions(scores), 1.0 - probabilities, probabilities)
    top_two = np.sort(scores.polarity_probabilities, axis=1)[:, -2:]
    fixed = np.array([kind == RECOMMENDATION_KIND for kind in kinds], dtype=bool)
    polarity = np.where(fixed, 0.0, 1.0 - (top_two[:, 1] - top_two[:, 0]))
    disagreement = np.zeros(len(scores))
    if compared is not None:
        compared = compared.aligned_to(scores)
        distance = 0.5 * np.abs(scores.polarity_probabilities - compared.polarity_probabilities).sum(axis=1)
        disagreement = (_decisions(scores) != _decisions(compared)).sum(axis=1) + np.where(fixed, 0.0, distance)
    return Uncertainty(scores, doubt, polarity, fixed, disagreement, compared, compared_name)


def queue_strata(uncertainty: Uncertainty, findings: Sequence[dict]) -> tuple[list, list]:
    """The groupings whose shares the queue keeps: the model's polarity, and the kind of finding."""
    return uncertainty.predicted_polarity(), [f.get("kind") for f in findings]


# --- drawing the queue -----------------------------------------------------------------------------


def _group_codes(values: Iterable) -> np.ndarray:
    """An integer per distinct value, -1 for an unknown (None) one."""
    codes: dict = {}
    return np.array([-1 if value is None else codes.setdefault(value, len(codes)) for value in values], dtype=int)


class _GroupShares:
    """Each finding's group, each group's share of the candidates, and how many of it are drawn."""

    def __init__(self, values: Iterable) -> None:
        self.codes = _group_codes(values)
        groups = self.codes.max() + 1 if len(self.codes) else 0
        self.share = np.bincount(self.codes[self.codes >= 0], minlength=groups) / max(len(self.codes), 1)
        self.drawn = np.zeros(groups)

    def add(self, i: int) -> None:
        if self.codes[i] >= 0:
            self.drawn[self.codes[i]] += 1

    def _per_finding(self, per_group: np.ndarray, unknown) -> np.ndarray:
        return np.append(per_group, unknown)[self.codes]  # code -1, an unknown group, takes the last value


class _FairShare(_GroupShares):
    """Scales down the scores of a group's findings once the group has more than its share of the queue."""

    def factors(self, drawn_so_far: int) -> np.ndarray:
        fair = (drawn_so_far + 1) * self.share
        return self._per_finding(np.minimum(1.0, (fair + 1) / (self.drawn + 1)), 1.0)


class _Quota(_GroupShares):
    """Keeps each group within its share of the queue, rounded up."""

    def allowed(self, drawn_so_far: int) -> np.ndarray:
        return self._per_finding(self.drawn < np.ceil((drawn_so_far + 1) * self.share), True)


def is_random_place(place: int, random_share: float) -> bool:
    """Whether place `place` (0-based) of the queue goes to a random draw: evenly spread, so any top of
    the queue holds about `random_share` of random findings."""
    return math.floor((place + 1) * random_share) > math.floor(place * random_share)


def draw_queue(
    priority: np.ndarray,
    findings: Sequence[dict],
    n: int,
    *,
    seed: int = 0,
    max_per_report: int | None = None,
    random_share: float = DEFAULT_RANDOM_SHARE,
    strata: Sequence[Sequence] = (),
    vectors=None,
) -> list[tuple[int, bool]]:
    """Indices of `n` findings drawn by priority under the diversity rules, and which were random draws.

    priority (ndarray): each finding's score.
    findings (Sequence[dict]): the candidates, with `text` and, when known, `report_id`,
        `local_authority`, `framework`, `year`.
    n (int): queue length.
    seed (int): seed of the random places and of tie-breaking.
    max_per_report (int | None): cap per report; default: `REPORT_CAP_FACTOR` x an even share, at least 2.
    random_share (float): share of the places drawn uniformly at random.
    strata (Sequence[Sequence]): groupings of the findings (one value per finding, None for
        unknown) whose groups keep, each, at most their share of the candidates (rounded up) of
        every top of the queue; a grouping that no eligible finding can meet at some place is
        passed over there (the earlier groupings come first).
    vectors (csr_matrix | None): `shingle_vectors` of the texts, if already made.
    RETURNS (list[tuple[int, bool]]): (index into `findings`, drawn at random), in queue order.
    RAISES (SuggestInputError): when fewer than `n` findings can be drawn under the rules.
    """
    rng = np.random.default_rng(seed)
    vectors = shingle_vectors([f["text"] for f in findings]) if vectors is None else vectors
    by_shingle = vectors.T.tocsr()
    reports = _group_codes(f.get("report_id") for f in findings)
    n_reports = int(reports.max()) + 1 if len(reports) else 0
    cap = max_per_report or (max(2, math.ceil(REPORT_CAP_FACTOR * n / n_reports)) if n_reports else None)
    from_report = np.zeros(n_reports + 1)  # the last one: findings of no known report, never capped
    spreads = [
        _FairShare(f.get("local_authority") for f in findings),
        _FairShare((f["framework"], f["year"]) if f.get("framework") else None for f in findings),
    ]
    quotas = [_Quota(values) for values in strata]
    available = np.ones(len(findings), dtype=bool)
    # Ties go to a seeded order rather than to input order.
    order = rng.permutation(len(findings))
    drawn: list[tuple[int, bool]] = []
    for place in range(n):
        eligible = available & ((reports < 0) | (from_report[reports] < (cap or np.inf)))
        if not eligible.any():
            raise SuggestInputError(
                f"only {place} findings can be drawn: the others are excluded, near duplicates of excluded or "
                f"drawn ones, or from reports that already give {cap}; lower -n or raise --max-per-report."
            )
        random_draw = is_random_place(place, random_share)
        if random_draw:
            pick = int(rng.choice(np.flatnonzero(eligible)))
        else:
            for quota in quotas:  # in order: a grouping that nothing eligible meets is passed over
                within_quota = eligible & quota.allowed(place)
                if within_quota.any():
                    eligible = within_quota
            value = np.where(eligible, priority, -np.inf)
            for spread in spreads:
                value = value * np.where(eligible, spread.factors(place), 1.0)
            pick = int(order[np.argmax(value[order])])
        drawn.append((pick, random_draw))
        row = vectors[pick]
        cosines = by_shingle[row.indices].T @ row.data
        available[cosines >= NEAR_DUPLICATE_COSINE] = False
        available[pick] = False
        from_report[reports[pick]] += 1
        for group in (*spreads, *quotas):
            group.add(pick)
    return drawn


# --- the whole step --------------------------------------------------------------------------------


def score_findings(scorer: FindingScorer, texts: Sequence[str], progress: bool = False, desc: str = "scoring") -> ModelScores:
    """`scorer.scores` over `texts` in batches, with a progress bar."""
    texts = list(texts)
    parts = []
    with tqdm(total=len(texts), disable=not progress, unit="finding", desc=desc) as bar:
        for start in range(0, len(texts), SCORE_BATCH):
            parts.append(scorer.scores(texts[start : start + SCORE_BATCH]))
            bar.update(len(parts[-1]))
    return ModelScores.concatenate(parts) if parts else scorer.scores([])


def suggest_findings(
    findings: Sequence[dict],
    n: int,
    scorer: FindingScorer,
    *,
    compare: FindingScorer | None = None,
    exclude_texts: Iterable[str] = (),
    seed: int = 0,
    max_per_report: int | None = None,
    random_share: float = DEFAULT_RANDOM_SHARE,
    progress: bool = False,
) -> list[dict]:
    """The `n` findings whose labels would most improve the model, as queue records.

    findings (Sequence[dict]): candidates with a unique `id` and a `text`, and optionally the
        `CONTEXT_FIELDS` (`report_id`, `local_authority`, `framework`, `year`, `kind`, ...).
    n (int): how many to suggest.
    scorer (FindingScorer): the model to rank with (`nlp.model_scores.scorer_for_model`).
    compare (FindingScorer | None): a second model; their disagreement then adds to the score.
    exclude_texts (Iterable[str]): texts already labelled; a finding with the same normalised text,
        or a near duplicate of one, is never suggested.
    seed (int): seed of the random places and tie-breaking; the same inputs and seed give the same queue.
    max_per_report (int | None): cap of findings per report (see `draw_queue`).
    random_share (float): share of the queue drawn uniformly at random (0 to 1).
    progress (bool): show a progress bar while scoring.
    RETURNS (list[dict]): in queue order: `rank`, `id`, the finding's context fields, `text`,
        `score`, `reasons`, `drawn` (`uncertainty` or `random`) and `pre_annotation` (the model's
        labels: `model`, `themes`, `polarity`, `theme_polarity`).
    RAISES (SuggestInputError): for bad settings, repeated ids, or fewer than `n` findings to draw from.
    """
    if n < 1:
        raise SuggestInputError(f"the number of findings to suggest must be at least 1, got {n}.")
    if not 0.0 <= random_share <= 1.0:
        raise SuggestInputError(f"random_share must be between 0 and 1, got {random_share}.")
    if max_per_report is not None and max_per_report < 1:
        raise SuggestInputError(f"max_per_report must be at least 1, got {max_per_report}.")
    candidates = candidate_findings(findings, exclude_texts)
    if len(candidates) < n:
        raise SuggestInputError(
            f"{n} findings asked for, but only {len(candidates)} of the {len(findings)} given are not excluded "
            "or duplicates; lower -n or give more findings."
        )
    texts = [f["text"] for f in candidates]
    scores = score_findings(scorer, texts, progress, desc=f"scoring with {scorer.name}")
    compared = score_findings(compare, texts, progress, desc=f"scoring with {compare.name}") if compare else None
    uncertainty = measure_uncertainty(
        scores, [f.get("kind") for f in candidates], compared, compare.name if compare else None
    )
    drawn = draw_queue(
        uncertainty.total,
        candidates,
        n,
        seed=seed,
        max_per_report=max_per_report,
        random_share=random_share,
        strata=queue_strata(uncertainty, candidates),
    )
    labels = scorer.labels([candidates[i]["text"] for i, _ in drawn])
    queue = []
    for rank, ((i, random_draw), label) in enumerate(zip(drawn, labels), start=1):
        finding = candidates[i]
        label = apply_kind_rule(label, finding.get("kind"))
        reasons = uncertainty.reasons(i)
        if random_draw:
            reasons.insert(0, f"random draw ({random_share:.0%} of the queue is a uniform sample)")
        queue.append(
            {
                "rank": rank,
                "id": finding["id"],
                **{field: finding[field] for field in CONTEXT_FIELDS if field in finding},
                "text": finding["text"],
                "score": round(float(uncertainty.total[i]), 4),
                "reasons": reasons,
                "drawn": "random" if random_draw else "uncertainty",
                "pre_annotation": {
                    "model": scorer.name,
                    "themes": label.themes,
                    "polarity": label.polarity,
                    "theme_polarity": label.theme_polarity,
                },
            }
        )
    return queue


def candidate_findings(findings: Sequence[dict], exclude_texts: Iterable[str]) -> list[dict]:
    """The findings that may be suggested: not excluded, not a near duplicate of an excluded text, and
    the first of any with the same normalised text."""
    excluded = list(exclude_texts)
    seen = {normalise_text(text) for text in excluded}
    ids: set = set()
    kept = []
    for finding in findings:
        if not isinstance(finding, dict) or finding.get("id") is None or not isinstance(finding.get("text"), str):
            raise SuggestInputError(f'each finding must be a dict with "id" and a string "text"; got {str(finding)[:80]!r}.')
        if finding["id"] in ids:
            raise SuggestInputError(f"finding id {finding['id']!r} is given twice; ids must be unique.")
        ids.add(finding["id"])
        key = normalise_text(finding["text"])
        if key and key not in seen:
            seen.add(key)
            kept.append(finding)
    if excluded and kept:
        near = near_duplicates_of(shingle_vectors([f["text"] for f in kept]), shingle_vectors(excluded))
        kept = [f for f, duplicate in zip(kept, near) if not duplicate]
    return kept


# --- files -----------------------------------------------------------------------------------------


def read_suggest_input(path: str | os.PathLike) -> list[dict]:
    """Findings from a `findings.parquet` written by `label` (or its folder) or from JSON lines.

    A Parquet finding's id is `<report_id>#<index>`; a JSON line needs `id` and a string `text`,
    and its `CONTEXT_FIELDS` are kept.
    RAISES (SuggestInputError): naming the file, and the line or the missing columns.
    """
    path = Path(path)
    if path.is_dir():
        path = path / FINDINGS_FILE
    if not path.is_file():
        raise SuggestInputError(f"{path}: no such file; give findings.parquet written by `inspection-themes label`, or JSON lines.")
    if path.suffix == ".parquet":
        return _read_parquet_findings(path)
    findings = []
    for number, record in _read_lines(path):
        if not isinstance(record, dict) or record.get("id") is None or not isinstance(record.get("text"), str):
            raise SuggestInputError(
                f'{path}:{number}: each line must be a JSON object with "id" and a string "text"; got {str(record)[:80]!r}.'
            )
        findings.append({"id": record["id"], **{f: record[f] for f in CONTEXT_FIELDS if f in record}, "text": record["text"]})
    return findings


def _read_parquet_findings(path: Path) -> list[dict]:
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as error:
        raise SuggestInputError(f"{path}: not a readable Parquet file ({error}); give findings.parquet written by `label`.") from error
    missing = [column for column in ("report_id", "index", "text") if column not in names]
    if missing:
        raise SuggestInputError(
            f"{path}: the columns {missing} are missing; give findings.parquet written by `inspection-themes label`."
        )
    columns = [column for column in (*CONTEXT_FIELDS, "text") if column in names]
    rows = pq.read_table(path, columns=columns).to_pylist()
    return [{"id": f"{row['report_id']}#{row['index']}", **row} for row in rows]


def read_exclude_texts(path: str | os.PathLike) -> list[str]:
    """The `text` of each line of a JSON-lines file of labelled findings (e.g. `gold.jsonl`)."""
    texts = []
    for number, record in _read_lines(Path(path)):
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise SuggestInputError(f'{path}:{number}: each line of the exclude file must be a JSON object with a string "text".')
        texts.append(record["text"])
    return texts


def _read_lines(path: Path):
    try:
        yield from read_jsonl(path)
    except FileNotFoundError as error:
        raise SuggestInputError(f"{path}: no such file.") from error
    except ValueError as error:
        raise SuggestInputError(str(error)) from error


def suggest_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    n: int,
    *,
    model: str | os.PathLike | None = None,
    compare_model: str | os.PathLike | None = None,
    exclude: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    seed: int = 0,
    max_per_report: int | None = None,
    random_share: float = DEFAULT_RANDOM_SHARE,
    progress: bool = False,
) -> int:
    """`suggest_findings` from files to a JSON-lines queue, which appears only when complete; returns its
    length. `exclude`: one JSON-lines file of labelled findings or several (e.g. the gold and the
    held-out findings)."""
    findings = read_suggest_input(input_path)
    exclude_paths = [exclude] if isinstance(exclude, (str, os.PathLike)) else list(exclude or ())
    excluded = [text for path in exclude_paths for text in read_exclude_texts(path)]
    queue = suggest_findings(
        findings,
        n,
        scorer_for_model(model),
        compare=scorer_for_model(compare_model) if compare_model is not None else None,
        exclude_texts=excluded,
        seed=seed,
        max_per_report=max_per_report,
        random_share=random_share,
        progress=progress,
    )
    return write_jsonl(queue, output_path)
