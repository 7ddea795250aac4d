"""A running core on the engine thread, for the CLI: the same engine and application layer the GUI uses."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from aggregator.api import AggregatorError
from aggregator.app.application import App, open_app
from aggregator.app.runtime import EngineThread, ProfilePaths

SHUTDOWN_TIMEOUT = 60.0


async def _build(paths: ProfilePaths, database_url: str | None) -> App:
    return open_app(paths, database_url=database_url)


@contextlib.contextmanager
def running_app(paths: ProfilePaths, database_url: str | None = None) -> Iterator[tuple[EngineThread, App]]:
    """``database_url``: the archive's database (None: the ``database_url`` setting or the profile's file)."""
    engine = EngineThread()
    engine.start()
    try:
        app = engine.call(_build(paths, database_url))
        try:
            yield engine, app
        finally:
            try:
                engine.call(app.stop(), timeout=SHUTDOWN_TIMEOUT)
            except TimeoutError:
                raise AggregatorError(
                    f"stopping took longer than {SHUTDOWN_TIMEOUT:.0f} s; the archive may not be closed cleanly "
                    "(it is checked at the next start)"
                ) from None
    finally:
        engine.stop()
