"""Events carry what their views show: an incoming message (direct or in a room) is notified, counted
unread and listed, and a presence change is shown, without the window asking the engine anything back
(``Bridge.round_trips`` stays where it was)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from aggregator.accounts.config import AccountStore
from aggregator.api import ConversationKey, PresenceKind
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import running_session
from tests.ui.test_notifications import Capture
from ui.app import Session

TEAM = "team@rooms.fake.test"


@pytest.fixture
def session(gui_world: GuiWorld, qtbot: QtBot) -> Iterator[tuple[Session, Capture]]:
    w = gui_world
    w.server.create_room(TEAM, "all hands")
    store = AccountStore(w.paths.accounts_file)
    (account,) = store.load()
    store.save([replace(account, options={"autojoin": TEAM})])
    capture = Capture()
    with running_session(w, qtbot) as s:
        old = s.windows.alerts.notifier
        s.windows.alerts.set_notifier(capture)
        old.close()
        team = ConversationKey.room(w.account_id, TEAM)
        qtbot.waitUntil(lambda: (row := s.window.model.room(team)) is not None and row.joined, timeout=10_000)
        qtbot.waitUntil(lambda: any(p.best.handle == w.bob for p in s.window.model.persons()), timeout=10_000)
        yield s, capture


def test_an_incoming_message_needs_no_round_trip(
    gui_world: GuiWorld, session: tuple[Session, Capture], qtbot: QtBot
) -> None:
    w = gui_world
    s, capture = session
    bob = next(p for p in s.window.model.persons() if p.best.handle == w.bob)
    team = ConversationKey.room(w.account_id, TEAM)
    w.on_server(w.server.enter_room(w.bob, TEAM, "bobby"))
    qtbot.waitUntil(lambda: bool((row := s.window.model.room(team)) and "bobby" in row.members), timeout=5000)
    before = s.ctx.bridge.round_trips

    w.on_server(w.server.deliver(w.bob, w.alice, "hello there"))
    qtbot.waitUntil(lambda: len(capture.shown) == 1, timeout=5000)
    assert capture.shown[0].title == bob.name and capture.shown[0].person_id == bob.id
    qtbot.waitUntil(lambda: (p := s.window.model.person(bob.id)) is not None and p.unread == 1, timeout=5000)

    room = s.window.model.room(team)
    assert room is not None and room.nick
    w.on_server(w.server.say_in_room(w.bob, TEAM, f"{room.nick}: are you there?"))
    qtbot.waitUntil(lambda: len(capture.shown) == 2, timeout=5000)
    assert capture.shown[1].title == "bobby in " + TEAM and capture.shown[1].room == team
    qtbot.waitUntil(lambda: (row := s.window.model.room(team)) is not None and row.unread == 1, timeout=5000)

    assert s.ctx.bridge.round_trips == before


def test_a_presence_change_needs_no_round_trip(
    gui_world: GuiWorld, session: tuple[Session, Capture], qtbot: QtBot
) -> None:
    w = gui_world
    s, _capture = session
    bob = next(p for p in s.window.model.persons() if p.best.handle == w.bob)
    before = s.ctx.bridge.round_trips
    w.on_server(w.server.set_presence(w.bob, PresenceKind.AWAY, "lunch"))

    def shown() -> bool:
        row = s.window.model.person(bob.id)
        return row is not None and row.presence is PresenceKind.AWAY and row.status == "lunch"

    qtbot.waitUntil(shown, timeout=5000)
    row = s.window.model.person(bob.id)
    assert row is not None and [(c.presence, c.status) for c in row.contacts] == [(PresenceKind.AWAY, "lunch")]
    assert s.ctx.bridge.round_trips == before
