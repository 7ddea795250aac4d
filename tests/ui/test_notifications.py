"""Desktop notifications for new messages: who gets one, what it says, what a click does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from aggregator.api import MessageKind
from aggregator.app.rows import PersonRow
from aggregator.archive.records import Direction, StoredMessage
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import core_of, on_engine, running_session
from ui.app import Session
from ui.conversation import ConversationTab
from ui.message_alerts import EXCERPT, excerpt, wanted
from ui.notifications import Notification, Notifier


class Capture(Notifier):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[Notification] = []

    def show(self, notification: Notification) -> None:
        self.shown.append(notification)


@pytest.fixture
def capture() -> Capture:
    return Capture()


@pytest.fixture
def session(gui_world: GuiWorld, qtbot: QtBot, capture: Capture) -> Iterator[Session]:
    with running_session(gui_world, qtbot) as s:
        old = s.windows.alerts.notifier
        s.windows.alerts.set_notifier(capture)
        old.close()
        qtbot.waitUntil(lambda: "connected" in s.window.accounts_strip.state_text(gui_world.account_id), timeout=10_000)
        yield s


def person_of(session: Session, qtbot: QtBot, handle: str) -> PersonRow:
    qtbot.waitUntil(lambda: any(p.best.handle == handle for p in session.window.model.persons()), timeout=10_000)
    return next(p for p in session.window.model.persons() if p.best.handle == handle)


def unread(session: Session, person_id: int) -> int:
    return on_engine(session, lambda c: c.roster.unread.person(person_id))


def test_a_new_message_notifies_with_the_name_and_a_plain_excerpt(
    gui_world: GuiWorld, session: Session, capture: Capture, qtbot: QtBot
) -> None:
    w = gui_world
    bob = person_of(session, qtbot, w.bob)
    w.on_server(w.server.deliver(w.bob, w.alice, "hi <b>bold</b> &amp;\n\n  <i>second</i>\tline"))
    qtbot.waitUntil(lambda: len(capture.shown) == 1, timeout=5000)
    assert capture.shown[0] == Notification(
        title=bob.name, body="hi <b>bold</b> &amp; <i>second</i> line", person_id=bob.id
    )

    long = "word " * 100
    w.on_server(w.server.deliver(w.bob, w.alice, long))
    qtbot.waitUntil(lambda: len(capture.shown) == 2, timeout=5000)
    body = capture.shown[1].body
    assert len(body) == EXCERPT and body.endswith("\u2026") and body.startswith("word word")


def test_clicking_a_notification_opens_the_conversation(
    gui_world: GuiWorld, session: Session, capture: Capture, qtbot: QtBot
) -> None:
    w = gui_world
    bob = person_of(session, qtbot, w.bob)
    w.on_server(w.server.deliver(w.bob, w.alice, "ping"))
    qtbot.waitUntil(lambda: len(capture.shown) == 1, timeout=5000)
    session.window.hide()
    capture.clicked.emit(capture.shown[0].person_id)
    tab = session.window.conversations.currentWidget()
    assert isinstance(tab, ConversationTab) and tab.person.id == bob.id
    assert session.window.isVisible()
    qtbot.waitUntil(lambda: unread(session, bob.id) == 0, timeout=5000)


def test_none_for_our_own_messages(gui_world: GuiWorld, session: Session, capture: Capture, qtbot: QtBot) -> None:
    w = gui_world
    bob = person_of(session, qtbot, w.bob)
    tab = session.window.open_person(bob.id)
    assert tab is not None
    tab.input.setPlainText("sent from here")
    tab.send()
    # Sent by us from another device: the server echoes it to this session.
    w.on_server(w.server.deliver(w.alice, w.bob, "sent from my phone"))
    qtbot.waitUntil(lambda: sum(m.direction is Direction.OUT for m in tab.model.messages) == 2, timeout=5000)
    session.window.conversations.close_person(bob.id)
    w.on_server(w.server.deliver(w.bob, w.alice, "an answer"))
    qtbot.waitUntil(lambda: len(capture.shown) == 1, timeout=5000)
    # A later message is notified after anything still on its way: nothing else came in between.
    w.on_server(w.server.deliver(w.bob, w.alice, "a marker"))
    qtbot.waitUntil(lambda: len(capture.shown) == 2, timeout=5000)
    assert [n.body for n in capture.shown] == ["an answer", "a marker"]


def test_none_for_backfilled_history(gui_world: GuiWorld, qtbot: QtBot, capture: Capture) -> None:
    w = gui_world
    # Delivered while alice is offline: the server replays it at login, as history.
    w.on_server(w.server.deliver(w.bob, w.alice, "while you were away"))
    with running_session(w, qtbot) as s:
        old = s.windows.alerts.notifier
        s.windows.alerts.set_notifier(capture)
        old.close()
        stored = []
        s.ctx.bridge.message_stored.connect(lambda e: stored.append(e.message))
        qtbot.waitUntil(lambda: any(m.body == "while you were away" for m in stored), timeout=10_000)
        assert next(m for m in stored if m.body == "while you were away").is_backfill
        w.on_server(w.server.deliver(w.bob, w.alice, "live now"))
        qtbot.waitUntil(lambda: len(capture.shown) == 1, timeout=5000)
        # A later message is notified after anything still on its way: nothing else came in between.
        w.on_server(w.server.deliver(w.bob, w.alice, "a marker"))
        qtbot.waitUntil(lambda: len(capture.shown) == 2, timeout=5000)
        assert [n.body for n in capture.shown] == ["live now", "a marker"]


def test_none_for_the_open_and_focused_conversation(
    gui_world: GuiWorld, session: Session, capture: Capture, qtbot: QtBot
) -> None:
    w = gui_world
    window = session.window
    bob = person_of(session, qtbot, w.bob)
    person_of(session, qtbot, w.carol)
    tab = window.open_person(bob.id)
    assert tab is not None
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    w.on_server(w.server.deliver(w.bob, w.alice, "you are reading this"))
    qtbot.waitUntil(lambda: any(m.body == "you are reading this" for m in tab.model.messages), timeout=5000)
    # Another person's message while bob's conversation is in front: notified.
    w.on_server(w.server.deliver(w.carol, w.alice, "from carol"))
    qtbot.waitUntil(lambda: len(capture.shown) == 1, timeout=5000)
    assert capture.shown[0].body == "from carol"

    # Bob's tab is current but another window is active: notified.
    viewer = session.windows.show_log_viewer()
    viewer.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow(), timeout=5000)
    w.on_server(w.server.deliver(w.bob, w.alice, "look here"))
    qtbot.waitUntil(lambda: len(capture.shown) == 2, timeout=5000)
    assert capture.shown[1].body == "look here"


def test_held_while_the_sphere_is_off_duty_and_the_message_stays_unread(
    gui_world: GuiWorld, session: Session, capture: Capture, qtbot: QtBot
) -> None:
    w = gui_world  # alice's account is a work account
    bob = person_of(session, qtbot, w.bob)
    session.engine.call(core_of(session).status.override_today(False), timeout=10)  # off work for today
    assert on_engine(session, lambda c: c.status.notifications_held(w.account_id))
    with qtbot.waitSignal(session.windows.alerts.held, timeout=5000) as held:
        w.on_server(w.server.deliver(w.bob, w.alice, "after hours"))
    assert isinstance(held.args[0], StoredMessage) and held.args[0].body == "after hours"
    assert capture.shown == []
    qtbot.waitUntil(lambda: (session.window.model.person(bob.id) or bob).unread == 1, timeout=5000)
    assert unread(session, bob.id) == 1

    session.engine.call(core_of(session).status.override_today(True), timeout=10)  # back at work
    w.on_server(w.server.deliver(w.bob, w.alice, "during work"))
    qtbot.waitUntil(lambda: len(capture.shown) == 1, timeout=5000)
    assert capture.shown[0].body == "during work"
    assert unread(session, bob.id) == 2


def _message(**changes: object) -> StoredMessage:
    from dataclasses import replace
    from datetime import UTC, datetime

    from aggregator.api import ConversationKey, MessageState

    base = StoredMessage(
        id=1,
        account_id="fake:me@fake.test",
        conversation_id=1,
        conversation=ConversationKey.direct("fake:me@fake.test", "bob@fake.test"),
        direction=Direction.IN,
        kind=MessageKind.CHAT,
        sender="bob@fake.test",
        body="hello",
        sent_at=datetime(2025, 1, 1, tzinfo=UTC),
        received_at=datetime(2025, 1, 1, tzinfo=UTC),
        state=MessageState.RECEIVED,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_which_messages_notify_at_all() -> None:
    from aggregator.api import ConversationKey

    assert wanted(_message())
    assert wanted(_message(kind=MessageKind.ACTION))
    assert not wanted(_message(direction=Direction.OUT))
    assert not wanted(_message(is_backfill=True))
    assert not wanted(_message(kind=MessageKind.SYSTEM))
    # A room message may notify: only when it mentions us, which the engine thread decides.
    assert wanted(_message(conversation=ConversationKey.room("fake:me@fake.test", "#room")))


def test_the_excerpt_is_one_plain_line() -> None:
    assert excerpt("a\u202eb\u0000c\n\nd") == "abc d"
    assert excerpt("x" * 500) == "x" * (EXCERPT - 1) + "\u2026"


def test_the_tray_balloon_shows_no_markup_and_a_click_opens_the_last_person(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    from ui.notifications import TrayNotifier, no_markup

    assert no_markup("a <b>bold</b> & c") == "a \u2039b\u203abold\u2039/b\u203a & c"
    icon = QSystemTrayIcon()
    notifier = TrayNotifier(icon)
    notifier.show(Notification("Bob", "one", 5))
    notifier.show(Notification("Carol", "two", 6))
    with qtbot.waitSignal(notifier.clicked, timeout=1000) as clicked:
        icon.messageClicked.emit()
    assert clicked.args == [6]

    # The last one is a room's (a mention): a click opens the room.
    from aggregator.api import ConversationKey

    room = ConversationKey.room("fake:me@fake.test", "#team")
    notifier.show(Notification("Dave in #team", "three", room=room))
    with qtbot.waitSignal(notifier.room_clicked, timeout=1000) as opened:
        icon.messageClicked.emit()
    assert opened.args == [room]
