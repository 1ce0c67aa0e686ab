"""Shared measuring helpers for the benchmark scripts."""

from __future__ import annotations

import json
import resource
import time
import tracemalloc
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Measurement:
    """One timed run: how much work, how long (wall clock, and CPU time of this process: per core,
    and steady on a busy machine), and the Python heap it peaked at."""

    name: str
    items: int
    megabytes: float
    seconds: float
    cpu_seconds: float
    peak_heap_mb: float

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds else float("inf")

    @property
    def items_per_cpu_second(self) -> float:
        return self.items / self.cpu_seconds if self.cpu_seconds else float("inf")

    @property
    def megabytes_per_second(self) -> float:
        return self.megabytes / self.seconds if self.seconds else float("inf")

    def row(self) -> dict:
        return {
            **asdict(self),
            "items_per_second": round(self.items_per_second, 2),
            "items_per_cpu_second": round(self.items_per_cpu_second, 2),
            "mb_per_second": round(self.megabytes_per_second, 3),
        }


@contextmanager
def measure(name: str, items: int, megabytes: float, heap: bool = False) -> Iterator[list[Measurement]]:
    """Time the block; the result lands in the yielded list.

    heap (bool): also track the peak Python heap with tracemalloc. It slows Python code several
        times over, so heap runs are separate from timed runs and their seconds are not reported.
    """
    result: list[Measurement] = []
    if heap:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        peak = tracemalloc.get_traced_memory()[1] / 1e6 if heap else float("nan")
        if heap:
            tracemalloc.stop()
        result.append(Measurement(name, items, megabytes, seconds, cpu_seconds, peak))


def process_peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_megabytes(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def print_table(rows: list[dict], columns: tuple[str, ...]) -> None:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(w) for c, w in zip(columns, widths)))


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
