"""Typing notices in the conversation tab: theirs shown under the timeline, ours sent while we type."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import TIMEOUT, open_tab, running, wait_connected
from ui.typing_indicator import TypingIndicator, TypingThrottle


def test_their_typing_shows_in_their_tab_and_clears(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running(w, qtbot) as session:
        window = session.window
        wait_connected(window, w, qtbot, w.bob, w.carol)
        carol_tab = open_tab(window, qtbot, w.carol)
        tab = open_tab(window, qtbot, w.bob)
        assert not tab.typing.showing
        assert not tab.banner.isVisible()  # no policy, no banner

        w.on_server(w.server.send_typing(w.bob, w.alice, True))
        qtbot.waitUntil(lambda: tab.typing.text() == f"{tab.person.name} is typing…", timeout=TIMEOUT)
        assert tab.typing.isVisible()
        assert not carol_tab.typing.showing  # only the right tab

        w.on_server(w.server.send_typing(w.bob, w.alice, False))
        qtbot.waitUntil(lambda: not tab.typing.showing, timeout=TIMEOUT)

        w.on_server(w.server.send_typing(w.bob, w.alice, True))
        qtbot.waitUntil(lambda: tab.typing.showing, timeout=TIMEOUT)
        w.on_server(w.server.deliver(w.bob, w.alice, "done typing"))
        qtbot.waitUntil(lambda: "done typing" in tab.view.toPlainText(), timeout=TIMEOUT)
        assert not tab.typing.showing  # their message ends it


def test_a_typing_notice_clears_itself_when_no_news_comes(qtbot: QtBot) -> None:
    indicator = TypingIndicator(timeout_ms=80)
    qtbot.addWidget(indicator)
    indicator.set_typing("Bob", True)
    assert indicator.text() == "Bob is typing…"
    qtbot.waitUntil(lambda: not indicator.showing, timeout=2000)


def test_our_typing_goes_out_throttled_and_stops_when_sent(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running(w, qtbot) as session:
        window = session.window
        wait_connected(window, w, qtbot)
        tab = open_tab(window, qtbot, w.bob)
        QTest.keyClicks(tab.input, "hello there")
        qtbot.waitUntil(lambda: (w.alice, w.bob, True) in w.server.typing_log, timeout=TIMEOUT)
        assert w.server.typing_log == [(w.alice, w.bob, True)]  # eleven keys, one notice
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.server.typing_log[-1:] == [(w.alice, w.bob, False)], timeout=TIMEOUT)
        qtbot.waitUntil(lambda: any(m.body == "hello there" for m in w.server.received(w.alice)), timeout=TIMEOUT)


def test_the_throttle_refreshes_while_typing_and_stops_when_idle(qtbot: QtBot) -> None:
    throttle = TypingThrottle(idle_ms=150, refresh_ms=0)
    states: list[bool] = []
    throttle.changed.connect(states.append)
    throttle.edited(False)
    throttle.edited(False)
    assert states == [True, True]  # refresh_ms=0: every edit refreshes
    qtbot.waitUntil(lambda: states == [True, True, False], timeout=2000)
    throttle.edited(False)
    throttle.edited(True)  # emptied: stops at once
    assert states == [True, True, False, True, False]
