"""Weak labels for every finding of the corpus, from labelling functions combined by a label model.

    python -m training.weak_labels [--corpus ../shared/corpus] [--out training/data/weak]

A *labelling function* (LF) is a small named rule that looks at one finding and returns a label or
abstains (`None`). Theme LFs return a theme id, or `NO_THEMES` for findings that the schema gives no
theme (context, page furniture); polarity LFs return one of `POLARITIES`. Their votes are combined by
a naive-Bayes label model: the class prior and each LF's confusion table (how often it says what,
given the true label) are counted on the hand-labelled gold findings, which is the Dawid-Skene model
with its parameters estimated from labels instead of by EM. Because gold both weighs the LFs and
judges the result, the figures are given twice: in-sample, and out-of-fold with the weights estimated
in cross-validation grouped by local authority.

What this writes is rule-made training signal, never gold: every label field is named `weak_*`.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache
from pathlib import Path

import numpy as np
import typer
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import GroupKFold

from nlp.corpus import corpus_dir, corpus_findings, load_corpus_index
from nlp.taxonomy import POLARITIES, THEME_IDS
from nlp.scoring import evaluate, expected_calibration_error, pair_metrics, polarity_metrics, theme_matrix, theme_metrics
from training.evaluate import keyword_baseline
from nlp.lexicon import (
    BROAD_THEME_PATTERNS,
    CAVEAT_PATTERN,
    CONTRAST_PATTERN,
    FIGURE,
    HEDGE_PATTERN,
    IMPERATIVE_OPENING,
    SPECIFIC_THEME_PATTERNS,
    STRENGTH_PATTERN,
    STRONG_STRENGTH_PATTERN,
    WEAKNESS_PATTERN,
    broad_cues,
    specific_cues,
)

GOLD_PATH = Path("training/data/gold/gold.jsonl")
OUT_DIR = Path("training/data/weak")
LABELS_FILE = "weak_labels.jsonl.gz"
LF_FILE = "labelling_functions.json"
EVALUATION_FILE = "evaluation.json"

NO_THEMES = "no_themes"  # what a theme LF returns for a finding the schema gives no theme
THEME_THRESHOLD = 0.5  # a weak theme is one the label model thinks more likely than not
SMOOTHING = 1.0  # add-one counts, so a confusion cell never seen on gold is unlikely, not impossible
FOLDS = 5
# Votes are pure functions of a finding; cross-validation asks for the same gold findings' votes in
# every fold, so they are kept for this many findings (and as many theme windows).
VOTE_CACHE = 1 << 14


# --- Findings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """What an LF may look at: the finding's text, its kind and judgement area, and the grade given there.

    grade: the judgement of the finding's area (`reports.jsonl` judgements), else the report's
    overall judgement; None when the report has neither.
    """

    text: str
    kind: str
    area: str | None = None
    grade: str | None = None

    @cached_property
    def folded(self) -> str:
        """The lower-cased text: `re` matches lower-case patterns on it about twice as fast as with IGNORECASE."""
        return self.text.lower()


def fold(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """A lexicon pattern (compiled with IGNORECASE) for matching `Finding.folded` text."""
    return re.compile(pattern.pattern)


def area_grade(meta: dict, area: str | None) -> str | None:
    """The grade of the finding's judgement area, else of the whole report (summaries sit outside any area)."""
    judgements = meta.get("judgements") or {}
    return judgements.get(area) or meta.get("overall_judgement")


def finding_from_record(record: dict, meta: dict) -> Finding:
    """A Finding from a gold or corpus record (fields text, kind, area) and its report's metadata."""
    return Finding(record["text"], record["kind"], record.get("area"), area_grade(meta, record.get("area")))


WEAK_RECORD_FIELDS = ("id", "report_id", "index", "local_authority", "framework", "year", "kind", "section", "area", "text")


def corpus_records(corpus: Path) -> list[dict]:
    """One record per finding of every report (the findings component's), in `<report_id>#<index>` order, with report metadata."""
    return [{name: finding[name] for name in WEAK_RECORD_FIELDS} for finding in corpus_findings(corpus)]


# --- Labelling functions ----------------------------------------------------------------------


@dataclass(frozen=True)
class LabellingFunction:
    """A named rule: `function(finding)` returns one of `labels` or None (abstain)."""

    name: str
    task: str  # "theme" or "polarity"
    family: str  # "structural", "lexicon" or "cue"
    labels: tuple[str, ...]
    description: str
    function: Callable[[Finding], str | None]

    def __call__(self, finding: Finding) -> str | None:
        return self.function(finding)


def labelling_function(task: str, family: str, *labels: str) -> Callable[[Callable], LabellingFunction]:
    """Decorator: the function's name and first docstring line become the LF's name and description."""

    def wrap(function: Callable[[Finding], str | None]) -> LabellingFunction:
        description = (function.__doc__ or "").strip().splitlines()[0]
        return LabellingFunction(function.__name__, task, family, labels, description, function)

    return wrap


_FURNITURE = re.compile(
    r"crown copyright|www\.ofsted\.gov\.uk|further copies of this report|reproduced in whole or in part", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?:;)\u2019'\"]\s*$")
HEADING_MAX_WORDS = 12
LEADERSHIP_AREAS = ("impact_of_leaders", "leadership_management_governance", "leadership_and_management")
CHILDREN_IN_CARE_AREAS = ("children_in_care", "looked_after_and_permanence", "children_in_care_and_care_leavers")
RECOMMENDATION_SUFFIX = re.compile(r"\(recommendation\)\s*$", re.IGNORECASE)


def is_furniture(finding: Finding) -> bool:
    """Copyright lines, web addresses and other page furniture the segmenter let through."""
    return bool(_FURNITURE.search(finding.text))


def is_heading_fragment(finding: Finding) -> bool:
    """A few words without an end stop: a heading or table cell read as a paragraph."""
    return len(finding.text.split()) <= HEADING_MAX_WORDS and not _SENTENCE_END.search(finding.text)


@labelling_function("theme", "structural", NO_THEMES)
def lf_context_has_no_themes(f: Finding) -> str | None:
    """Context paragraphs (the area, its population, the inspection) get no themes."""
    return NO_THEMES if f.kind == "context" else None


@labelling_function("theme", "structural", NO_THEMES)
def lf_furniture_has_no_themes(f: Finding) -> str | None:
    """Page furniture (copyright, web addresses) gets no themes."""
    return NO_THEMES if is_furniture(f) else None


@labelling_function("theme", "structural", NO_THEMES)
def lf_heading_fragment_has_no_themes(f: Finding) -> str | None:
    """A heading-like fragment of a dozen words or fewer without an end stop gets no themes."""
    return NO_THEMES if is_heading_fragment(f) else None


@labelling_function("theme", "structural", "care_leavers")
def lf_area_care_leavers(f: Finding) -> str | None:
    """Findings under the care leavers judgement are about care leavers."""
    return "care_leavers" if f.area == "care_leavers" else None


@labelling_function("theme", "structural", "adoption")
def lf_area_adoption(f: Finding) -> str | None:
    """Findings under the adoption performance judgement are about adoption."""
    return "adoption" if f.area == "adoption" else None


@labelling_function("theme", "structural", "safeguarding_partnership")
def lf_area_lscb(f: Finding) -> str | None:
    """Findings of the LSCB review are about the safeguarding board."""
    return "safeguarding_partnership" if f.area == "lscb" else None


@labelling_function("theme", "structural", "leadership_and_governance")
def lf_area_leadership(f: Finding) -> str | None:
    """Findings under a leadership judgement are about leadership and governance."""
    return "leadership_and_governance" if f.area in LEADERSHIP_AREAS else None


@labelling_function("theme", "structural", "placement_sufficiency_and_stability")
def lf_area_children_in_care(f: Finding) -> str | None:
    """Findings under a children-in-care judgement: placements, the area's most frequent theme."""
    return "placement_sufficiency_and_stability" if f.area in CHILDREN_IN_CARE_AREAS else None


def cue_lf(theme: str, cues: tuple[str, ...], tier: str) -> LabellingFunction:
    """A lexicon LF: `theme` when one of the theme's `tier` cues ("specific" or "broad") occurs."""
    # One pattern per cue: `re` searches a short pattern with a literal in it faster than the alternation.
    patterns = [re.compile(cue) for cue in cues]

    def function(f: Finding) -> str | None:
        return theme if any(p.search(f.folded) for p in patterns) else None

    description = f"a {tier} cue of {theme} occurs"
    return LabellingFunction(f"lf_{tier}_cues_{theme}", "theme", "lexicon", (theme,), description, function)


@dataclass(frozen=True)
class Cues:
    """The polarity cues of one text, counted once for all the polarity LFs."""

    strengths: int  # STRENGTH_CUES occurrences
    weaknesses: int  # WEAKNESS_CUES occurrences, "(Recommendation)" left to its own LF
    strong: bool
    hedge: bool
    caveat: bool
    contrast: bool
    figure: bool
    imperative: bool
    recommendation_suffix: bool

    @property
    def evaluative(self) -> bool:
        return bool(self.strengths or self.weaknesses)


_STRENGTH, _WEAKNESS, _STRONG, _HEDGE, _CAVEAT, _CONTRAST, _FIGURE, _IMPERATIVE, _SUFFIX = map(
    fold,
    (
        STRENGTH_PATTERN,
        WEAKNESS_PATTERN,
        STRONG_STRENGTH_PATTERN,
        HEDGE_PATTERN,
        CAVEAT_PATTERN,
        CONTRAST_PATTERN,
        FIGURE,
        IMPERATIVE_OPENING,
        RECOMMENDATION_SUFFIX,
    ),
)


@lru_cache(maxsize=256)
def cues(folded: str) -> Cues:
    """Polarity cues of a lower-cased text (every polarity LF of a finding asks for the same text in turn)."""
    body = _SUFFIX.sub("", folded)
    return Cues(
        strengths=len(_STRENGTH.findall(body)),
        weaknesses=len(_WEAKNESS.findall(body)),
        strong=bool(_STRONG.search(body)),
        hedge=bool(_HEDGE.search(body)),
        caveat=bool(_CAVEAT.search(body)),
        contrast=bool(_CONTRAST.search(body)),
        figure=bool(_FIGURE.search(body)),
        imperative=bool(_IMPERATIVE.search(body)),
        recommendation_suffix=body != folded,
    )


@labelling_function("polarity", "structural", "weakness")
def lf_recommendation_is_weakness(f: Finding) -> str | None:
    """Every recommendation / "what needs to improve" item is a weakness."""
    return "weakness" if f.kind == "recommendation" else None


@labelling_function("polarity", "structural", "weakness", "mixed")
def lf_recommendation_suffix(f: Finding) -> str | None:
    """A finding ending "(Recommendation)": mixed if it also praises, else weakness."""
    c = cues(f.folded)
    if not c.recommendation_suffix:
        return None
    return "mixed" if c.strengths else "weakness"


@labelling_function("polarity", "structural", "neutral")
def lf_context_is_neutral(f: Finding) -> str | None:
    """Context paragraphs describe without judging."""
    return "neutral" if f.kind == "context" else None


@labelling_function("polarity", "structural", "neutral")
def lf_furniture_is_neutral(f: Finding) -> str | None:
    """Page furniture judges nothing."""
    return "neutral" if is_furniture(f) else None


@labelling_function("polarity", "structural", "strength")
def lf_grade_outstanding(f: Finding) -> str | None:
    """A finding or summary in an area graded outstanding reports strengths."""
    return "strength" if f.grade == "outstanding" and f.kind in ("finding", "summary") else None


@labelling_function("polarity", "structural", "strength")
def lf_grade_good(f: Finding) -> str | None:
    """A finding or summary in an area graded good reports strengths."""
    return "strength" if f.grade == "good" and f.kind in ("finding", "summary") else None


@labelling_function("polarity", "structural", "mixed")
def lf_grade_requires_improvement(f: Finding) -> str | None:
    """A finding or summary in an area that requires improvement is mixed."""
    return "mixed" if f.grade == "requires improvement to be good" and f.kind in ("finding", "summary") else None


@labelling_function("polarity", "structural", "weakness")
def lf_grade_inadequate(f: Finding) -> str | None:
    """A finding or summary in an area graded inadequate (or adequate, 2013) reports weaknesses."""
    return "weakness" if f.grade in ("inadequate", "adequate") and f.kind in ("finding", "summary") else None


@labelling_function("polarity", "cue", "strength")
def lf_strength_cues_only(f: Finding) -> str | None:
    """Strength words ("effective", "timely", "good") and no weakness word."""
    c = cues(f.folded)
    return "strength" if c.strengths and not c.weaknesses else None


@labelling_function("polarity", "cue", "strength")
def lf_strong_praise(f: Finding) -> str | None:
    """Strong praise ("outstanding", "exceptional", "highly effective") without hedging."""
    c = cues(f.folded)
    return "strength" if c.strong and not c.hedge else None


@labelling_function("polarity", "cue", "strength")
def lf_strength_outweighs(f: Finding) -> str | None:
    """Some weakness words, but at least three strength words for each."""
    c = cues(f.folded)
    return "strength" if c.weaknesses and c.strengths >= 3 * c.weaknesses else None


@labelling_function("polarity", "cue", "weakness")
def lf_weakness_cues_only(f: Finding) -> str | None:
    """Weakness words ("not always", "delay", "poor") and no strength word."""
    c = cues(f.folded)
    return "weakness" if c.weaknesses and not c.strengths else None


@labelling_function("polarity", "cue", "weakness")
def lf_hedging(f: Finding) -> str | None:
    """The schema's hedges: "not always", "too many", "variable", "delay", "inconsistent", "not yet"."""
    return "weakness" if cues(f.folded).hedge else None


@labelling_function("polarity", "cue", "weakness")
def lf_weakness_outweighs(f: Finding) -> str | None:
    """Some strength words, but at least three weakness words for each."""
    c = cues(f.folded)
    return "weakness" if c.strengths and c.weaknesses >= 3 * c.strengths else None


@labelling_function("polarity", "cue", "weakness")
def lf_imperative_opening(f: Finding) -> str | None:
    """Opens with an instruction ("Ensure that...", "Improve..."), as recommendations do."""
    return "weakness" if cues(f.folded).imperative else None


@labelling_function("polarity", "cue", "mixed")
def lf_contrast(f: Finding) -> str | None:
    """A contrast ("however", "although", "but", "despite") between strength and weakness words."""
    c = cues(f.folded)
    return "mixed" if c.strengths and c.weaknesses and c.contrast else None


@labelling_function("polarity", "cue", "mixed")
def lf_material_caveat(f: Finding) -> str | None:
    """Strength words with a material caveat ("further work is needed", "variable", "some children")."""
    c = cues(f.folded)
    return "mixed" if c.strengths and c.caveat else None


@labelling_function("polarity", "cue", "neutral")
def lf_figures_without_evaluation(f: Finding) -> str | None:
    """Figures (numbers, percentages, "the number of") and no evaluative word."""
    c = cues(f.folded)
    return "neutral" if c.figure and not c.evaluative else None


STRUCTURAL_THEME_LFS: tuple[LabellingFunction, ...] = (
    lf_context_has_no_themes,
    lf_furniture_has_no_themes,
    lf_heading_fragment_has_no_themes,
    lf_area_care_leavers,
    lf_area_adoption,
    lf_area_lscb,
    lf_area_leadership,
    lf_area_children_in_care,
)
LEXICON_THEME_LFS: tuple[LabellingFunction, ...] = tuple(
    [cue_lf(theme, specific_cues(theme), "specific") for theme in THEME_IDS]
    + [cue_lf(theme, broad_cues(theme), "broad") for theme in THEME_IDS if broad_cues(theme)]
)
THEME_LFS: tuple[LabellingFunction, ...] = STRUCTURAL_THEME_LFS + LEXICON_THEME_LFS
POLARITY_LFS: tuple[LabellingFunction, ...] = (
    lf_recommendation_is_weakness,
    lf_recommendation_suffix,
    lf_context_is_neutral,
    lf_furniture_is_neutral,
    lf_grade_outstanding,
    lf_grade_good,
    lf_grade_requires_improvement,
    lf_grade_inadequate,
    lf_strength_cues_only,
    lf_strong_praise,
    lf_strength_outweighs,
    lf_weakness_cues_only,
    lf_hedging,
    lf_weakness_outweighs,
    lf_imperative_opening,
    lf_contrast,
    lf_material_caveat,
    lf_figures_without_evaluation,
)


@lru_cache(maxsize=VOTE_CACHE)
def theme_votes(finding: Finding) -> tuple[str | None, ...]:
    """The vote of every theme LF on the finding, in THEME_LFS order."""
    return tuple(lf(finding) for lf in THEME_LFS)


@lru_cache(maxsize=VOTE_CACHE)
def polarity_votes(finding: Finding) -> tuple[str | None, ...]:
    """The vote of every polarity LF on the finding, in POLARITY_LFS order."""
    return tuple(lf(finding) for lf in POLARITY_LFS)


# --- Label model ------------------------------------------------------------------------------


class NaiveBayesLabelModel:
    """p(y | LF outputs) proportional to p(y) * prod_j p(output_j | y), for one task with `n_classes` classes.

    LF outputs are integer codes, 0 for abstain. The prior and the per-LF confusion tables are
    counted on labelled findings with add-`smoothing`, so an LF earns weight by how much more often
    it says a label when that label is true than when it is not; an abstention is evidence too (no
    cue of a theme makes the theme less likely). LFs are treated as independent given the label,
    which overstates confidence when they overlap; the out-of-fold calibration error shows by how much.
    """

    def __init__(self, n_classes: int, n_outputs: int, smoothing: float = SMOOTHING) -> None:
        self.n_classes, self.n_outputs, self.smoothing = n_classes, n_outputs, smoothing

    def fit(self, outputs: np.ndarray, labels: np.ndarray) -> NaiveBayesLabelModel:
        """outputs: (findings, LFs) codes in [0, n_outputs); labels: (findings,) classes in [0, n_classes)."""
        outputs, labels = np.asarray(outputs, dtype=int).reshape(len(labels), -1), np.asarray(labels, dtype=int)
        prior = np.bincount(labels, minlength=self.n_classes) + self.smoothing
        self.log_prior_ = np.log(prior / prior.sum())
        counts = np.full((outputs.shape[1], self.n_classes, self.n_outputs), self.smoothing)
        for j in range(outputs.shape[1]):
            np.add.at(counts[j], (labels, outputs[:, j]), 1)
        self.log_likelihood_ = np.log(counts / counts.sum(axis=2, keepdims=True))
        return self

    def predict_proba(self, outputs: np.ndarray) -> np.ndarray:
        """(findings, n_classes) posterior probabilities."""
        outputs = np.asarray(outputs, dtype=int).reshape(-1, self.log_likelihood_.shape[0])
        lfs = np.arange(outputs.shape[1])
        # log_likelihood_[j, :, output] for every finding and LF, summed over LFs.
        scores = self.log_prior_ + self.log_likelihood_[lfs, :, outputs].sum(axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores)
        return probabilities / probabilities.sum(axis=1, keepdims=True)


def polarity_codes(votes: Sequence[Sequence[str | None]]) -> np.ndarray:
    """Polarity votes as codes: 0 abstain, 1 + index in POLARITIES."""
    code = {None: 0, **{p: i + 1 for i, p in enumerate(POLARITIES)}}
    return np.array([[code[v] for v in row] for row in votes], dtype=int).reshape(len(votes), -1)


@cache
def lf_columns(label: str) -> list[int]:
    """Columns in THEME_LFS of the LFs that can say `label` (a theme id or NO_THEMES)."""
    return [j for j, lf in enumerate(THEME_LFS) if label in lf.labels]


def says(votes: np.ndarray, label: str) -> np.ndarray:
    """From a (findings, THEME_LFS) object array of votes: 1 where an LF that can say `label` says it, else 0."""
    return (votes[:, lf_columns(label)] == label).astype(int)


def vote_array(findings: Sequence[Finding]) -> np.ndarray:
    """(findings, THEME_LFS) object array of theme votes."""
    return np.array([theme_votes(f) for f in findings], dtype=object).reshape(len(findings), len(THEME_LFS))


# --- Theme polarity ---------------------------------------------------------------------------

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\u2018'\"(])")
_SPECIFIC_FOLDED = {theme: fold(pattern) for theme, pattern in SPECIFIC_THEME_PATTERNS.items()}
_BROAD_FOLDED = {theme: fold(pattern) for theme, pattern in BROAD_THEME_PATTERNS.items()}


def theme_window(text: str, theme: str) -> str:
    """The sentences of `text` that carry a cue of `theme`, else the whole text (a theme from structure)."""
    patterns = [p for p in (_SPECIFIC_FOLDED[theme], _BROAD_FOLDED.get(theme)) if p is not None]
    sentences = [s for s in _SENTENCE_SPLIT.split(text) if any(p.search(s.lower()) for p in patterns)]
    return " ".join(sentences) or text


@lru_cache(maxsize=VOTE_CACHE)
def window_votes(finding: Finding, theme: str) -> tuple[str | None, ...]:
    """Polarity LF votes on the sentences of the finding that are about `theme`."""
    return polarity_votes(replace(finding, text=theme_window(finding.text, theme)))


def pair_votes(finding: Finding, theme: str, finding_polarity: str) -> list[str | None]:
    """Polarity LF votes on the theme's sentences, then the finding's own weak polarity as one more vote.

    The schema's theme polarity is the finding's polarity unless the finding is mixed, when each theme
    takes the polarity of what is said about it; the window votes are there to split mixed findings.
    """
    return [*window_votes(finding, theme), finding_polarity]


# --- The weak labeller ------------------------------------------------------------------------


@dataclass
class WeakLabels:
    """The combined weak labels of one finding, with the label model's probabilities."""

    themes: dict[str, float]  # theme -> probability, for the themes given
    polarity: str
    polarity_confidence: float
    theme_polarity: dict[str, tuple[str, float]]  # theme -> (polarity, probability)
    fired: list[str]  # names of the LFs that did not abstain


class WeakLabeller:
    """Label models: whether a finding has any theme, each theme given that it has, polarity, theme polarity.

    p(theme) = p(any theme) * p(theme | any theme). The no-theme LFs speak to the first factor, fitted on
    all gold findings; a per-theme model could not learn from them, as a theme's few positives never
    show a context paragraph and its many negatives rarely do.
    """

    def fit(
        self,
        findings: Sequence[Finding],
        themes: Sequence[Sequence[str]],
        polarity: Sequence[str],
        theme_polarity: Sequence[dict[str, str]],
    ) -> WeakLabeller:
        votes, Y = vote_array(findings), theme_matrix(themes, THEME_IDS)
        has_themes = Y.any(axis=1)
        self.has_themes_model_ = NaiveBayesLabelModel(2, 2).fit(says(votes, NO_THEMES), has_themes)
        self.theme_models_ = {
            theme: NaiveBayesLabelModel(2, 2).fit(says(votes[has_themes], theme), Y[has_themes, k])
            for k, theme in enumerate(THEME_IDS)
        }
        polarity_index = {p: i for i, p in enumerate(POLARITIES)}
        self.polarity_model_ = NaiveBayesLabelModel(len(POLARITIES), len(POLARITIES) + 1).fit(
            polarity_codes([polarity_votes(f) for f in findings]), np.array([polarity_index[p] for p in polarity])
        )
        finding_polarity, _ = self.polarity(findings)
        pairs = [(i, theme, p) for i, labels in enumerate(theme_polarity) for theme, p in labels.items() if p is not None]
        self.theme_polarity_model_ = NaiveBayesLabelModel(len(POLARITIES), len(POLARITIES) + 1).fit(
            polarity_codes([pair_votes(findings[i], theme, finding_polarity[i]) for i, theme, _ in pairs]),
            np.array([polarity_index[p] for _, _, p in pairs]),
        )
        return self

    def theme_probabilities(self, findings: Sequence[Finding]) -> np.ndarray:
        """(findings, themes) probability of each theme, columns in THEME_IDS order."""
        votes = vote_array(findings)
        has_themes = self.has_themes_model_.predict_proba(says(votes, NO_THEMES))[:, 1]
        return has_themes[:, None] * np.column_stack(
            [self.theme_models_[t].predict_proba(says(votes, t))[:, 1] for t in THEME_IDS]
        )

    def polarity(self, findings: Sequence[Finding]) -> tuple[list[str], np.ndarray]:
        """The most probable polarity of each finding, and its probability."""
        probabilities = self.polarity_model_.predict_proba(polarity_codes([polarity_votes(f) for f in findings]))
        return [POLARITIES[k] for k in probabilities.argmax(axis=1)], probabilities.max(axis=1)

    def theme_polarity(
        self, findings: Sequence[Finding], themes: Sequence[Iterable[str]], finding_polarity: Sequence[str]
    ) -> list[dict[str, tuple[str, float]]]:
        """Per finding: the polarity of what it says about each of its `themes`, with its probability."""
        pairs = [(i, theme) for i, given in enumerate(themes) for theme in given]
        results: list[dict[str, tuple[str, float]]] = [{} for _ in findings]
        if pairs:
            votes = [pair_votes(findings[i], theme, finding_polarity[i]) for i, theme in pairs]
            probabilities = self.theme_polarity_model_.predict_proba(polarity_codes(votes))
            for (i, theme), k, p in zip(pairs, probabilities.argmax(axis=1), probabilities.max(axis=1)):
                results[i][theme] = (POLARITIES[k], float(p))
        return results

    def predict(self, findings: Sequence[Finding]) -> tuple[list[WeakLabels], np.ndarray]:
        """Weak labels of each finding, and the (findings, themes) probabilities behind its themes."""
        theme_probabilities = self.theme_probabilities(findings)
        polarity, confidence = self.polarity(findings)
        themes = [{t: float(p) for t, p in zip(THEME_IDS, row) if p >= THEME_THRESHOLD} for row in theme_probabilities]
        theme_polarity = self.theme_polarity(findings, themes, polarity)
        names = [lf.name for lf in THEME_LFS + POLARITY_LFS]
        results = []
        for i, finding in enumerate(findings):
            fired = [name for name, vote in zip(names, theme_votes(finding) + polarity_votes(finding)) if vote is not None]
            results.append(WeakLabels(themes[i], polarity[i], float(confidence[i]), theme_polarity[i], fired))
        return results, theme_probabilities


def fit_labeller(findings: Sequence[Finding], records: Sequence[dict]) -> WeakLabeller:
    """A WeakLabeller whose label models are counted on these hand-labelled records."""
    return WeakLabeller().fit(
        findings, [r["themes"] for r in records], [r["polarity"] for r in records], [r["theme_polarity"] for r in records]
    )


# --- Measurement against gold -----------------------------------------------------------------


def is_correct(lf: LabellingFunction, vote: str, record: dict) -> bool:
    """Whether an LF's vote agrees with a gold record: the theme is among its themes, or the polarity matches."""
    if lf.task == "polarity":
        return vote == record["polarity"]
    return not record["themes"] if vote == NO_THEMES else vote in record["themes"]


def lf_statistics(corpus_labels: Sequence[WeakLabels], gold_findings: Sequence[Finding], gold: Sequence[dict]) -> list[dict]:
    """Per LF: coverage of the corpus, gold findings it fired on, and its precision (accuracy) there."""
    fired = Counter(name for labels in corpus_labels for name in labels.fired)
    gold_votes = [theme_votes(f) + polarity_votes(f) for f in gold_findings]
    rows = []
    for j, lf in enumerate(THEME_LFS + POLARITY_LFS):
        hits = [is_correct(lf, votes[j], record) for votes, record in zip(gold_votes, gold) if votes[j] is not None]
        rows.append(
            {
                "name": lf.name,
                "task": lf.task,
                "family": lf.family,
                "labels": list(lf.labels),
                "description": lf.description,
                "coverage": round(fired[lf.name] / len(corpus_labels), 4),
                "gold_fired": len(hits),
                "precision": round(float(np.mean(hits)), 3) if hits else None,
            }
        )
    return rows


@dataclass
class GoldPredictions:
    """Weak labels of gold findings, with their theme probabilities and the polarity given each gold theme."""

    labels: list[WeakLabels]
    theme_probabilities: np.ndarray
    on_gold_themes: list[dict[str, str]]


def predict_gold(labeller: WeakLabeller, findings: Sequence[Finding], records: Sequence[dict]) -> GoldPredictions:
    """The labeller's weak labels of gold findings, and its polarity for each of their gold themes."""
    labels, probabilities = labeller.predict(findings)
    given = labeller.theme_polarity(findings, [r["themes"] for r in records], [weak.polarity for weak in labels])
    on_gold_themes = [{t: p for t, (p, _) in pairs.items()} for pairs in given]
    return GoldPredictions(labels, probabilities, on_gold_themes)


def out_of_fold(findings: Sequence[Finding], records: Sequence[dict], folds: int = FOLDS) -> GoldPredictions:
    """Predictions for every gold finding from label models counted on the other local authorities only."""
    labels: list[WeakLabels | None] = [None] * len(records)
    probabilities = np.zeros((len(records), len(THEME_IDS)))
    on_gold_themes: list[dict[str, str]] = [{} for _ in records]
    groups = [r["local_authority"] for r in records]
    for train, test in GroupKFold(n_splits=folds).split(records, groups=groups):
        labeller = fit_labeller([findings[i] for i in train], [records[i] for i in train])
        predicted = predict_gold(labeller, [findings[i] for i in test], [records[i] for i in test])
        probabilities[test] = predicted.theme_probabilities
        for k, i in enumerate(test):
            labels[i], on_gold_themes[i] = predicted.labels[k], predicted.on_gold_themes[k]
    return GoldPredictions(labels, probabilities, on_gold_themes)  # type: ignore[arg-type]


def figures(records: Sequence[dict], predicted: GoldPredictions) -> dict:
    """Combined weak labels against gold: themes, finding polarity, theme polarity, calibration."""
    gold_themes = theme_matrix([r["themes"] for r in records], THEME_IDS)
    weak_themes = theme_matrix([list(labels.themes) for labels in predicted.labels], THEME_IDS)
    precision, recall, _, _ = precision_recall_fscore_support(gold_themes, weak_themes, average="micro", zero_division=0)
    weak_on_gold_themes = [p for on_gold in predicted.on_gold_themes for p in on_gold.values()]
    gold_pairs = [r["theme_polarity"][t] for r in records for t in r["themes"]]
    return {
        "findings": len(records),
        "themes": {
            "micro_precision": round(float(precision), 3),
            "micro_recall": round(float(recall), 3),
            **theme_metrics(gold_themes, weak_themes, THEME_IDS),
        },
        "theme_calibration_error": expected_calibration_error(gold_themes, predicted.theme_probabilities),
        "polarity": polarity_metrics([r["polarity"] for r in records], [labels.polarity for labels in predicted.labels]),
        # Is a polarity given with confidence 0.8 right 80% of the time?
        "polarity_calibration_error": expected_calibration_error(
            np.array([labels.polarity == r["polarity"] for r, labels in zip(records, predicted.labels)], dtype=int),
            np.array([labels.polarity_confidence for labels in predicted.labels]),
        ),
        "theme_polarity_pairs": pair_metrics(
            [r["theme_polarity"] for r in records],
            [{t: p for t, (p, _) in labels.theme_polarity.items()} for labels in predicted.labels],
        ),
        "theme_polarity_on_gold_themes": polarity_metrics(gold_pairs, weak_on_gold_themes),
    }


# --- Output -----------------------------------------------------------------------------------


def weak_record(record: dict, labels: WeakLabels) -> dict:
    """The stored record: the corpus finding and its weak labels, under names that say they are weak."""
    return {
        **record,
        "weak_themes": list(labels.themes),
        "weak_polarity": labels.polarity,
        "weak_theme_polarity": {t: p for t, (p, _) in labels.theme_polarity.items()},
        "weak_confidence": {
            "themes": {t: round(p, 3) for t, p in labels.themes.items()},
            "polarity": round(labels.polarity_confidence, 3),
            "theme_polarity": {t: round(c, 3) for t, (_, c) in labels.theme_polarity.items()},
        },
        "labelling_functions_fired": labels.fired,
        "source": "weak",
    }


def write_labels(path: Path, records: Iterable[dict]) -> None:
    # mtime=0 keeps the file byte-identical across runs with the same labels.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        for record in records:
            handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))


def _table(header: Sequence[str], rows: Iterable[Sequence]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    return lines + ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]


def readme(stored: Sequence[dict], lf_rows: Sequence[dict], evaluation: dict) -> str:
    """The generated README: warning, method, combined vs gold, counts per weak label, the LF table."""
    oof = evaluation["out_of_fold"]
    theme_counts = Counter(t for r in stored for t in r["weak_themes"])
    polarity_counts = Counter(r["weak_polarity"] for r in stored)
    pair_counts = Counter((t, p) for r in stored for t, p in r["weak_theme_polarity"].items())
    gold_support = {t: oof["themes"]["per_theme"][t]["support"] for t in THEME_IDS}

    def compared(*path: str) -> list:
        """The figure at `path` in-sample, out-of-fold and for the keyword baseline (blank where it has none)."""
        row = []
        for part in ("in_sample", "out_of_fold", "keyword_baseline"):
            value = evaluation[part]
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            row.append(value)
        return row

    lines = [
        "# Weak labels (generated by `python -m training.weak_labels`; do not edit)",
        "",
        "> **Warning: these labels are made by rules, not read by people.** They are training signal only:",
        "> never use them as gold, never evaluate a model on them, and never mix them into `gold/`.",
        '> Every label field is named `weak_*`, and every record has `source: "weak"`.',
        "",
        (
            f"`{LABELS_FILE}`: one record per finding of the corpus, **{len(stored)} findings** from "
            f"**{len({r['report_id'] for r in stored})} reports** (every finding of the pipeline's findings component, `doc.spans['findings']`, "
            'as `<report_id>#<index>`). Load it with `datasets.load_dataset("json", data_files=...)`. '
            "The gold findings are among them (same ids): drop them by id before evaluating anything trained on these labels."
        ),
        "",
        "## Method",
        "",
        (
            f"{len(THEME_LFS)} theme and {len(POLARITY_LFS)} polarity labelling functions (LFs), each returning a label or abstaining: "
            'structural ones (kind, judgement area, grade of the area, "(Recommendation)", page furniture), one or two per theme from '
            "the cue lexicon of `nlp/lexicon.py` (specific cues and broad cues), and polarity cue rules (strength words, the "
            "schema's hedges, contrast, caveats, instructions, figures without evaluation)."
        ),
        "",
        (
            "They are combined by naive-Bayes label models (Dawid-Skene models whose parameters are counted rather than fitted by EM): "
            "for whether a finding has any theme (from the no-theme LFs), for each theme given that it has one, for finding polarity "
            "and for theme polarity, the class prior and each LF's confusion table p(LF output | true label), abstention included, are "
            "counted on the gold findings with add-one smoothing, and the posterior is the prior times the product of the LFs' "
            "likelihoods; p(theme) = p(any theme) x p(theme | any theme). A weak theme is one with posterior "
            f">= {THEME_THRESHOLD}; the polarity is the most probable one. Theme polarity uses the same polarity LFs on the sentences "
            "that carry the theme's cues, plus the finding's weak polarity as one more vote. `weak_confidence` holds the posteriors."
        ),
        "",
        (
            "Because gold both weighs the LFs and judges the result, in-sample figures are optimistic; the out-of-fold ones count the "
            f"label models on the other local authorities only ({FOLDS}-fold cross-validation grouped by `local_authority`). "
            "The labels in the file come from label models counted on all of gold. The keyword baseline is `training/evaluate.py`'s: "
            "a theme wherever one of its `THEME_CUES` occurs, polarity from counts of the cue words, no weights."
        ),
        "",
        "## Combined weak labels against gold",
        "",
        *_table(
            ["measure", "in-sample", "out-of-fold", "keyword baseline"],
            [
                ["themes: micro precision", *compared("themes", "micro_precision")],
                ["themes: micro recall", *compared("themes", "micro_recall")],
                ["themes: micro F1", *compared("themes", "micro_f1")],
                ["themes: macro F1", *compared("themes", "macro_f1")],
                ["themes: calibration error (ECE, all themes pooled)", *compared("theme_calibration_error")],
                ["polarity: accuracy", *compared("polarity", "accuracy")],
                ["polarity: macro F1", *compared("polarity", "macro_f1")],
                ["polarity: calibration error (ECE of its confidence)", *compared("polarity_calibration_error")],
                ["theme polarity on gold themes: accuracy", *compared("theme_polarity_on_gold_themes", "accuracy")],
                ["theme polarity on gold themes: macro F1", *compared("theme_polarity_on_gold_themes", "macro_f1")],
                ["(theme, polarity) pairs: precision", *compared("theme_polarity_pairs", "precision")],
                ["(theme, polarity) pairs: recall", *compared("theme_polarity_pairs", "recall")],
                ["(theme, polarity) pairs: F1", *compared("theme_polarity_pairs", "f1")],
            ],
        ),
        "",
        (
            "Gold is three samples (`training/ANNOTATION.md` §3, §10, §12): about a third drawn because a cue of `THEME_CUES` "
            "occurred in the finding, a third by a model's uncertainty, a third uniformly at random from the corpus findings not "
            "read before. The first third favours findings the LFs' cues match, so recall on gold overstates recall on the corpus. "
            "The LFs were also written with the gold figures of the first two rounds in view, which cross-validation does not undo."
        ),
        "",
        "## Weak themes",
        "",
        *_table(
            [
                "theme",
                "weak findings",
                "strength",
                "weakness",
                "mixed",
                "neutral",
                "gold support",
                "out-of-fold precision",
                "out-of-fold recall",
                "out-of-fold F1",
            ],
            [
                [
                    t,
                    theme_counts[t],
                    *(pair_counts[(t, p)] for p in POLARITIES),
                    gold_support[t],
                    *(oof["themes"]["per_theme"][t][m] for m in ("precision", "recall", "f1")),
                ]
                for t in THEME_IDS
            ],
        ),
        "",
        "## Weak polarity",
        "",
        *_table(
            ["polarity", "weak findings", "gold support", "out-of-fold precision", "out-of-fold recall", "out-of-fold F1"],
            [
                [
                    p,
                    polarity_counts[p],
                    oof["polarity"]["per_class"][p]["support"],
                    *(oof["polarity"]["per_class"][p][m] for m in ("precision", "recall", "f1")),
                ]
                for p in POLARITIES
            ],
        ),
        "",
        "## Labelling functions",
        "",
        (
            "Coverage: share of the corpus findings on which the LF does not abstain. Precision: on the gold findings where it fires, "
            "the share where its label is right (theme LFs: the theme is among the gold themes, or there are none for `no_themes`; "
            f"polarity LFs: the gold polarity). Per-LF figures are also in `{LF_FILE}`, the full evaluation in `{EVALUATION_FILE}`."
        ),
        "",
        *_table(
            ["LF", "task", "family", "label", "coverage", "gold fired", "precision", "rule"],
            [
                [
                    f"`{r['name']}`",
                    r["task"],
                    r["family"],
                    " / ".join(r["labels"]),
                    r["coverage"],
                    r["gold_fired"],
                    r["precision"],
                    r["description"],
                ]
                for r in lf_rows
            ],
        ),
        "",
    ]
    return "\n".join(lines)


# --- Command line -----------------------------------------------------------------------------


def load_gold(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(
    corpus: Path = typer.Option(None, help="Report corpus folder (default: ../shared/corpus or $INSPECTION_THEMES_CORPUS)."),
    gold_path: Path = typer.Option(GOLD_PATH, "--gold", help="Hand-labelled findings that weigh the LFs."),
    out: Path = typer.Option(OUT_DIR, help="Folder for the weak labels, LF figures and README."),
    folds: int = typer.Option(FOLDS, help="Cross-validation folds, grouped by local authority."),
) -> None:
    """Label every finding of the corpus with weak labels and measure them against gold."""
    started = time.perf_counter()
    corpus = corpus or corpus_dir()
    index = load_corpus_index(corpus)
    gold = load_gold(gold_path)
    gold_findings = [finding_from_record(r, index[r["report_id"]]) for r in gold]
    evaluation = {
        "folds": {"folds": folds, "grouped_by": "local_authority", "authorities": len({r["local_authority"] for r in gold})},
        "in_sample": figures(gold, predict_gold(fit_labeller(gold_findings, gold), gold_findings, gold)),
        "out_of_fold": figures(gold, out_of_fold(gold_findings, gold, folds)),
        # The same cue words without weights (the keyword baseline of training/evaluate.py), for scale.
        "keyword_baseline": evaluate(gold, keyword_baseline([r["text"] for r in gold]), THEME_IDS, with_calibration=False),
    }
    typer.echo(f"evaluated on {len(gold)} gold findings ({time.perf_counter() - started:.0f} s)")
    records = corpus_records(corpus)
    labels, _ = fit_labeller(gold_findings, gold).predict([finding_from_record(r, index[r["report_id"]]) for r in records])
    stored = [weak_record(record, weak) for record, weak in zip(records, labels)]
    lf_rows = lf_statistics(labels, gold_findings, gold)
    out.mkdir(parents=True, exist_ok=True)
    write_labels(out / LABELS_FILE, stored)
    (out / LF_FILE).write_text(json.dumps(lf_rows, indent=1) + "\n", encoding="utf-8")
    (out / EVALUATION_FILE).write_text(json.dumps(evaluation, indent=1) + "\n", encoding="utf-8")
    (out / "README.md").write_text(readme(stored, lf_rows, evaluation), encoding="utf-8")
    oof = evaluation["out_of_fold"]
    typer.echo(
        f"{len(stored)} findings -> {out}; out-of-fold theme micro F1 {oof['themes']['micro_f1']}, "
        f"polarity macro F1 {oof['polarity']['macro_f1']} ({time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    typer.run(main)
