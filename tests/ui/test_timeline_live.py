"""The timeline in a running window on the fake protocol: names and tooltips from the core, "Jump to
latest (N new)", and room mentions (highlighted, unread, notified like direct messages)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from aggregator.accounts.config import AccountStore
from aggregator.api import ConversationKey, MessageState
from aggregator.app.room_rows import RoomRow, room_unread
from aggregator.archive.records import Direction, StoredMessage
from aggregator.events import MessageStored
from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import open_tab, wait_connected
from tests.ui.sessions import core_of, on_engine, running_session
from ui.app import Session
from ui.notifications import Notification, Notifier
from ui.room_tab import RoomTab

TEAM = "team@rooms.fake.test"
TIMEOUT = 10_000


class Capture(Notifier):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[Notification] = []

    def show(self, notification: Notification) -> None:
        self.shown.append(notification)


def set_options(world: GuiWorld, **options: str) -> None:
    store = AccountStore(world.paths.accounts_file)
    (account,) = store.load()
    store.save([replace(account, options=options)])


@pytest.fixture
def capture() -> Capture:
    return Capture()


@pytest.fixture
def session(gui_world: GuiWorld, qtbot: QtBot, capture: Capture) -> Iterator[Session]:
    w = gui_world
    w.server.create_room(TEAM, "release at five")
    w.on_server(w.server.enter_room(w.bob, TEAM, "Bob"))
    w.on_server(w.server.enter_room(w.carol, TEAM, "Carol"))
    set_options(w, display_name="Alice A.", autojoin=f"{TEAM}/Ali")
    with running_session(w, qtbot) as s:
        old = s.windows.alerts.notifier
        s.windows.alerts.set_notifier(capture)
        old.close()
        wait_connected(s.window, w, qtbot)
        yield s


def store(session: Session, account_id: str, handle: str, items: list[tuple[str, datetime]]) -> list[int]:
    """Messages as the pipeline stores and announces them (on the engine thread)."""
    core = core_of(session)

    async def go() -> list[int]:
        conv = core.archive.conversation_id(ConversationKey.direct(account_id, handle))
        assert conv is not None
        ids = []
        for body, at in items:
            m = core.archive.insert_message(
                conversation_id=conv,
                account_id=account_id,
                direction=Direction.IN,
                sender=handle,
                body=body,
                sent_at=at,
                state=MessageState.RECEIVED,
            )
            assert m is not None
            core.bus.publish(MessageStored(message=m))
            ids.append(m.id)
        return ids

    return session.engine.call(go(), timeout=10)


def test_a_person_tab_names_both_sides_and_tells_the_day_and_account(
    gui_world: GuiWorld, session: Session, qtbot: QtBot
) -> None:
    w, window = gui_world, session.window
    w.on_server(w.server.deliver(w.bob, w.alice, "old news", timestamp=datetime.now(UTC) - timedelta(days=10)))
    tab = open_tab(window, qtbot, w.bob)
    qtbot.waitUntil(lambda: len(tab.model.messages) == 1, timeout=TIMEOUT)
    QTest.keyClicks(tab.input, "fresh reply")
    QTest.keyClick(tab.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Alice A.: fresh reply" in tab.view.toPlainText(), timeout=TIMEOUT)
    lines = tab.view.toPlainText().splitlines()
    assert lines[0].startswith("— ") and lines[0].endswith(" —") and lines[0] != "— Today —"
    assert lines[1].endswith(f"{tab.person.name}: old news") and w.bob not in lines[1]
    assert lines[2] == "— Today —"
    assert lines[3].endswith("Alice A.: fresh reply ✓") or lines[3].endswith("Alice A.: fresh reply …")

    tab.view.resize(600, 300)
    first = tab.view.block_of_row(0)
    assert first == 1
    point = tab.view.cursorRect(QTextCursor(tab.view.document().findBlockByNumber(first))).center()
    tip = tab.view.tooltip_at(point).splitlines()
    assert tip[1:] == [f"From {tab.person.name} ({w.bob})", f"Account: {w.alice}"]


def test_jump_to_latest_counts_what_came_while_reading_the_past(
    gui_world: GuiWorld, session: Session, qtbot: QtBot
) -> None:
    w = gui_world
    start = datetime.now(UTC) - timedelta(days=3)
    ids = store(session, w.account_id, w.bob, [(f"message {i}", start + timedelta(minutes=i)) for i in range(80)])
    tab = open_tab(session.window, qtbot, w.bob)
    tab.show_message(ids[10])
    assert tab.timeline is not None
    button = tab.timeline.latest_button
    qtbot.waitUntil(lambda: tab.view.highlighted_id == ids[10] and button.isVisibleTo(tab), timeout=TIMEOUT)
    assert button.text() == "Jump to latest ↓"

    w.on_server(w.server.deliver(w.bob, w.alice, "are you there?"))
    qtbot.waitUntil(lambda: button.text() == "Jump to latest (1 new) ↓", timeout=TIMEOUT)
    w.on_server(w.server.deliver(w.bob, w.alice, "hello?"))
    qtbot.waitUntil(lambda: button.text() == "Jump to latest (2 new) ↓", timeout=TIMEOUT)
    assert button.accessibleName() == "Jump to latest, 2 new"
    assert "hello?" not in tab.view.toPlainText()

    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.at_newest and "hello?" in tab.view.toPlainText(), timeout=TIMEOUT)
    assert button.text() == "Jump to latest ↓" and not button.isVisibleTo(tab)


def joined_room(session: Session, qtbot: QtBot) -> RoomRow:
    model = session.window.model
    qtbot.waitUntil(lambda: any(r.joined and r.name == TEAM for r in model.rooms()), timeout=TIMEOUT)
    return next(r for r in model.rooms() if r.name == TEAM)


def test_a_mention_in_a_room_is_highlighted_unread_and_notified_like_a_direct_message(
    gui_world: GuiWorld, session: Session, capture: Capture, qtbot: QtBot
) -> None:
    w, window = gui_world, session.window
    room = joined_room(session, qtbot)

    # No room tab open: a mention notifies ("nick in room"), another room message does not.
    w.on_server(w.server.say_in_room(w.carol, TEAM, "alicia is out today"))
    w.on_server(w.server.say_in_room(w.bob, TEAM, "ALI: the build is <b>red</b>"))
    qtbot.waitUntil(lambda: len(capture.shown) == 1, timeout=TIMEOUT)
    assert capture.shown[0] == Notification(
        title=f"Bob in {TEAM}", body="ALI: the build is <b>red</b>", person_id=None, room=room.key
    )
    # Both count as unread for the room, the mention as a direct message would.
    assert on_engine(session, lambda c: room_unread(c, room.key)) == 2

    # A click on the notification opens the room's tab; there the mention is highlighted.
    capture.room_clicked.emit(room.key)
    tab = window.conversations.currentWidget()
    assert isinstance(tab, RoomTab) and tab.key == room.key
    qtbot.waitUntil(lambda: "Bob: ALI: the build is <b>red</b>" in tab.view.toPlainText(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: tab.view.names.mention == ("Ali", w.alice), timeout=TIMEOUT)
    doc = tab.view.document()
    marked = [
        doc.findBlockByNumber(b).text()
        for b in range(doc.blockCount())
        if doc.findBlockByNumber(b).blockFormat().background().style() != Qt.BrushStyle.NoBrush
    ]
    assert len(marked) == 1 and marked[0].endswith("Bob: ALI: the build is <b>red</b>")

    # Our own message naming us is ours (under our nick), not a mention, and never notified.
    QTest.keyClicks(tab.input, "Ali is on it")
    QTest.keyClick(tab.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Ali: Ali is on it" in tab.view.toPlainText(), timeout=TIMEOUT)

    # The room tab in front, the window active: no notification for a mention there.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    w.on_server(w.server.say_in_room(w.carol, TEAM, "thanks ali"))
    qtbot.waitUntil(lambda: "Carol: thanks ali" in tab.view.toPlainText(), timeout=TIMEOUT)
    w.on_server(w.server.deliver(w.bob, w.alice, "direct, to compare"))  # notified: it is not in front
    qtbot.waitUntil(lambda: len(capture.shown) == 2, timeout=TIMEOUT)
    assert capture.shown[1].body == "direct, to compare"

    # Off duty: held, as a direct message would be.
    session.engine.call(core_of(session).status.override_today(False), timeout=10)
    open_tab(window, qtbot, w.bob)  # the room tab is no longer in front
    with qtbot.waitSignal(session.windows.alerts.held, timeout=5000) as held:
        w.on_server(w.server.say_in_room(w.bob, TEAM, "ali, after hours"))
    assert isinstance(held.args[0], StoredMessage) and held.args[0].body == "ali, after hours"
    assert len(capture.shown) == 2
