"""Files dropped or pasted on the message box are refused with a note: their local path never becomes
message text (it would tell the peer the user's file system layout) until sending files lands."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from pytestqt.qtbot import QtBot

from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import KINDS, TIMEOUT, open_talk, prepare, running
from tests.ui.sessions import engine_round_trip


def _drop(target: QPlainTextEdit, mime: QMimeData) -> None:
    """A drag from a file manager, entering the message box and dropped in it."""
    viewport = target.viewport()
    at = QPointF(10, 10)
    action = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(viewport, QDragEnterEvent(at.toPoint(), action, mime, buttons, mods))
    QApplication.sendEvent(viewport, QDragMoveEvent(at.toPoint(), action, mime, buttons, mods))
    QApplication.sendEvent(viewport, QDropEvent(at, action, mime, buttons, mods))


@pytest.mark.parametrize("kind", KINDS)
def test_a_dropped_or_pasted_file_is_refused_with_a_note(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path, kind: str
) -> None:
    w = gui_world
    prepare(w, kind)
    secret = tmp_path / "private" / "salary 2026.pdf"
    with running(w, qtbot) as session:
        talk = open_talk(session.window, qtbot, w, kind)
        tab = talk.tab
        note = tab.composer.note

        files = QMimeData()
        files.setUrls([QUrl.fromLocalFile(str(secret))])
        files.setText(str(secret))  # file managers offer the path as text too
        _drop(tab.input, files)
        assert tab.input.toPlainText() == ""
        assert note.isVisible() and "Sending files is not supported yet" in note.text()

        # A file:// URL as plain text, pasted.
        QApplication.clipboard().setText(QUrl.fromLocalFile(str(secret)).toString())
        tab.input.setFocus()
        tab.input.paste()
        assert tab.input.toPlainText() == ""

        # Enter sends nothing; ordinary text still goes in and out.
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        web = QMimeData()
        web.setText("see the report")
        _drop(tab.input, web)
        assert tab.input.toPlainText() == "see the report"
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(talk.sent()), timeout=TIMEOUT)
        engine_round_trip(session, qtbot)
        assert [m.body for m in talk.sent()] == ["see the report"]
        assert not any(str(tmp_path) in m.body for m in talk.sent())
