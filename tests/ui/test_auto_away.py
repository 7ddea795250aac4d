"""Auto-away where the desktop has no idle monitor: typing and clicking in the app's windows count as
activity (the accounts stay, or come back, available), and the status box says what the accounts
really show ("Away (auto)") while auto-away holds them."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from aggregator.api import PresenceKind, Sphere
from aggregator.core import Core
from aggregator.presence.idle import AppInputIdle
from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import TIMEOUT, open_tab, wait_connected
from tests.ui.sessions import core_of, on_engine, running_session
from ui.activity import ActivityWatch
from ui.status_selector import shown_overall


def test_typing_in_the_window_ends_auto_away_without_a_desktop_idle_monitor(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running_session(w, qtbot) as s:
        window = s.window
        strip, selector = window.accounts_strip, window.status_selector
        wait_connected(window, w, qtbot)
        qtbot.waitUntil(lambda: strip.presence_text(w.account_id) == "available", timeout=TIMEOUT)
        window.activity.every = 0.0  # report every input (the test's clock below jumps ahead)

        # No desktop idle monitor: the app's own input is what auto-away has (with the test's clock).
        now = [1000.0]

        def no_desktop(core: Core) -> None:
            own = AppInputIdle(clock=lambda: now[0])
            core.status.app_input = own
            core.status._idle_source = own

        on_engine(s, no_desktop)
        status = core_of(s).status
        s.engine.call(status.replace_book(replace(status.book, auto_away_minutes=1)), timeout=10)

        # Two quiet minutes: away, and the status box says so.
        now[0] += 120
        s.engine.call(status.tick(), timeout=10)
        qtbot.waitUntil(lambda: strip.presence_text(w.account_id) == "away", timeout=TIMEOUT)
        assert w.server._users[w.alice].presence[0] == "away"
        qtbot.waitUntil(lambda: selector.combo.currentText() == "Away (auto)", timeout=TIMEOUT)
        assert "You chose Available" in selector.combo.toolTip()

        # The user types in a conversation: back at once, and the box says Available again.
        tab = open_tab(window, qtbot, w.bob)
        QTest.keyClicks(tab.input, "on my way")
        qtbot.waitUntil(lambda: strip.presence_text(w.account_id) == "available", timeout=TIMEOUT)
        assert w.server._users[w.alice].presence[0] == "available"
        qtbot.waitUntil(lambda: selector.combo.currentText() == "Available", timeout=TIMEOUT)

        # Typing keeps it so: three more minutes, but the last key press was just now.
        now[0] += 180
        QTest.keyClick(tab.input, Qt.Key.Key_Period)
        s.engine.call(status.tick(), timeout=10)
        assert on_engine(s, lambda c: c.status.shown(w.account_id)).kind.value == "available"

        # Every account busy by the user's own scope choice: the box says Busy, not "(auto)".
        selector.set_scope(PresenceKind.BUSY, sphere=Sphere.WORK)
        qtbot.waitUntil(lambda: selector.combo.currentText() == "Busy", timeout=TIMEOUT)
        assert "as set for the spheres and accounts" in selector.combo.toolTip()


def test_input_is_reported_at_most_every_few_seconds(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLineEdit

    clock = [0.0]
    reports: list[float] = []
    watch = ActivityWatch(lambda: reports.append(clock[0]), clock=lambda: clock[0], every=5.0)
    field = QLineEdit()
    qtbot.addWidget(field)
    field.installEventFilter(watch)
    QTest.keyClicks(field, "abc")
    clock[0] = 4.0
    QTest.keyClick(field, Qt.Key.Key_D)
    clock[0] = 6.0
    QTest.keyClick(field, Qt.Key.Key_E)
    assert reports == [0.0, 6.0] and field.text() == "abcde"  # never swallowed


def test_the_status_box_shows_what_every_account_shows() -> None:
    from aggregator.api import PresenceKind as K

    assert shown_overall(K.AVAILABLE, [K.AWAY, K.AWAY]) is K.AWAY
    assert shown_overall(K.AVAILABLE, [K.AWAY, K.AVAILABLE]) is K.AVAILABLE
    assert shown_overall(K.AVAILABLE, [K.EXTENDED_AWAY]) is K.AWAY
    assert shown_overall(K.BUSY, [K.BUSY, K.AVAILABLE]) is K.BUSY
    assert shown_overall(K.AVAILABLE, []) is K.AVAILABLE
