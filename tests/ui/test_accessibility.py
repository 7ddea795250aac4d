"""The accessibility and keyboard audit: named controls everywhere, and Tab reaches the main controls."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.accessibility import unnamed_controls
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import running_session
from ui.app import Session
from ui.conversation import ConversationTab


def test_the_audit_finds_unnamed_controls(qtbot: QtBot) -> None:
    root = QWidget()
    qtbot.addWidget(root)
    QLineEdit(root)
    QLineEdit(root).setAccessibleName("Named")
    QPushButton("Has a text", root)
    QPushButton(root)
    QSpinBox(root)  # its inner line edit is part of the spin box
    buddy = QLineEdit(root)
    QLabel("Server:", root).setBuddy(buddy)
    assert sorted(unnamed_controls(root)) == ["QLineEdit", "QPushButton", "QSpinBox"]


def _open_bob(session: Session, qtbot: QtBot, bob: str) -> None:
    window = session.window
    qtbot.waitUntil(lambda: any(p.best.handle == bob for p in window.model.persons()), timeout=10_000)
    person = next(p for p in window.model.persons() if p.best.handle == bob)
    assert window.open_person(person.id) is not None


def test_every_control_has_an_accessible_name(gui_world: GuiWorld, qtbot: QtBot) -> None:
    with running_session(gui_world, qtbot) as s:
        _open_bob(s, qtbot, gui_world.bob)
        qtbot.waitUntil(lambda: len(s.window.status_selector.accounts) == 1, timeout=5000)
        windows: dict[str, QWidget] = {"main window": s.window}
        windows["log viewer"] = s.windows.show_log_viewer()
        accounts = s.windows.show_accounts()
        windows["accounts dialog"] = accounts
        editor = accounts.editor()
        for index in range(editor.protocol.count()):  # every protocol's generated fields
            editor.protocol.setCurrentIndex(index)
            editor_problems = unnamed_controls(editor)
            assert not editor_problems, f"account editor, {editor.protocol.currentText()}: {editor_problems}"
        windows["quick switcher"] = s.window.show_switcher()
        problems = {name: unnamed_controls(w) for name, w in windows.items()}
        assert {name: p for name, p in problems.items() if p} == {}


def test_tab_reaches_the_main_controls(gui_world: GuiWorld, qtbot: QtBot) -> None:
    with running_session(gui_world, qtbot) as s:
        window = s.window
        _open_bob(s, qtbot, gui_world.bob)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        tab = window.conversations.currentWidget()
        assert isinstance(tab, ConversationTab)
        window.filter.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is window.filter, timeout=5000)
        reached: list[QWidget] = []
        for _ in range(40):
            widget = QApplication.focusWidget()
            assert widget is not None
            reached.append(widget)
            QTest.keyClick(widget, Qt.Key.Key_Tab)
            if QApplication.focusWidget() is window.filter:
                break
        else:
            raise AssertionError(f"Tab never came back to the filter: {[type(w).__name__ for w in reached]}")
        assert window.tree in reached
        assert window.status_selector.combo in reached
        assert window.status_selector.message in reached
        assert tab.input in reached
        # Tab leaves the message input instead of typing a tab into it.
        assert "\t" not in tab.input.toPlainText()
