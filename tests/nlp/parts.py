"""What the tests of `label` (local and on Dask) read of a run's per-report parts."""

from __future__ import annotations

from pathlib import Path

from nlp.batch import PARTS_DIR, part_path


def part_identity(outdir: Path, report_id: str) -> tuple[int, int]:
    """Inode and modification time of a report's part: both change when it is written again."""
    stat = part_path(outdir / PARTS_DIR, report_id).stat()
    return stat.st_ino, stat.st_mtime_ns
