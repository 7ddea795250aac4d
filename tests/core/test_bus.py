from __future__ import annotations

import gc
import logging
from dataclasses import dataclass

import pytest

from aggregator.bus import PRIORITY_CORE, PRIORITY_UI, EventBus


@dataclass(frozen=True)
class Base:
    n: int


@dataclass(frozen=True)
class Child(Base):
    pass


def test_handlers_get_events_of_their_class_and_subclasses() -> None:
    bus = EventBus()
    seen: list[tuple[str, int]] = []
    bus.subscribe(Base, lambda e: seen.append(("base", e.n)))
    bus.subscribe(Child, lambda e: seen.append(("child", e.n)))
    bus.publish(Base(1))
    bus.publish(Child(2))
    assert sorted(seen) == [("base", 1), ("base", 2), ("child", 2)]


def test_priority_orders_core_before_ui() -> None:
    bus = EventBus()
    order: list[str] = []
    bus.subscribe(Base, lambda e: order.append("ui"), priority=PRIORITY_UI)
    bus.subscribe(Base, lambda e: order.append("core"), priority=PRIORITY_CORE)
    bus.publish(Base(0))
    assert order == ["core", "ui"]


def test_a_failing_handler_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[int] = []

    def broken(e: Base) -> None:
        raise RuntimeError("boom")

    bus.subscribe(Base, broken)
    bus.subscribe(Base, lambda e: seen.append(e.n))
    with caplog.at_level(logging.ERROR):
        bus.publish(Base(7))
    assert seen == [7]
    assert "boom" in caplog.text


def test_cancel_and_weak_subscriptions() -> None:
    bus = EventBus()
    seen: list[int] = []

    class View:
        def on(self, e: Base) -> None:
            seen.append(e.n)

    view = View()
    bus.subscribe(Base, view.on, weak=True)
    sub = bus.subscribe(Base, lambda e: seen.append(-e.n))
    bus.publish(Base(1))
    sub.cancel()
    del view
    gc.collect()
    bus.publish(Base(2))
    assert seen == [1, -1]
