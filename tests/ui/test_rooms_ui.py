"""Rooms in the window on the fake protocol: the Join room dialog, the buddy list's Rooms group, the
room tab (topic, members, senders, sending), leaving; and the member list model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester, QTest
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey, Sphere
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from tests.ui.sessions import core_of
from ui.app import Session, start_session
from ui.models.member_model import MemberModel
from ui.models.roster_model import MEMBERS_ROLE, PROTOCOLS_ROLE, UNREAD_ROLE
from ui.room_tab import RoomTab, room_tab

FAIL = QAbstractItemModelTester.FailureReportingMode.Fatal
TEAM = "team@rooms.fake.test"


@pytest.fixture
def session(gui_world: GuiWorld, qtbot: QtBot) -> Iterator[Session]:
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    try:
        yield s
    finally:
        s.window.save_state()
        s.shutdown()


def test_member_model(qtbot: QtBot) -> None:
    model = MemberModel()
    QAbstractItemModelTester(model, FAIL)
    model.set_members(["carol", "Ali", "bob"], "Ali")
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["Ali (you)", "bob", "carol"]
    assert model.index(0, 0).data(Qt.ItemDataRole.FontRole).bold()
    assert model.index(1, 0).data(Qt.ItemDataRole.FontRole) is None
    model.set_members(["bob"], None)
    assert model.nicks == ["bob"] and model.index(0, 0).data(Qt.ItemDataRole.AccessibleTextRole) == "bob"
    model.set_members([], None)
    assert model.rowCount() == 0 and model.rowCount(model.index(0, 0)) == 0


def test_join_a_room_talk_set_the_topic_and_leave(gui_world: GuiWorld, session: Session, qtbot: QtBot) -> None:
    w, window = gui_world, session.window
    w.server.create_room(TEAM, "release at five", topic_by="Carol")
    w.on_server(w.server.enter_room(w.carol, TEAM, "Carol"))
    w.server.refuse_joins("vip@rooms.fake.test", "members only")
    qtbot.waitUntil(lambda: "connected" in window.accounts_strip.state_text(w.account_id), timeout=10_000)

    # The dialog: clear errors, and it stays open on them.
    dialog = window.rooms.show_join_dialog()
    qtbot.waitUntil(lambda: dialog.account.count() == 1, timeout=5000)
    assert dialog.account.currentData() == w.account_id
    dialog.join_button.click()
    assert dialog.error.isVisible() and dialog.error.text() == "Enter the room's address."
    QTest.keyClicks(dialog.address, "not a room")
    dialog.join_button.click()
    qtbot.waitUntil(lambda: "is not a room address" in dialog.error.text(), timeout=5000)
    assert dialog.error.text().startswith("Could not join: 'not a room' is not a room address")
    dialog.address.setText("vip@rooms.fake.test")
    dialog.join_button.click()
    qtbot.waitUntil(lambda: "members only" in dialog.error.text(), timeout=5000)
    assert dialog.isVisible() and dialog.error.text() == "Cannot join vip@rooms.fake.test: members only"

    dialog.address.setText(TEAM)
    QTest.keyClicks(dialog.nick, "Ali")
    QTest.keyClick(dialog.address, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    tab = window.conversations.currentWidget()
    assert isinstance(tab, RoomTab) and tab.key == ConversationKey.room(w.account_id, TEAM)
    QAbstractItemModelTester(tab.members, FAIL)
    qtbot.waitUntil(lambda: tab.members.nicks == ["Ali", "Carol"], timeout=5000)
    # The topic is its own event: it may come just after the member list.
    qtbot.waitUntil(lambda: tab.topic.text() == "release at five", timeout=5000)
    assert not tab.topic.isReadOnly()
    assert "joined as Ali" in tab.state.text() and "2 members" in tab.state.text()
    assert tab.join_button.isHidden()

    # The buddy list: a Rooms group in the account's sphere, with the member count.
    key = tab.key
    qtbot.waitUntil(lambda: window.model.room(key) is not None, timeout=5000)
    index = window.model.room_index(key)
    assert index.parent().data() == "Rooms  (1)"
    assert index.parent().parent() == window.model.sphere_index(Sphere.WORK)
    qtbot.waitUntil(lambda: window.model.room_index(key).data(MEMBERS_ROLE) == 2, timeout=5000)
    assert window.model.room_index(key).data(PROTOCOLS_ROLE) == "2 members"

    # Someone joins and speaks; the sender's name is on the message.
    w.on_server(w.server.enter_room(w.bob, TEAM, "Bob"))
    qtbot.waitUntil(lambda: tab.members.nicks == ["Ali", "Bob", "Carol"], timeout=5000)
    w.on_server(w.server.say_in_room(w.carol, TEAM, "standup <now> & then lunch"))
    qtbot.waitUntil(lambda: "Carol: standup <now> & then lunch" in tab.view.toPlainText(), timeout=5000)
    assert "&lt;now&gt;" in tab.view.toHtml()

    # Enter sends to the room.
    QTest.keyClicks(tab.input, "on my way")
    QTest.keyClick(tab.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(m.body == "on my way" for m in w.server.received(w.alice)), timeout=5000)
    assert w.server.received(w.alice)[-1].room == TEAM
    qtbot.waitUntil(lambda: "Ali: on my way" in tab.view.toPlainText(), timeout=5000)  # ours under our nick

    # The topic: typed, Enter sets it.
    tab.topic.selectAll()
    QTest.keyClicks(tab.topic, "shipped")
    QTest.keyClick(tab.topic, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.server.room_topic(TEAM) == ("shipped", "Ali"), timeout=5000)

    # With the tab closed, a message is unread; opening the room from the buddy list shows the
    # history and marks it read.
    window.conversations.removeTab(window.conversations.indexOf(tab))
    tab.deleteLater()
    before = window.model.room_index(key).data(UNREAD_ROLE)  # 1 if the window was not active for "standup"
    w.on_server(w.server.say_in_room(w.carol, TEAM, "anyone?"))
    qtbot.waitUntil(lambda: window.model.room_index(key).data(UNREAD_ROLE) == before + 1, timeout=5000)
    proxy_index = window.proxy.mapFromSource(window.model.room_index(key))
    window.tree.setCurrentIndex(proxy_index)
    window.tree.activated.emit(proxy_index)
    again = room_tab(window.conversations, key)
    assert again is not None and window.conversations.currentWidget() is again
    # (the live copy of "anyone?" may come before the history page: wait for both)
    qtbot.waitUntil(lambda: "Carol: standup" in again.view.toPlainText(), timeout=5000)
    qtbot.waitUntil(lambda: "Carol: anyone?" in again.view.toPlainText(), timeout=5000)
    qtbot.waitUntil(lambda: window.model.room_index(key).data(UNREAD_ROLE) == 0, timeout=5000)

    # Leave (the Rooms menu acts on the current room tab): the tab and the buddy-list row go.
    assert window.rooms.leave_action.isEnabled()
    window.rooms.leave_action.trigger()
    qtbot.waitUntil(lambda: room_tab(window.conversations, key) is None, timeout=5000)
    qtbot.waitUntil(lambda: window.model.room(key) is None, timeout=5000)
    assert w.alice not in w.server.room_members(TEAM)
    work = window.model.sphere_index(Sphere.WORK)
    groups = [window.model.index(r, 0, work).data() for r in range(window.model.rowCount(work))]
    assert not any(str(name).startswith("Rooms") for name in groups)  # the empty Rooms group went too


def test_a_refused_room_shows_why_and_can_be_tried_again(gui_world: GuiWorld, session: Session, qtbot: QtBot) -> None:
    w, window = gui_world, session.window
    w.server.refuse_joins("vip@rooms.fake.test", "members only")
    qtbot.waitUntil(lambda: "connected" in window.accounts_strip.state_text(w.account_id), timeout=10_000)
    key = ConversationKey.room(w.account_id, "vip@rooms.fake.test")
    core = core_of(session)
    # Remembered while the account was offline, as an autojoin room would be; then refused at the join.
    session.ctx.bridge.call(core.accounts.stop_account(w.account_id), lambda _r, _e: None)
    qtbot.waitUntil(lambda: "connected" not in window.accounts_strip.state_text(w.account_id), timeout=5000)
    session.ctx.bridge.call(core.rooms.join(w.account_id, "vip@rooms.fake.test"), lambda _r, _e: None)
    qtbot.waitUntil(lambda: window.model.room(key) is not None, timeout=5000)
    tab = window.rooms.open(key)
    assert tab is not None and "not joined" in tab.state.text() and tab.topic.isReadOnly()
    session.ctx.bridge.run(lambda: core.accounts.start([w.account_id]), lambda _r, _e: None)
    qtbot.waitUntil(lambda: "members only" in tab.state.text(), timeout=10_000)
    assert tab.join_button.isVisible()
    tab.join_button.click()
    qtbot.waitUntil(lambda: tab.error.isVisible(), timeout=5000)
    assert tab.error.text() == "Not joined: cannot join vip@rooms.fake.test: members only"
