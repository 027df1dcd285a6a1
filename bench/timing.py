"""Median and p99 of timed samples, and one result row per measured figure."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import Any


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 1,000 samples is the 990th smallest)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Figure:
    """One measured figure against its target, as the README table shows it."""

    benchmark: str
    database: str  # "sqlite", "postgresql" or "-"
    samples: int
    median: float | None  # None: nothing to count (no leak)
    p99: float | None
    unit: str  # "ms", "s", "straps/s", "MB", "scans"
    target: str  # in words, e.g. "p99 <= 10 ms"
    met: bool | None  # None: no target of its own (a baseline)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def timed(
    benchmark: str,
    database: str,
    samples_ms: list[float],
    *,
    limit_ms: float | None,
    target: str = "",
    note: str = "",
) -> Figure:
    """A latency figure: met when p99 is at most `limit_ms`."""
    p99 = percentile(samples_ms, 0.99)
    return Figure(
        benchmark=benchmark,
        database=database,
        samples=len(samples_ms),
        median=round(statistics.median(samples_ms), 3),
        p99=round(p99, 3),
        unit="ms",
        target=target or (f"p99 <= {limit_ms:g} ms" if limit_ms is not None else "baseline"),
        met=None if limit_ms is None else p99 <= limit_ms,
        note=note,
    )


def single(
    benchmark: str,
    database: str,
    value: float,
    unit: str,
    *,
    digits: int = 2,
    target: str = "-",
    met: bool | None = None,
    note: str = "",
) -> Figure:
    """A figure worked out once (a rate, a CPU share): median and p99 are the one value."""
    shown = round(value, digits)
    return Figure(benchmark, database, 1, shown, shown, unit, target, met, note)


def counted(
    benchmark: str,
    database: str,
    counts: list[int],
    unit: str,
    *,
    target: str = "baseline",
    met: bool | None = None,
    note: str = "",
) -> Figure:
    """A figure sampled as counts (connections, processes): their median and p99."""
    median = float(statistics.median(counts))
    p99 = float(percentile([float(c) for c in counts], 0.99))
    return Figure(benchmark, database, len(counts), median, p99, unit, target, met, note)
