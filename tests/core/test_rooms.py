"""The room directory in a running core on the fake protocol: autojoin, join/leave/topic, history."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from aggregator.accounts.config import AccountStore
from aggregator.api import ConfigurationError, ConversationKey, ConversationKind, MessageState, ProtocolError
from aggregator.archive import Direction
from aggregator.events import AccountWarning, ConnectionState
from aggregator.rooms.autojoin import parse_entry
from aggregator.rooms.events import RoomChanged, RoomRemoved
from aggregator.rooms.records import WantedRoom
from aggregator.rooms.store import FILE_NAME, RoomStore
from tests.core.conftest import CoreWorld, eventually

TEAM = "team@rooms.fake.test"


def set_options(world: CoreWorld, **options: str) -> None:
    store = AccountStore(world.paths.accounts_file)
    (account,) = store.load()
    store.save([replace(account, options=options)])


def room_key(world: CoreWorld, handle: str = TEAM) -> ConversationKey:
    return ConversationKey.room(world.account_id, handle)


async def test_autojoin_rooms_are_joined_after_every_connect(world: CoreWorld) -> None:
    carol = world.server.add_user("carol@fake.test", "carol-pw")
    world.server.create_room(TEAM, "release at five", topic_by="Carol")
    await world.server.enter_room(carol, TEAM, "Carol")
    set_options(world, autojoin=f"{TEAM}/Ali")
    core = await world.start()
    changes: list[RoomChanged] = []
    core.bus.subscribe(RoomChanged, changes.append)
    (offline,) = core.rooms.rooms()
    assert (offline.key, offline.joined, offline.autojoin, offline.nick) == (room_key(world), False, True, "Ali")

    await world.wait_state(ConnectionState.CONNECTED)
    await eventually(lambda: (core.rooms.room(room_key(world)) or offline).members == ("Ali", "Carol"))
    room = core.rooms.room(room_key(world))
    assert room is not None and room.joined and room.nick == "Ali"
    assert (room.topic, room.topic_set_by) == ("release at five", "Carol")
    assert changes[-1].room == room
    assert world.server.room_members(TEAM) == {world.alice: "Ali", carol: "Carol"}

    # A room message is archived under the room, with the sender's nick.
    said = await world.server.say_in_room(carol, TEAM, "standup in 5")
    await eventually(lambda: len(core.rooms.history(room_key(world))) == 1)
    (stored,) = core.rooms.history(room_key(world))
    assert stored.conversation.kind is ConversationKind.ROOM
    assert (stored.body, stored.sender, stored.sender_name, stored.server_id) == (
        "standup in 5",
        carol,
        "Carol",
        said.server_id,
    )

    # The connection drops: the room shows not joined; after the reconnect it is joined again.
    await world.server.drop_connections()
    await eventually(lambda: not (core.rooms.room(room_key(world)) or room).joined)
    assert (core.rooms.room(room_key(world)) or room).members == ()
    await world.wait_state(ConnectionState.CONNECTED)
    await eventually(lambda: (core.rooms.room(room_key(world)) or room).joined)
    await eventually(lambda: world.alice in world.server.room_members(TEAM))

    # Leaving an autojoin room sticks: it is gone from the directory, remembered as left in rooms.json,
    # and neither a reconnect nor a new run joins it again; joining it by hand brings it back.
    removed: list[RoomRemoved] = []
    core.bus.subscribe(RoomRemoved, removed.append)
    assert await core.rooms.leave(room_key(world)) is None
    await world.drain()
    assert core.rooms.room(room_key(world)) is None and removed == [RoomRemoved(key=room_key(world))]
    assert world.alice not in world.server.room_members(TEAM)
    saved = json.loads((world.paths.config_dir / FILE_NAME).read_text())
    assert saved["left"] == {world.account_id: [TEAM]}
    await world.server.drop_connections()
    await world.wait_state(ConnectionState.CONNECTED)
    await core.rooms.wait_idle()
    await world.drain()
    assert core.rooms.room(room_key(world)) is None and world.alice not in world.server.room_members(TEAM)
    await world.stop()
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await core.rooms.wait_idle()
    await world.drain()
    assert core.rooms.rooms() == [] and world.alice not in world.server.room_members(TEAM)
    back = await core.rooms.join(world.account_id, TEAM)
    assert back.joined and back.autojoin and world.alice in world.server.room_members(TEAM)
    assert "left" not in json.loads((world.paths.config_dir / FILE_NAME).read_text())


async def test_join_is_remembered_leave_forgets_and_the_topic_can_be_set(world: CoreWorld) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    removed: list[RoomRemoved] = []
    core.bus.subscribe(RoomRemoved, removed.append)
    room = await core.rooms.join(world.account_id, " Dev@Rooms.Fake.Test ", nick="alice-dev")
    key = room_key(world, "dev@rooms.fake.test")
    assert room.key == key and room.joined and room.wanted and not room.autojoin
    await eventually(lambda: (core.rooms.room(key) or room).nick == "alice-dev")
    path = world.paths.config_dir / FILE_NAME
    assert os.stat(path).st_mode & 0o777 == 0o600
    saved = json.loads(path.read_text())["accounts"][world.account_id]
    assert saved == [{"address": "Dev@Rooms.Fake.Test", "nick": "alice-dev", "handle": "dev@rooms.fake.test"}]

    await core.rooms.set_topic(key, "ship it")
    await eventually(lambda: (core.rooms.room(key) or room).topic == "ship it")
    assert (core.rooms.room(key) or room).topic_set_by == "alice-dev"

    # A new run joins it again after the connect.
    await world.stop()
    core = await world.start()
    assert [r.key for r in core.rooms.rooms()] == [key]
    await world.wait_state(ConnectionState.CONNECTED)
    await eventually(lambda: (core.rooms.room(key) or room).joined)
    assert world.server.room_members("dev@rooms.fake.test") == {world.alice: "alice-dev"}

    core.bus.subscribe(RoomRemoved, removed.append)
    assert await core.rooms.leave(key) is None
    assert core.rooms.rooms() == [] and [e.key for e in removed] == [key]
    assert world.server.room_members("dev@rooms.fake.test") == {}
    assert RoomStore(path).load() == {}


async def test_a_refused_autojoin_is_a_warning_with_the_reason(world: CoreWorld) -> None:
    world.server.refuse_joins("vip@rooms.fake.test", "members only")
    set_options(world, autojoin=f"not a room, vip@rooms.fake.test, {TEAM}")
    core = await world.start()
    warnings: list[AccountWarning] = []
    core.bus.subscribe(AccountWarning, warnings.append)
    await world.wait_state(ConnectionState.CONNECTED)
    await eventually(lambda: len(warnings) >= 2)
    assert warnings[0].message.startswith("autojoin: 'not a room' is not a room address")
    assert warnings[1].message == "could not join vip@rooms.fake.test: cannot join vip@rooms.fake.test: members only"
    vip = core.rooms.room(room_key(world, "vip@rooms.fake.test"))
    assert vip is not None and not vip.joined and "members only" in vip.error
    await eventually(lambda: (core.rooms.room(room_key(world)) or vip).joined)  # the next one was still joined
    assert core.accounts.state(world.account_id) is ConnectionState.CONNECTED

    # Joining by hand: the refusal is raised, nothing is remembered.
    with pytest.raises(ProtocolError, match="members only"):
        await core.rooms.join(world.account_id, "vip@rooms.fake.test")
    assert not (world.paths.config_dir / FILE_NAME).exists()


async def test_bad_requests_offline_joins_and_sends_to_a_room(world: CoreWorld) -> None:
    core = await world.start()
    with pytest.raises(ConfigurationError, match="no account"):
        await core.rooms.join("fake:nobody@fake.test", TEAM)
    with pytest.raises(ConfigurationError, match="is not a room address"):
        await core.rooms.join(world.account_id, "no spaces allowed")
    with pytest.raises(ConfigurationError, match="name the room"):
        await core.rooms.join(world.account_id, "  ")
    with pytest.raises(ConfigurationError, match="has no room"):
        await core.rooms.leave(room_key(world, "other@rooms.fake.test"))

    # Not connected yet (or any more): remembered, joined after the connect.
    await core.accounts.stop_account(world.account_id)
    room = await core.rooms.join(world.account_id, TEAM)
    assert not room.joined and room.wanted
    core.accounts.start([world.account_id])
    await world.wait_state(ConnectionState.CONNECTED)
    await eventually(lambda: (core.rooms.room(room_key(world)) or room).joined)

    # A send to the room's address goes to the room (the fake address alone does not say so).
    row = await core.outbound.send(world.account_id, TEAM, "hello room")
    assert row.conversation == room_key(world) and row.state is MessageState.SENT
    (accepted,) = world.server.received(world.alice)
    assert accepted.room == TEAM
    await world.drain()
    (stored,) = core.rooms.history(room_key(world))
    assert stored.id == row.id and stored.direction is Direction.OUT  # the echo matched the sent row


async def test_history_pages_back_newest_page_first(world: CoreWorld) -> None:
    carol = world.server.add_user("carol@fake.test", "carol-pw")
    world.server.create_room(TEAM)
    await world.server.enter_room(carol, TEAM, "Carol")
    set_options(world, autojoin=TEAM)
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await eventually(lambda: core.rooms.room(room_key(world)) is not None and core.rooms.room(room_key(world)).joined)  # type: ignore[union-attr]
    for n in range(5):
        await world.server.say_in_room(carol, TEAM, f"line {n}")
    await eventually(lambda: len(core.rooms.history(room_key(world))) == 5)
    newest = core.rooms.history(room_key(world), limit=2)
    assert [m.body for m in newest] == ["line 3", "line 4"]
    older = core.rooms.history(room_key(world), limit=2, before_id=newest[0].id)
    assert [m.body for m in older] == ["line 1", "line 2"]
    assert core.rooms.history(room_key(world, "unknown@rooms.fake.test")) == []


def test_autojoin_entries_and_a_broken_rooms_file(tmp_path: Path) -> None:
    assert parse_entry(" room@conference.example.org/Alice ") == WantedRoom("room@conference.example.org", "Alice")
    assert parse_entry("#team/ops") == WantedRoom("#team/ops")
    assert parse_entry("#team:matrix.org") == WantedRoom("#team:matrix.org")
    path = tmp_path / FILE_NAME
    path.write_text("{not json")
    assert RoomStore(path).load() == {}
    assert path.with_name(FILE_NAME + ".broken").read_text() == "{not json" and not path.exists()
