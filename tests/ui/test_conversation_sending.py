"""Sending from the conversation tab: /me actions, long text against the protocol's limit, retrying."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from aggregator.api import MessageKind, MessageState
from aggregator.archive.records import Direction, StoredMessage
from protocols.fake.wire import MAX_BODY_LENGTH
from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import TIMEOUT, open_tab, running, wait_connected
from ui.conversation import ConversationTab
from ui.input_commands import BadCommand, InsertTemplate, SendText, parse


def _out(tab: ConversationTab) -> list[StoredMessage]:
    return [m for m in tab.model.messages if m.direction is Direction.OUT]


def test_me_sends_an_action_and_actions_read_as_star_name_text(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running(w, qtbot) as session:
        window = session.window
        wait_connected(window, w, qtbot)
        tab = open_tab(window, qtbot, w.bob)
        QTest.keyClicks(tab.input, "/me waves <hello>")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(w.server.received(w.alice)), timeout=TIMEOUT)
        (sent,) = w.server.received(w.alice)
        assert (sent.kind, sent.body) == ("action", "waves <hello>")
        qtbot.waitUntil(lambda: any(m.state is MessageState.SENT for m in _out(tab)), timeout=TIMEOUT)
        assert _out(tab)[0].kind is MessageKind.ACTION
        assert f"* {w.alice} waves <hello>" in tab.view.toPlainText()
        assert "&lt;hello&gt;" in tab.view.toHtml()

        w.on_server(w.server.deliver(w.bob, w.alice, "dances", kind="action"))
        # Theirs under the person's display name, not the address.
        qtbot.waitUntil(lambda: f"* {tab.person.name} dances" in tab.view.toPlainText(), timeout=TIMEOUT)
        assert tab.person.name != w.bob

        QTest.keyClicks(tab.input, "/me")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        assert tab.error.isVisible() and "/me needs some text" in tab.error.text()
        assert tab.input.toPlainText() == "/me"


def test_the_input_commands() -> None:
    assert parse("/me waves") == SendText("waves", MessageKind.ACTION)
    assert parse("/mexican food") == SendText("/mexican food")
    assert parse("//me is a command") == SendText("/me is a command")
    assert parse("/t thanks ") == InsertTemplate("thanks")
    assert isinstance(parse("/t"), BadCommand)
    assert parse("hello /me") == SendText("hello /me")


def test_long_text_is_one_message_up_to_the_limit_and_refused_above(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running(w, qtbot) as session:
        window = session.window
        wait_connected(window, w, qtbot)
        tab = open_tab(window, qtbot, w.bob)
        longest = ("lorem ipsum dolor\n" * 1000)[:MAX_BODY_LENGTH]
        QGuiApplication.clipboard().setText(longest + "xyz")
        tab.input.setFocus()
        tab.input.paste()
        assert tab.input.toPlainText() == longest + "xyz"
        counter = tab.composer.counter
        assert counter.isVisible()
        assert counter.text() == f"3 characters over the limit of {MAX_BODY_LENGTH:,} on Fake (testing)"
        assert not tab.send_button.isEnabled()
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        assert tab.error.isVisible() and "3 characters over the limit" in tab.error.text()
        assert tab.input.toPlainText() == longest + "xyz"  # nothing lost

        for _ in range(3):
            QTest.keyClick(tab.input, Qt.Key.Key_Backspace)
        assert not counter.isVisible() and tab.send_button.isEnabled()
        QTest.mouseClick(tab.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(w.server.received(w.alice)), timeout=TIMEOUT)
        assert [m.body for m in w.server.received(w.alice)] == [longest]  # one message, whole
        assert tab.input.toPlainText() == ""


def test_a_failed_message_shows_its_reason_and_is_retried(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running(w, qtbot) as session:
        window = session.window
        wait_connected(window, w, qtbot)
        tab = open_tab(window, qtbot, w.bob)
        w.server.reject_sends = True
        QTest.keyClicks(tab.input, "are you there?")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: any(m.state is MessageState.FAILED for m in _out(tab)), timeout=TIMEOUT)
        (failed,) = _out(tab)
        plain = tab.view.toPlainText()
        assert "are you there? ✗ failed: " in plain and "send rejected by the server" in plain
        assert f'href="retry:{failed.id}"' in tab.view.toHtml()

        # The context menu of that row offers Retry (first); the server still refuses.
        tab.view.resize(600, 300)
        block = tab.view.block_of_row(0)  # block 0 is the day separator
        assert block == 1
        row = tab.view.cursorRect(QTextCursor(tab.view.document().findBlockByNumber(block)))
        assert tab.view.message_at(row.center()) == failed
        menu = tab.view.context_menu(QPoint(10, row.center().y()))
        assert menu.actions()[0].text() == "Retry"
        states: list[MessageState] = []
        tab.model.dataChanged.connect(lambda *_a: states.append(_out(tab)[0].state))
        menu.actions()[0].trigger()
        qtbot.waitUntil(lambda: states == [MessageState.PENDING, MessageState.FAILED], timeout=TIMEOUT)
        assert w.server.received(w.alice) == []

        # The server accepts now: Ctrl+R retries the newest failed message, the same row, once.
        w.server.reject_sends = False
        tab.input.setFocus()
        QTest.keyClick(tab.input, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: _out(tab)[0].state is MessageState.SENT, timeout=TIMEOUT)
        assert [m.id for m in _out(tab)] == [failed.id]
        assert [m.body for m in w.server.received(w.alice)] == ["are you there?"]
        assert "failed" not in tab.view.toPlainText() and "✓" in tab.view.toPlainText()

        # The Retry link of a failed row works too.
        w.server.reject_sends = True
        QTest.keyClicks(tab.input, "again")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: _out(tab)[-1].state is MessageState.FAILED, timeout=TIMEOUT)
        w.server.reject_sends = False
        tab.view.anchorClicked.emit(QUrl(f"retry:{_out(tab)[-1].id}"))
        qtbot.waitUntil(lambda: _out(tab)[-1].state is MessageState.SENT, timeout=TIMEOUT)
        assert [m.body for m in w.server.received(w.alice)] == ["are you there?", "again"]
