"""Small helpers shared by the benchmarks: percentiles and a machine description."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def machine() -> str:
    try:
        with open("/etc/debian_version", encoding="utf-8") as fh:
            distro = f"Debian {fh.read().strip()}"
    except OSError:
        distro = platform.platform()
    return f"{distro}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"


def ratio(project: float, baseline: float) -> str:
    return f"{project / baseline:.2f}x" if baseline > 0 else "n/a"
