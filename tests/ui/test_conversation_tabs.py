"""Moving between conversation tabs by keyboard, closing them, and reopening them at the next start."""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import TIMEOUT, open_tab, running, wait_connected
from ui.conversation import ConversationPane, ConversationTab
from ui.tab_memory import CURRENT_KEY, CURRENT_TAB_KEY, OPEN_KEY, TABS_KEY

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def _names(pane: ConversationPane) -> list[str]:
    return [t.person.best.handle for t in pane.tabs()]


def _current(pane: ConversationPane) -> str:
    tab = pane.currentWidget()
    assert isinstance(tab, ConversationTab)
    return tab.person.best.handle


def _focused() -> QWidget:
    from PySide6.QtWidgets import QApplication

    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def test_tab_keys_move_and_close_and_tabs_come_back(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running(w, qtbot) as session:
        window = session.window
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)
        wait_connected(window, w, qtbot, w.bob, w.carol)
        pane = window.conversations
        open_tab(window, qtbot, w.bob)
        open_tab(window, qtbot, w.carol)
        assert _names(pane) == [w.bob, w.carol] and _current(pane) == w.carol

        QTest.keyClick(_focused(), Qt.Key.Key_Tab, CTRL)
        assert _current(pane) == w.bob
        QTest.keyClick(_focused(), Qt.Key.Key_Tab, CTRL)  # wraps around
        assert _current(pane) == w.carol
        QTest.keyClick(_focused(), Qt.Key.Key_Backtab, CTRL | SHIFT)
        assert _current(pane) == w.bob
        QTest.keyClick(_focused(), Qt.Key.Key_PageDown, CTRL)
        assert _current(pane) == w.carol
        QTest.keyClick(_focused(), Qt.Key.Key_PageUp, CTRL)
        assert _current(pane) == w.bob

        open_tab(window, qtbot, w.carol)
        window.open_person(next(p.id for p in window.model.persons() if p.best.handle == w.bob))
        assert _current(pane) == w.bob

    # Next start: both tabs reopen in order, bob's current.
    with running(w, qtbot) as session:
        window = session.window
        pane = window.conversations
        qtbot.waitUntil(lambda: len(pane.tabs()) == 2, timeout=TIMEOUT)
        assert _names(pane) == [w.bob, w.carol] and _current(pane) == w.bob
        assert window.right.currentWidget() is pane
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)
        pane.currentWidget().setFocus()
        QTest.keyClick(_focused(), Qt.Key.Key_W, CTRL)
        qtbot.waitUntil(lambda: _names(pane) == [w.carol], timeout=TIMEOUT)
        QTest.keyClick(_focused(), Qt.Key.Key_W, CTRL)
        qtbot.waitUntil(lambda: pane.tabs() == [], timeout=TIMEOUT)
        assert window.right.currentWidget() is window.placeholder

    # Nothing was open at the end: nothing reopens.
    with running(w, qtbot) as session:
        window = session.window
        qtbot.waitUntil(lambda: bool(window.model.persons()), timeout=TIMEOUT)
        assert window.conversations.tabs() == []
        bob_id = next(p.id for p in window.model.persons() if p.best.handle == w.bob)

    # A remembered person that is gone meanwhile is skipped; the others reopen.
    settings = QSettings(str(w.paths.config_dir / "ui.ini"), QSettings.Format.IniFormat)
    settings.setValue(TABS_KEY, json.dumps([{"person": 987654321}, {"person": bob_id}]))
    settings.setValue(CURRENT_TAB_KEY, "0")
    settings.sync()
    with running(w, qtbot) as session:
        pane = session.window.conversations
        qtbot.waitUntil(lambda: len(pane.tabs()) == 1, timeout=TIMEOUT)
        assert _names(pane) == [w.bob] and _current(pane) == w.bob

    # The person tabs as earlier versions remembered them still reopen.
    settings.remove(TABS_KEY)
    settings.setValue(OPEN_KEY, f"987654321,{bob_id}")
    settings.setValue(CURRENT_KEY, "987654321")
    settings.sync()
    with running(w, qtbot) as session:
        pane = session.window.conversations
        qtbot.waitUntil(lambda: len(pane.tabs()) == 1, timeout=TIMEOUT)
        assert _names(pane) == [w.bob] and _current(pane) == w.bob
