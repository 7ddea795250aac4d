"""``EventCollector``: an ``EventSink`` for tests that records events and lets a test wait for one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from aggregator.api import AdapterEvent, MessageReceived, PositionReached

E = TypeVar("E", bound=AdapterEvent)


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

    async def settle(self, seconds: float = 0.3) -> None:
        """Waits a moment so that any event still in flight (e.g. a duplicate) is recorded."""
        await asyncio.sleep(seconds)

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
