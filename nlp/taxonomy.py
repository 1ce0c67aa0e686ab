"""The label taxonomy: the one module that owns theme ids, polarities, judgement areas and grades.

A taxonomy is data (`Taxonomy`): a name, a version, theme ids with descriptions and the polarity
values, read from a JSON file (`load_taxonomy`) and stored inside every model artifact, so labels
are read from the model, never from this module. The default one, Ofsted children's services
(`label-schema.md`, version 1), ships in the package as `data/ofsted_childrens_services.taxonomy.json`;
`tests/nlp/test_taxonomy.py` checks it against the schema file. Other teams bring their own:

    {"name": "harms", "version": "1",
     "themes": [{"id": "exploitation", "description": "CSE, county lines",
                 "cues": ["county lines", "exploitation"]}, ...],
     "polarities": ["strength", "weakness", "mixed", "neutral"]}

Extra keys are allowed and kept. A theme's optional `cues` (words or phrases) become cue features
of the n-gram model; without them it reads the text alone.

The constants below (`THEMES`, `THEME_IDS`, ...) are the default taxonomy's, for the code that is
about the Ofsted schema itself (gold data, annotation, weak labels, the keyword baseline).
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TaxonomyError

# The polarity values every taxonomy uses: segmentation's rule that recommendations are weaknesses,
# the theme-polarity strategies (which treat `mixed` findings apart) and aggregation's net score
# are written in them.
POLARITY_VALUES: tuple[str, ...] = ("strength", "weakness", "mixed", "neutral")
DEFAULT_TAXONOMY_FILE = "ofsted_childrens_services.taxonomy.json"
# Theme ids become Parquet struct fields and JSON keys: no spaces, nothing to quote.
_THEME_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Theme:
    """One theme: its id (what models output), what it covers, and optional cue words."""

    id: str
    description: str
    cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """The labels a model assigns.

    name (str), version (str): identify the taxonomy (model cards and artifact checks print them).
    themes (tuple[Theme, ...]): in output order (columns of scores, fields of Parquet structs).
    polarities (tuple[str, ...]): `POLARITY_VALUES`.
    record (dict): the JSON object it was read from, extra keys included; what artifacts store.
    """

    name: str
    version: str
    themes: tuple[Theme, ...]
    polarities: tuple[str, ...] = POLARITY_VALUES
    record: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def theme_ids(self) -> tuple[str, ...]:
        return tuple(theme.id for theme in self.themes)

    @property
    def descriptions(self) -> dict[str, str]:
        return {theme.id: theme.description for theme in self.themes}

    @property
    def has_cues(self) -> bool:
        return any(theme.cues for theme in self.themes)

    def cue_patterns(self) -> dict[str, str]:
        """Theme id -> one case-insensitive regular expression matching any of its cue phrases, as
        whole words; themes without cues are left out."""
        return {
            theme.id: "|".join(rf"\b{re.escape(cue)}\b" for cue in theme.cues) for theme in self.themes if theme.cues
        }

    def to_record(self) -> dict:
        return dict(self.record) if self.record else {
            "name": self.name,
            "version": self.version,
            "themes": [{"id": t.id, "description": t.description, **({"cues": list(t.cues)} if t.cues else {})} for t in self.themes],
            "polarities": list(self.polarities),
        }

    def __str__(self) -> str:
        return f"{self.name} {self.version} ({len(self.themes)} themes)"

    @classmethod
    def from_record(cls, record: object, where: str = "taxonomy") -> Taxonomy:
        """Check a taxonomy given as a JSON object and build it.

        RAISES (TaxonomyError): a key is missing or has the wrong type, a theme id is repeated or
            unusable, or the polarities are not `POLARITY_VALUES`.
        """
        if not isinstance(record, dict):
            raise TaxonomyError(f'{where}: a taxonomy is a JSON object {{"name", "version", "themes", "polarities"}}; got {type(record).__name__}.')
        for key, kind in (("name", str), ("version", str), ("themes", list)):
            if not isinstance(record.get(key), kind):
                raise TaxonomyError(f'{where}: "{key}" must be a {"string" if kind is str else "list"}; got {record.get(key)!r}.')
        themes = []
        for number, entry in enumerate(record["themes"], start=1):
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("description", ""), str):
                raise TaxonomyError(f'{where}: theme {number} must be an object with a string "id" and "description"; got {entry!r}.')
            if not _THEME_ID.match(entry["id"]):
                raise TaxonomyError(
                    f"{where}: theme id {entry['id']!r} must start with a letter or digit and hold only letters, digits, "
                    "'_', '.' and '-' (ids become column names)."
                )
            cues = entry.get("cues", [])
            if not isinstance(cues, list) or not all(isinstance(cue, str) and cue.strip() for cue in cues):
                raise TaxonomyError(f"{where}: the cues of theme {entry['id']!r} must be a list of words or phrases.")
            themes.append(Theme(entry["id"], entry.get("description", ""), tuple(cue.strip() for cue in cues)))
        ids = [theme.id for theme in themes]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated or not ids:
            raise TaxonomyError(f"{where}: theme ids must be unique and there must be at least one; repeated: {repeated}.")
        polarities = record.get("polarities", list(POLARITY_VALUES))
        if not isinstance(polarities, list) or sorted(polarities) != sorted(POLARITY_VALUES):
            raise TaxonomyError(
                f"{where}: \"polarities\" must be {list(POLARITY_VALUES)} (in any order); got {polarities!r}. The four values "
                "are fixed: aggregation, the recommendation rule and the mixed-finding model are written in them."
            )
        return cls(record["name"], record["version"], tuple(themes), POLARITY_VALUES, dict(record))


def load_taxonomy(path: str | os.PathLike) -> Taxonomy:
    """A taxonomy from a JSON file (see the module docstring for its form).

    RAISES (TaxonomyError): the file is missing, not JSON, or not a valid taxonomy.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TaxonomyError(f"{path}: cannot read the taxonomy file ({error.strerror or error}).") from error
    except ValueError as error:
        raise TaxonomyError(f"{path}: not valid JSON ({error}).") from error
    return Taxonomy.from_record(record, str(path))


def _default_taxonomy() -> Taxonomy:
    resource = importlib.resources.files(__package__).joinpath("data", DEFAULT_TAXONOMY_FILE)
    return Taxonomy.from_record(json.loads(resource.read_text(encoding="utf-8")), DEFAULT_TAXONOMY_FILE)


DEFAULT_TAXONOMY: Taxonomy = _default_taxonomy()

# The default taxonomy's themes (id -> short scope) and ids, in the order of the schema table.
THEMES: dict[str, str] = DEFAULT_TAXONOMY.descriptions
THEME_IDS: tuple[str, ...] = DEFAULT_TAXONOMY.theme_ids
POLARITIES: tuple[str, ...] = POLARITY_VALUES

# Judgement areas, as keyed in the corpus metadata (`reports.jsonl`), with the names reports give them.
AREA_NAMES: dict[str, str] = {
    "help_and_protection": "Children who need help and protection",
    "children_in_care": "Children in care",
    "care_leavers": "Care leavers",
    "children_in_care_and_care_leavers": "Children in care and care leavers",
    "looked_after_and_permanence": "Children looked after and achieving permanence",
    "adoption": "Adoption performance",
    "impact_of_leaders": "Impact of leaders on social work practice",
    "leadership_management_governance": "Leadership, management and governance",
    "lscb": "Local Safeguarding Children Board",
    # The 2013 inspections of looked-after children services graded these instead.
    "overall_effectiveness_of_services_for_looked_after_children_and_young_people": (
        "Overall effectiveness of services for looked after children and young people"
    ),
    "capacity_to_improve": "Capacity to improve",
    "outcomes_for_looked_after_children_and_young_people": "Outcomes for looked after children and young people",
    "quality_of_provision": "Quality of provision",
    "leadership_and_management": "Leadership and management",
}
AREAS: tuple[str, ...] = tuple(AREA_NAMES)
# Graded entries of a grade table that are not judgement areas of findings.
OVERALL_JUDGEMENTS: tuple[str, ...] = ("overall_effectiveness",)

# Finding kinds produced by segmentation.
KINDS: tuple[str, ...] = ("finding", "summary", "recommendation", "context")

GRADES: tuple[str, ...] = (
    "outstanding",
    "good",
    "requires improvement to be good",
    "adequate",
    "inadequate",
    "not judged",
)
# Ordinal value of each grade for validity analysis (higher is better); "adequate" (2013) sits
# where "requires improvement" later did.
GRADE_SCORES: dict[str, int] = {
    "outstanding": 4,
    "good": 3,
    "requires improvement to be good": 2,
    "adequate": 2,
    "inadequate": 1,
}
