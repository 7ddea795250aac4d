"""A running core on the engine thread, for the CLI: the same engine the GUI uses."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.engine import EngineThread
from aggregator.paths import ProfilePaths


async def _build(paths: ProfilePaths) -> Core:
    return build_core(paths)


async def _shutdown(core: Core) -> None:
    await core.stop()
    core.close()


@contextlib.contextmanager
def running_core(paths: ProfilePaths) -> Iterator[tuple[EngineThread, Core]]:
    engine = EngineThread()
    engine.start()
    try:
        core = engine.call(_build(paths))
        try:
            yield engine, core
        finally:
            engine.call(_shutdown(core), timeout=60)
    finally:
        engine.stop()
