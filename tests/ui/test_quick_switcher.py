"""Ctrl+K: the quick switcher's model (under QAbstractItemModelTester), its keys, and the real window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester, QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.conftest import GuiWorld
from tests.ui.rowfactory import person
from tests.ui.sessions import running_session
from ui.conversation import ConversationTab
from ui.models.switcher_model import OPEN_ROLE, PERSON_ID_ROLE, SwitcherModel
from ui.quick_switcher import QuickSwitcher

FAIL = QAbstractItemModelTester.FailureReportingMode.Fatal

PEOPLE = [
    person(1, "Zoe Adams", handles=("zoe@corp.test",)),
    person(2, "Adam Smith", handles=("adam@home.test", "asmith@corp.test")),
    person(3, "Carol Danvers", handles=("cdanvers@home.test",), unread=2),
    person(4, "Madame Lee", handles=("lee@home.test",)),
]


def names(model: SwitcherModel) -> list[int]:
    return [int(model.index(r, 0).data(PERSON_ID_ROLE)) for r in range(model.rowCount())]


def test_matching_and_order(qtbot: QtBot) -> None:
    model = SwitcherModel()
    QAbstractItemModelTester(model, FAIL)
    model.set_persons(PEOPLE, open_ids=[4])
    # Nothing typed: the open conversation first, then unread, then by name.
    assert names(model) == [4, 3, 2, 1]
    assert model.index(0, 0).data(OPEN_ROLE) is True
    assert model.index(0, 0).data() == "Madame Lee, open   \u2014 lee@home.test \u00b7 Personal"
    assert model.index(1, 0).data() == "Carol Danvers (2 unread)   \u2014 cdanvers@home.test \u00b7 Personal"
    model.set_text("ada")
    # Open first (Madame: substring), then name prefix (Adam), word prefix (Zoe Adams), fuzzy (cArol DAnvers).
    assert names(model) == [4, 2, 1, 3]
    model.set_text("  CORP ")  # addresses, case and spaces do not matter
    assert names(model) == [2, 1]
    model.set_text("cdv")  # fuzzy: C(arol) D(an)V(ers)
    assert names(model) == [3]
    model.set_text("nobody")
    assert names(model) == []
    model.set_persons(PEOPLE[:2], open_ids=[])
    model.set_text("")
    assert names(model) == [2, 1]


def test_keys_move_enter_opens_escape_closes(qtbot: QtBot) -> None:
    dialog = QuickSwitcher(PEOPLE, [], None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    QTest.keyClicks(dialog.filter, "home")
    assert names(dialog.model) == [3, 2, 4]  # equal matches: unread first
    assert dialog.list.currentIndex().row() == 0
    QTest.keyClick(dialog.filter, Qt.Key.Key_Down)
    QTest.keyClick(dialog.filter, Qt.Key.Key_Down)
    QTest.keyClick(dialog.filter, Qt.Key.Key_Down)  # stays on the last
    QTest.keyClick(dialog.filter, Qt.Key.Key_Up)
    assert dialog.list.currentIndex().row() == 1
    with qtbot.waitSignal(dialog.chosen, timeout=1000) as chosen:
        QTest.keyClick(dialog.filter, Qt.Key.Key_Return)
    assert chosen.args == [2]
    assert not dialog.isVisible()

    other = QuickSwitcher(PEOPLE, [], None)
    qtbot.addWidget(other)
    other.show()
    qtbot.waitExposed(other)
    QTest.keyClicks(other.filter, "nobody")
    assert other.empty.isVisibleTo(other)
    with qtbot.assertNotEmitted(other.chosen):
        QTest.keyClick(other.filter, Qt.Key.Key_Return)
        QTest.keyClick(other.filter, Qt.Key.Key_Escape)
    assert not other.isVisible()


def test_ctrl_k_in_the_window_opens_the_conversation_and_ctrl_f_still_searches(
    gui_world: GuiWorld, qtbot: QtBot
) -> None:
    w = gui_world
    with running_session(w, qtbot) as s:
        window = s.window
        qtbot.waitUntil(lambda: any(p.best.handle == w.carol for p in window.model.persons()), timeout=10_000)
        carol = next(p for p in window.model.persons() if p.best.handle == w.carol)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        window.tree.setFocus()
        QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        switcher = window.findChild(QuickSwitcher)
        assert switcher is not None and switcher.isVisible()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is switcher.filter, timeout=5000)
        QTest.keyClicks(switcher.filter, w.carol.split("@")[0])
        QTest.keyClick(switcher.filter, Qt.Key.Key_Return)
        tab = window.conversations.currentWidget()
        assert isinstance(tab, ConversationTab) and tab.person.id == carol.id
        assert not switcher.isVisible()

        # Ctrl+F: the log viewer, as before.
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        assert s.windows.log_viewer is not None and s.windows.log_viewer.isVisible()
