"""Files dropped or pasted on the message box are sent as files, never as text: their local path never
becomes message text (it would tell the peer the user's file system layout). On the fake test server,
which carries no files, the file's message fails with the reason, named by the file's name only."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractScrollArea, QApplication
from pytestqt.qtbot import QtBot

from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import KINDS, TIMEOUT, open_talk, prepare, running
from tests.ui.sessions import engine_round_trip


def _drop(target: QAbstractScrollArea, mime: QMimeData) -> None:
    """A drag from a file manager, entering the message box and dropped in it."""
    viewport = target.viewport()
    at = QPointF(10, 10)
    action = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(viewport, QDragEnterEvent(at.toPoint(), action, mime, buttons, mods))
    QApplication.sendEvent(viewport, QDragMoveEvent(at.toPoint(), action, mime, buttons, mods))
    QApplication.sendEvent(viewport, QDropEvent(at, action, mime, buttons, mods))


@pytest.mark.parametrize("kind", KINDS)
def test_a_dropped_or_pasted_file_is_sent_as_a_file_never_as_its_path(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path, kind: str
) -> None:
    w = gui_world
    prepare(w, kind)
    secret = tmp_path / "private" / "salary 2026.pdf"
    secret.parent.mkdir()
    secret.write_bytes(b"%PDF-1.4 salaries")
    with running(w, qtbot) as session:
        talk = open_talk(session.window, qtbot, w, kind)
        tab = talk.tab

        files = QMimeData()
        files.setUrls([QUrl.fromLocalFile(str(secret))])
        files.setText(str(secret))  # file managers offer the path as text too
        _drop(tab.input, files)
        assert tab.input.toPlainText() == ""
        qtbot.waitUntil(lambda: any(m.body == "salary 2026.pdf" for m in tab.model.messages), timeout=TIMEOUT)
        assert not any(str(tmp_path) in m.body for m in tab.model.messages)  # the name, never the path
        qtbot.waitUntil(lambda: "not sent" in tab.composer.error.text(), timeout=TIMEOUT)
        assert "cannot carry files" in tab.composer.error.text()

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
        assert [m.body for m in talk.sent()] == ["see the report"]  # the server never saw a file or a path
        assert not any(str(tmp_path) in m.body for m in talk.sent())


def test_a_pasted_picture_and_a_file_dropped_on_the_timeline_are_sent_as_files(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path
) -> None:
    from PySide6.QtGui import QColor, QImage

    w = gui_world
    prepare(w, "person")
    report = tmp_path / "q3 report.pdf"
    report.write_bytes(b"%PDF-1.4 q3")
    with running(w, qtbot) as session:
        talk = open_talk(session.window, qtbot, w, "person")
        tab = talk.tab
        picture = QImage(40, 30, QImage.Format.Format_RGB32)
        picture.fill(QColor("#3a7bd5"))
        clipboard = QMimeData()
        clipboard.setImageData(picture)
        QApplication.clipboard().setMimeData(clipboard)
        tab.input.setFocus()
        tab.input.paste()
        assert tab.input.toPlainText() == ""
        qtbot.waitUntil(
            lambda: any(m.body.startswith("pasted ") and m.body.endswith(".png") for m in tab.model.messages),
            timeout=TIMEOUT,
        )
        files = QMimeData()
        files.setUrls([QUrl.fromLocalFile(str(report))])
        _drop(tab.view, files)
        qtbot.waitUntil(lambda: any(m.body == "q3 report.pdf" for m in tab.model.messages), timeout=TIMEOUT)
