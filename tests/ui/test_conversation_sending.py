"""Sending from a conversation tab, a person's and a room's alike (one composer): /me actions, /help and
unknown commands (never sent), long text against the protocol's limit, retrying a failed message."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from aggregator.api import MessageKind, MessageState
from aggregator.archive.records import Direction, StoredMessage
from protocols.fake.wire import MAX_BODY_LENGTH
from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import KINDS, TIMEOUT, Tab, open_talk, prepare, running
from ui.input_commands import BadCommand, InsertTemplate, SendText, ShowHelp, parse

KIND = pytest.mark.parametrize("kind", KINDS)


def _out(tab: Tab) -> list[StoredMessage]:
    return [m for m in tab.model.messages if m.direction is Direction.OUT]


@KIND
def test_me_sends_an_action_and_actions_read_as_star_name_text(gui_world: GuiWorld, qtbot: QtBot, kind: str) -> None:
    w = gui_world
    prepare(w, kind)
    with running(w, qtbot) as session:
        talk = open_talk(session.window, qtbot, w, kind)
        tab = talk.tab
        QTest.keyClicks(tab.input, "/me waves <hello>")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(talk.sent()), timeout=TIMEOUT)
        (sent,) = talk.sent()
        assert (sent.kind, sent.body) == ("action", "waves <hello>")
        qtbot.waitUntil(lambda: any(m.state is MessageState.SENT for m in _out(tab)), timeout=TIMEOUT)
        assert [m.kind for m in _out(tab)] == [MessageKind.ACTION]
        assert f"* {talk.own_name} waves <hello>" in tab.view.toPlainText()
        assert "&lt;hello&gt;" in tab.view.toHtml()

        if kind == "person":
            w.on_server(w.server.deliver(w.bob, w.alice, "dances", kind="action"))
            # Theirs under the person's display name, not the address.
            person = tab.person  # type: ignore[union-attr]
            qtbot.waitUntil(lambda: f"* {person.name} dances" in tab.view.toPlainText(), timeout=TIMEOUT)
            assert person.name != w.bob

        QTest.keyClicks(tab.input, "/me")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        assert tab.error.isVisible() and "/me needs some text" in tab.error.text()
        assert tab.input.toPlainText() == "/me"


@KIND
def test_help_and_unknown_commands_are_answered_here_and_never_sent(
    gui_world: GuiWorld, qtbot: QtBot, kind: str
) -> None:
    w = gui_world
    prepare(w, kind)
    with running(w, qtbot) as session:
        talk = open_talk(session.window, qtbot, w, kind)
        tab = talk.tab
        QTest.keyClicks(tab.input, "/help")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        note = tab.composer.note
        assert note.isVisible() and not tab.error.isVisible()
        assert "/me TEXT" in note.text() and "/t NAME" in note.text() and "//TEXT" in note.text()
        assert tab.input.toPlainText() == ""

        QTest.keyClicks(tab.input, "/shrug whatever")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        assert tab.error.isVisible() and not note.isVisible()
        assert "/shrug is not a command here" in tab.error.text() and "/me TEXT" in tab.error.text()
        assert tab.input.toPlainText() == "/shrug whatever"  # kept: to correct, or to send with //

        # With // it goes out as typed; it proves nothing was sent before it.
        tab.composer.set_text("//shrug whatever")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(talk.sent()), timeout=TIMEOUT)
        assert [m.body for m in talk.sent()] == ["/shrug whatever"]
        assert not tab.error.isVisible()


def test_the_input_commands() -> None:
    assert parse("/me waves") == SendText("waves", MessageKind.ACTION)
    assert parse("/mexican food") == ShowHelp("/mexican")
    assert parse("/help") == parse("/HELP please") == ShowHelp()
    assert parse("//me is a command") == SendText("/me is a command")
    assert parse("/usr/bin is full") == SendText("/usr/bin is full")
    assert parse("/ hello") == SendText("/ hello")
    assert parse("/t thanks ") == InsertTemplate("thanks")
    assert isinstance(parse("/t"), BadCommand)
    assert parse("hello /me") == SendText("hello /me")


@KIND
def test_long_text_is_one_message_up_to_the_limit_and_refused_above(
    gui_world: GuiWorld, qtbot: QtBot, kind: str
) -> None:
    w = gui_world
    prepare(w, kind)
    with running(w, qtbot) as session:
        talk = open_talk(session.window, qtbot, w, kind)
        tab = talk.tab
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
        qtbot.waitUntil(lambda: bool(talk.sent()), timeout=TIMEOUT)
        assert [m.body for m in talk.sent()] == [longest]  # one message, whole
        assert tab.input.toPlainText() == ""


@KIND
def test_a_failed_message_shows_its_reason_and_is_retried(gui_world: GuiWorld, qtbot: QtBot, kind: str) -> None:
    w = gui_world
    prepare(w, kind)
    with running(w, qtbot) as session:
        talk = open_talk(session.window, qtbot, w, kind)
        tab = talk.tab
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
        assert talk.sent() == []

        # The server accepts now: Ctrl+R retries the newest failed message, the same row, once.
        w.server.reject_sends = False
        tab.input.setFocus()
        QTest.keyClick(tab.input, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: _out(tab)[0].state is MessageState.SENT, timeout=TIMEOUT)
        assert [m.id for m in _out(tab)] == [failed.id]
        assert [m.body for m in talk.sent()] == ["are you there?"]
        assert "failed" not in tab.view.toPlainText() and "✓" in tab.view.toPlainText()

        # The Retry link of a failed row works too.
        w.server.reject_sends = True
        QTest.keyClicks(tab.input, "again")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: _out(tab)[-1].state is MessageState.FAILED, timeout=TIMEOUT)
        w.server.reject_sends = False
        tab.view.anchorClicked.emit(QUrl(f"retry:{_out(tab)[-1].id}"))
        qtbot.waitUntil(lambda: _out(tab)[-1].state is MessageState.SENT, timeout=TIMEOUT)
        assert [m.body for m in talk.sent()] == ["are you there?", "again"]
