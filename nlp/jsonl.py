"""JSON lines in and out. Writes are atomic, so an interrupted run never leaves half a file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator


def write_jsonl(records: Iterable[dict], path: str | os.PathLike) -> int:
    """Write records to `path` through a temporary file renamed into place; return how many."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    count = 0
    with open(tmp, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    os.replace(tmp, path)
    return count


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield (line number, record) for each non-blank line; a malformed line raises ValueError naming it."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                # A byte-order mark, which some editors write, may start the first line.
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{path}:{number}: not UTF-8 text ({error.reason} at byte {error.start} of the line); save the file as UTF-8."
                ) from error
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not valid JSON ({error.msg}); each line must be one JSON object.") from error
