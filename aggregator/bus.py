"""A typed event bus: subscribe by event class, publish an instance.

Handlers run in priority order (lower first: the core before the UI), on the publishing thread
(the engine thread). A failing handler is logged and the others still run. A handler subscribed
to a base class also gets its subclasses. Bound methods may be held weakly, so a UI object that
goes away does not stay alive through the bus.
"""

from __future__ import annotations

import itertools
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], None]

PRIORITY_CORE = 0
PRIORITY_DEFAULT = 50
PRIORITY_UI = 100

_counter = itertools.count()


@dataclass(eq=False)
class Subscription:
    event_type: type[Any]
    priority: int
    order: int
    _get: Callable[[], Handler | None]
    _bus: weakref.ref[EventBus] = field(repr=False)

    def cancel(self) -> None:
        bus = self._bus()
        if bus is not None:
            bus._remove(self)


class EventBus:
    def __init__(self) -> None:
        self._subs: dict[type[Any], list[Subscription]] = {}
        self._dispatch_cache: dict[type[Any], list[Subscription]] = {}

    def subscribe(
        self,
        event_type: type[E],
        handler: Callable[[E], None],
        *,
        priority: int = PRIORITY_DEFAULT,
        weak: bool = False,
    ) -> Subscription:
        getter: Callable[[], Handler | None]
        if weak and hasattr(handler, "__self__"):
            ref = weakref.WeakMethod(handler)
            getter = ref
        else:

            def getter() -> Handler:
                return handler

        sub = Subscription(event_type, priority, next(_counter), getter, weakref.ref(self))
        self._subs.setdefault(event_type, []).append(sub)
        self._dispatch_cache.clear()
        return sub

    def _remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.event_type, [])
        if sub in subs:
            subs.remove(sub)
            self._dispatch_cache.clear()

    def _handlers_for(self, event_type: type[Any]) -> list[Subscription]:
        cached = self._dispatch_cache.get(event_type)
        if cached is None:
            cached = [s for t in event_type.__mro__ for s in self._subs.get(t, ())]
            cached.sort(key=lambda s: (s.priority, s.order))
            self._dispatch_cache[event_type] = cached
        return cached

    def publish(self, event: object) -> None:
        dead: list[Subscription] = []
        for sub in self._handlers_for(type(event)):
            handler = sub._get()
            if handler is None:
                dead.append(sub)
                continue
            try:
                handler(event)
            except Exception:
                log.exception("Event handler %r failed on %s", handler, type(event).__name__)
        for sub in dead:
            self._remove(sub)
