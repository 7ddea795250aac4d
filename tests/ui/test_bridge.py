"""The bridge: events from the engine thread arrive on the GUI thread; calls never block."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from aggregator.bus import EventBus
from aggregator.engine import EngineThread
from aggregator.events import AccountStateChanged, ConnectionState
from ui.bridge import Bridge
from ui.richtext import linkify


@pytest.fixture
def engine() -> Iterator[EngineThread]:
    e = EngineThread("test-engine")
    e.start()
    yield e
    e.stop()


def test_events_are_delivered_on_the_gui_thread(engine: EngineThread, qtbot: QtBot) -> None:
    bridge = Bridge(engine)
    bus = EventBus()

    async def attach() -> None:
        bridge.attach(bus)

    engine.call(attach())
    seen: list[tuple[object, bool]] = []
    bridge.account_state.connect(lambda e: seen.append((e, threading.current_thread() is threading.main_thread())))
    event = AccountStateChanged(account_id="fake:a@b", state=ConnectionState.FAILED, reason="wrong password")
    engine.call_soon(bus.publish, event)
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=2000)
    assert seen == [(event, True)]


def test_call_delivers_result_and_error_without_blocking(engine: EngineThread, qtbot: QtBot) -> None:
    bridge = Bridge(engine)
    results: list[tuple[object, object, bool]] = []

    def done(result: object, error: BaseException | None) -> None:
        results.append((result, error, threading.current_thread() is threading.main_thread()))

    async def slow() -> int:
        await asyncio.sleep(0.2)
        return 42

    async def boom() -> int:
        raise ValueError("nope")

    bridge.call(slow(), done)
    assert results == []  # returned at once
    bridge.call(boom(), done)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=2000)
    assert isinstance(results[0][1], ValueError) and results[0][2]
    assert results[1] == (42, None, True)


def test_message_bodies_never_become_markup() -> None:
    out = linkify('<script>alert(1)</script> <b>x</b> http://a.test/"onclick=x&y=1 done.\nnext')
    assert "<script>" not in out and "<b>" not in out
    assert out.startswith("&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;x&lt;/b&gt; ")
    assert '<a href="http://a.test/">http://a.test/</a>&quot;onclick=x&amp;y=1 done.<br>next' in out
    assert linkify("javascript:alert(1)") == "javascript:alert(1)"
