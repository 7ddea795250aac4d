"""``EventCollector``: an ``EventSink`` for tests that records events and lets a test wait for one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from aggregator.api import AdapterEvent, MessageReceived, PositionReached

E = TypeVar("E", bound=AdapterEvent)

TESTS = Path(__file__).resolve().parent.parent


class EventCollector:
    """Records every event; ``await wait_for(MessageReceived, lambda e: e.body == "hi")``."""

    def __init__(self) -> None:
        self.events: list[AdapterEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: AdapterEvent, /) -> None:
        self.events.append(event)
        self._changed.set()

    def of_type(self, event_type: type[E], predicate: Callable[[E], bool] | None = None) -> list[E]:
        """The recorded events of ``event_type`` that match ``predicate``, in order."""
        return [
            event for event in self.events if isinstance(event, event_type) and (predicate is None or predicate(event))
        ]

    async def wait_for(
        self,
        event_type: type[E],
        predicate: Callable[[E], bool] | None = None,
        timeout: float = 10.0,
    ) -> E:
        """The first recorded event (already seen or still to come) of ``event_type`` matching ``predicate``.

        Raises ``AssertionError`` listing the events seen when none comes within ``timeout``.
        """
        try:
            async with asyncio.timeout(timeout):
                while True:
                    found = self.of_type(event_type, predicate)
                    if found:
                        return found[0]
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            seen = "\n  ".join(repr(event) for event in self.events[-20:]) or "(none)"
            raise AssertionError(
                f"no {event_type.__name__} matching the predicate within {timeout:g} s; last events:\n  {seen}"
            ) from None

    def clear(self) -> None:
        self.events.clear()


def stored_positions(*sinks: EventCollector) -> dict[str, str]:
    """What the core would store from these sinks' events, in order: the last catch-up position per
    stream (``MessageReceived.position`` and ``PositionReached``), to hand to ``resume_from``."""
    stored: dict[str, str] = {}
    for sink in sinks:
        for event in sink.events:
            position = event.position if isinstance(event, MessageReceived | PositionReached) else None
            if position is not None:
                stored[position.stream] = position.value
    return stored


def _test_helper_task(task: asyncio.Task[object]) -> bool:
    """A task of the tests' own (a peer's reader, a server), not of the code under test."""
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and Path(code.co_filename).is_relative_to(TESTS)


async def tasks_finished(before: set[asyncio.Task[object]], timeout: float = 10.0) -> None:
    """The sync point after a disconnect: every task started since ``before`` (an ``asyncio.all_tasks()``
    taken before connecting), other than the tests' own helpers, has ended, so nothing is left that could
    still emit an event.

    Raises ``AssertionError`` naming the tasks still running after ``timeout``.
    """
    current = asyncio.current_task()

    def running() -> list[asyncio.Task[object]]:
        return [
            t for t in asyncio.all_tasks() - before if t is not current and not t.done() and not _test_helper_task(t)
        ]

    try:
        async with asyncio.timeout(timeout):
            while left := running():
                await asyncio.wait(left, return_when=asyncio.FIRST_COMPLETED)
    except TimeoutError:
        names = [f"{t.get_name()} {t.get_coro()!r}" for t in running()]
        raise AssertionError(f"tasks still running {timeout:g} s after the disconnect: {names}") from None
