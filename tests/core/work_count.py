"""Counting the work a piece of the engine does, instead of timing it: the SQLite virtual machine's
steps (a progress handler, one tick per 100 instructions) and the Python calls (a profile hook) made
on this thread. Deterministic enough to compare two runs with generous bounds on a shared machine."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from aggregator.core import Core


@dataclass
class Work:
    sqlite_steps: int = 0
    python_calls: int = 0


def raw_sqlite(core: Core) -> sqlite3.Connection:
    raw = core.archive._connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


@contextlib.contextmanager
def counting(core: Core) -> Iterator[Work]:
    work = Work()

    def step() -> int:
        work.sqlite_steps += 1
        return 0

    def call(_frame: FrameType, event: str, _arg: object) -> None:
        if event in ("call", "c_call"):
            work.python_calls += 1

    raw = raw_sqlite(core)
    raw.set_progress_handler(step, 100)
    sys.setprofile(call)
    try:
        yield work
    finally:
        sys.setprofile(None)
        raw.set_progress_handler(None, 0)
