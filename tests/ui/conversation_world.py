"""Helpers for the conversation tab tests: a running session on the fake world, and a tab with bob open
(or, for tests of what both kinds of tab do alike, bob's tab or a room's: ``prepare``, ``open_talk``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from aggregator.accounts.config import AccountStore
from aggregator.registry import ProtocolRegistry
from protocols.fake.server import StoredMessage as ServerMessage
from tests.ui.conftest import GuiWorld, fast_core
from ui.app import Session, start_session
from ui.conversation import ConversationTab
from ui.main_window import MainWindow
from ui.room_tab import RoomTab

TIMEOUT = 10_000


def use_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("AGGREGATOR_POLICY", str(path))
    return path


@contextmanager
def running(world: GuiWorld, qtbot: QtBot) -> Iterator[Session]:
    s = start_session(world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    try:
        yield s
    finally:
        s.window.save_state()
        s.shutdown()


def wait_connected(window: MainWindow, world: GuiWorld, qtbot: QtBot, *handles: str) -> None:
    qtbot.waitUntil(lambda: "connected" in window.accounts_strip.state_text(world.account_id), timeout=TIMEOUT)
    for handle in handles or (world.bob,):
        qtbot.waitUntil(lambda h=handle: any(p.best.handle == h for p in window.model.persons()), timeout=TIMEOUT)  # type: ignore[misc]


def open_tab(window: MainWindow, qtbot: QtBot, handle: str) -> ConversationTab:
    person = next(p for p in window.model.persons() if p.best.handle == handle)
    tab = window.open_person(person.id)
    assert tab is not None
    qtbot.waitUntil(lambda: tab.reply_info is not None, timeout=TIMEOUT)
    return tab


# -- one test for both kinds of tab: a person's and a room's ---------------------------------------

ROOM = "team@rooms.fake.test"
NICK = "Ali"
KINDS = ("person", "room")

Tab = ConversationTab | RoomTab


def set_options(world: GuiWorld, **options: str) -> None:
    store = AccountStore(world.paths.accounts_file)
    (account,) = store.load()
    store.save([replace(account, options=options)])


@dataclass
class Talk:
    """A conversation tab of either kind, open in a running window: bob's person tab, or the room
    ``ROOM`` (joined at the start as ``NICK``, carol in it)."""

    world: GuiWorld
    tab: Tab
    room: str | None  # None: bob's person tab

    @property
    def own_name(self) -> str:
        """How our messages are signed in the timeline."""
        return self.world.alice if self.room is None else NICK

    def sent(self) -> list[ServerMessage]:
        """What the server accepted from us in this conversation."""
        return [m for m in self.world.server.received(self.world.alice) if m.room == self.room]


def prepare(world: GuiWorld, kind: str) -> None:
    """Before the session starts: the room, with carol in it, joined at the start."""
    if kind == "room":
        world.server.create_room(ROOM, "release at five")
        world.on_server(world.server.enter_room(world.carol, ROOM, "Carol"))
        set_options(world, autojoin=f"{ROOM}/{NICK}")


def open_talk(window: MainWindow, qtbot: QtBot, world: GuiWorld, kind: str) -> Talk:
    """The tab of ``kind`` (see ``prepare``), open and current, its account's limit known."""
    wait_connected(window, world, qtbot)
    if kind == "person":
        return Talk(world, open_tab(window, qtbot, world.bob), None)
    qtbot.waitUntil(lambda: any(r.joined and r.name == ROOM for r in window.model.rooms()), timeout=TIMEOUT)
    room = next(r for r in window.model.rooms() if r.name == ROOM)
    tab = window.rooms.open(room.key)
    assert tab is not None
    qtbot.waitUntil(lambda: tab.reply_info is not None, timeout=TIMEOUT)
    return Talk(world, tab, ROOM)
