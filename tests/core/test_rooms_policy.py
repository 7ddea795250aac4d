"""Room choices that outlive the session: a policy that locks ``autojoin`` refuses a leave with the
reason, and an account removed while running takes its rooms with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.api import ConversationKey, PolicyError
from aggregator.events import ConnectionState
from aggregator.rooms.events import RoomRemoved
from aggregator.rooms.store import FILE_NAME
from tests.core.conftest import CoreWorld, eventually
from tests.core.test_rooms import TEAM, set_options

DEV = "dev@rooms.fake.test"


def lock_autojoin(world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A policy whose profile made the world's account, with ``autojoin`` locked."""
    path = tmp_path / "policy.toml"
    path.write_text(
        f"""
[[profiles]]
name = "team-chat"
protocol = "fake"
username = "{world.alice}"
server = "{world.server.address}"
allow_plaintext = true
autojoin = ["{TEAM}"]
locked = ["autojoin"]
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("AGGREGATOR_POLICY", str(path))


async def test_a_locked_autojoin_room_cannot_be_left(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.server.create_room(TEAM, "all hands")
    set_options(world, autojoin=TEAM)
    lock_autojoin(world, tmp_path, monkeypatch)
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    key = ConversationKey.room(world.account_id, TEAM)
    await eventually(lambda: (r := core.rooms.room(key)) is not None and r.joined)

    with pytest.raises(PolicyError) as refused:
        await core.rooms.leave(key)
    assert refused.value.rule == "autojoin"
    assert str(refused.value) == (
        f"cannot leave {TEAM}: the organisation's policy locks this account's autojoin rooms (profile 'team-chat')"
    )
    room = core.rooms.room(key)
    assert room is not None and room.joined and world.alice in world.server.room_members(TEAM)
    assert not (world.paths.config_dir / FILE_NAME).exists()  # nothing remembered as left

    # A room the user joined by hand on the same account may still be left.
    dev = await core.rooms.join(world.account_id, DEV)
    assert await core.rooms.leave(dev.key) is None


async def test_the_rooms_of_a_removed_account_disappear(world: CoreWorld) -> None:
    world.server.create_room(TEAM, "all hands")
    set_options(world, autojoin=TEAM)
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    team = ConversationKey.room(world.account_id, TEAM)
    await eventually(lambda: (r := core.rooms.room(team)) is not None and r.joined)
    dev = (await core.rooms.join(world.account_id, DEV)).key
    removed: list[RoomRemoved] = []
    core.bus.subscribe(RoomRemoved, removed.append)

    await core.accounts.stop_account(world.account_id, forget=True)
    core.rooms.forget_account(world.account_id)

    assert core.rooms.rooms() == [] and core.rooms.room(team) is None
    assert {e.key for e in removed} == {team, dev}
    saved = json.loads((world.paths.config_dir / FILE_NAME).read_text())
    assert saved["accounts"] == {} and "left" not in saved
