"""Seeds of the chaos suite: which runs a test does, and where each one strikes.

Every random choice of a chaos test (the message at which the client is killed, the log file during
which an import is killed) comes from ``random.Random(seed)``, so a failing seed replays the same
choices: ``CHAOS_SEEDS=7 scripts/test tests/chaos -k flood``.

- By default each case runs the seeds in ``DEFAULT_SEEDS`` (what CI runs through ``.ci/run``).
- ``LONG_SEEDS`` are marked ``chaos_long``; they are deselected unless asked for with
  ``-m chaos_long`` (or any ``-m`` expression naming it) or ``CHAOS_LONG=1``.
- ``CHAOS_SEEDS=1,2,3`` replaces both lists: exactly those seeds run, unmarked.
"""

from __future__ import annotations

import os
import random

import pytest
from _pytest.mark.structures import ParameterSet

DEFAULT_SEEDS = (1,)
LONG_SEEDS = (2, 3, 4, 5, 6)


def seed_params() -> list[ParameterSet]:
    """The ``seed`` parameters of a chaos test (see the module docstring)."""
    chosen = os.environ.get("CHAOS_SEEDS", "").strip()
    if chosen:
        return [pytest.param(int(s), id=f"seed{int(s)}") for s in chosen.split(",") if s.strip()]
    return [pytest.param(s, id=f"seed{s}") for s in DEFAULT_SEEDS] + [
        pytest.param(s, id=f"seed{s}", marks=pytest.mark.chaos_long) for s in LONG_SEEDS
    ]


def rng(seed: int, case: str) -> random.Random:
    """The random source of one case and seed (the case name keeps cases independent of each other)."""
    return random.Random(f"{case}:{seed}")
