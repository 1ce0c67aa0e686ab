"""Where the shared report corpus lives, its metadata index (`reports.jsonl`), and its findings."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

CORPUS_ENV = "INSPECTION_THEMES_CORPUS"


def corpus_dir() -> Path:
    """The corpus folder: `$INSPECTION_THEMES_CORPUS`, else `../shared/corpus` beside the repository."""
    configured = os.environ.get(CORPUS_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "corpus"


@lru_cache(maxsize=4)
def load_corpus_index(corpus: Path) -> dict[str, dict]:
    """Report id -> metadata record of `reports.jsonl`."""
    with open(corpus / "reports.jsonl", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return {record["id"]: record for record in records}


def corpus_findings(corpus: Path, report_ids: Iterable[str] | None = None) -> Iterator[dict]:
    """The findings of the corpus's text reports, as the pipeline's findings component gives them.

    Each record is a `segment` record (`nlp.pipeline.finding_records`) with `id` = `<report_id>#<index>`
    and the report's `local_authority`, `framework`, `year` (of publication) and `overall_judgement`
    from reports.jsonl. Reports come in id order; `report_ids` limits them.
    """
    from .ingest import read_report
    from .pipeline import finding_records, make_segmenter, segment_reports

    index = load_corpus_index(corpus)
    wanted = sorted(index if report_ids is None else set(report_ids))
    reports = (read_report(corpus / "text" / f"{report_id}.txt") for report_id in wanted)
    for doc in segment_reports(reports, make_segmenter()):
        meta = index[doc._.report["report_id"]]
        for record in finding_records(doc):
            yield {
                "id": f"{record['report_id']}#{record['index']}",
                **record,
                "local_authority": meta["local_authority"],
                "framework": meta["framework"],
                "year": int(meta["published"][:4]),
                "overall_judgement": meta["overall_judgement"],
            }
