"""Room tabs like person tabs: named as the buddy list names the room (not its full address), found by
the quick switcher, and reopened at the next start in their place among the tabs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import ROOM, TIMEOUT, open_tab, open_talk, prepare, running
from ui.conversation import ConversationTab
from ui.main_window import MainWindow
from ui.room_tab import RoomTab


def _tabs(window: MainWindow) -> list[str]:
    pane = window.conversations
    return [pane.tabText(i) for i in range(pane.count())]


def _current(window: MainWindow) -> object:
    tab = window.conversations.currentWidget()
    if isinstance(tab, RoomTab):
        return tab.key.handle
    return tab.person.best.handle if isinstance(tab, ConversationTab) else None


def test_room_tabs_are_named_switched_to_and_reopened(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    prepare(w, "room")
    with running(w, qtbot) as session:
        window = session.window
        talk = open_talk(window, qtbot, w, "room")
        assert isinstance(talk.tab, RoomTab)
        bob = open_tab(window, qtbot, w.bob)
        bob_name = bob.person.name
        # The room's name as the buddy list shows it; its address in the tooltip.
        room_index = window.conversations.indexOf(talk.tab)
        assert window.conversations.tabText(room_index) == "team"
        assert ROOM in window.conversations.tabToolTip(room_index)

        # The quick switcher finds the room and opens it.
        window.conversations.removeTab(room_index)
        talk.tab.deleteLater()
        switcher = window.show_switcher()
        QTest.keyClicks(switcher.filter, "tea")
        assert "room " + ROOM in str(switcher.list.currentIndex().data())
        QTest.keyClick(switcher.filter, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: _current(window) == ROOM, timeout=TIMEOUT)
        assert _tabs(window) == [bob_name, "team"]

    # Next start: both tabs come back in order, the room's current.
    with running(w, qtbot) as session:
        window = session.window
        qtbot.waitUntil(lambda: window.conversations.count() == 2, timeout=TIMEOUT)
        assert _tabs(window) == [bob_name, "team"]
        assert _current(window) == ROOM
