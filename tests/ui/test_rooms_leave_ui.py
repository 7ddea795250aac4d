"""Leaving rooms in the window: a leave the policy refuses shows its reason in the room tab, and the
rooms of a removed account leave the buddy list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from aggregator.accounts.config import AccountStore
from aggregator.api import ConversationKey
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from tests.ui.sessions import core_of
from ui.app import Session, start_session
from ui.room_tab import room_tab

TEAM = "team@rooms.fake.test"


def start(gui_world: GuiWorld, qtbot: QtBot, request: pytest.FixtureRequest) -> Session:
    session = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(session.window)
    session.window.show()

    def stop() -> None:
        session.window.save_state()
        session.shutdown()

    request.addfinalizer(stop)
    return session


def with_autojoin(world: GuiWorld) -> None:
    store = AccountStore(world.paths.accounts_file)
    (account,) = store.load()
    store.save([replace(account, options={"autojoin": TEAM})])


def ignore(_result: object, _error: BaseException | None) -> None:
    pass


def test_a_leave_refused_by_the_policy_shows_the_reason(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    w = gui_world
    w.server.create_room(TEAM, "all hands")
    with_autojoin(w)
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[[profiles]]\nname = "team-chat"\nprotocol = "fake"\nusername = "{w.alice}"\n'
        f'server = "{w.server.address}"\nallow_plaintext = true\nautojoin = ["{TEAM}"]\nlocked = ["autojoin"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("AGGREGATOR_POLICY", str(policy))
    session = start(w, qtbot, request)
    window = session.window
    key = ConversationKey.room(w.account_id, TEAM)
    qtbot.waitUntil(lambda: (row := window.model.room(key)) is not None and row.joined, timeout=10_000)
    tab = window.rooms.open(key)
    assert tab is not None
    tab.leave_button.click()
    qtbot.waitUntil(tab.error.isVisible, timeout=5000)
    assert tab.error.text() == (
        f"Could not leave the room: cannot leave {TEAM}: the organisation's policy locks this account's "
        "autojoin rooms (profile 'team-chat')"
    )
    assert room_tab(window.conversations, key) is tab and window.model.room(key) is not None
    assert w.alice in w.server.room_members(TEAM) and tab.leave_button.isEnabled()


def test_the_rooms_of_a_removed_account_leave_the_buddy_list(
    gui_world: GuiWorld, qtbot: QtBot, request: pytest.FixtureRequest
) -> None:
    w = gui_world
    w.server.create_room(TEAM, "all hands")
    with_autojoin(w)
    session = start(w, qtbot, request)
    window, core = session.window, core_of(session)
    team = ConversationKey.room(w.account_id, TEAM)
    dev = ConversationKey.room(w.account_id, "dev@rooms.fake.test")
    qtbot.waitUntil(lambda: (row := window.model.room(team)) is not None and row.joined, timeout=10_000)
    session.ctx.bridge.call(core.rooms.join(w.account_id, "dev@rooms.fake.test"), ignore)
    qtbot.waitUntil(lambda: window.model.room(dev) is not None, timeout=5000)
    done: list[BaseException | None] = []
    finished: Callable[[object, BaseException | None], None] = lambda _r, error: done.append(error)  # noqa: E731
    session.ctx.bridge.call(session.ctx.app.accounts.remove(w.account_id), finished)
    qtbot.waitUntil(lambda: done == [None], timeout=5000)
    qtbot.waitUntil(lambda: window.model.room(team) is None and window.model.room(dev) is None, timeout=5000)
