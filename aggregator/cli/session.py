"""A running core on the engine thread, for the CLI: the same engine the GUI uses."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from aggregator.app.runtime import EngineThread, ProfilePaths
from aggregator.bootstrap import build_core
from aggregator.core import Core


async def _build(paths: ProfilePaths, database_url: str | None) -> Core:
    return build_core(paths, database_url=database_url)


async def _shutdown(core: Core) -> None:
    await core.stop()
    core.close()


@contextlib.contextmanager
def running_core(paths: ProfilePaths, database_url: str | None = None) -> Iterator[tuple[EngineThread, Core]]:
    """``database_url``: the archive's database (None: the ``database_url`` setting or the profile's file)."""
    engine = EngineThread()
    engine.start()
    try:
        core = engine.call(_build(paths, database_url))
        try:
            yield engine, core
        finally:
            engine.call(_shutdown(core), timeout=60)
    finally:
        engine.stop()
