"""``aggregator rooms``: on the profile alone, and through a running instance (control socket)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cli.conftest import CountingServer, Profile, Users, wait_until

TEAM = "team@rooms.fake.test"
Rooms = list[dict[str, Any]]


async def rooms_json(profile: Profile, *extra: str) -> Rooms:
    return list(json.loads((await profile.run("rooms", "list", *extra, "--json")).ok().stdout))


async def wait_rooms(profile: Profile, until: Callable[[Rooms], bool], timeout: float = 10.0) -> Rooms:
    deadline = time.monotonic() + timeout
    while True:
        rooms = await rooms_json(profile)
        if until(rooms):
            return rooms
        if time.monotonic() > deadline:
            raise AssertionError(f"rooms never matched within {timeout} s; last: {rooms}")
        await asyncio.sleep(0.1)


async def test_join_offline_then_the_running_instance_joins_lists_sets_the_topic_and_leaves(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice, carol = users.alice, users.carol
    server.create_room(TEAM, "release at five", topic_by="Carol")
    await server.enter_room(carol.address, TEAM, "Carol")
    await profile.add(alice, server)

    # No running instance: remembered for the next connect.
    joined = (await profile.run("rooms", "join", alice.address, TEAM, "--nick", "Ali")).ok()
    assert f"{TEAM} will be joined when {alice.account_id} connects." in joined.stdout
    listed = (await profile.run("rooms")).ok().stdout
    assert f"== {alice.account_id} ==" in listed and f"{TEAM}  (joined when the account connects)" in listed

    # The running instance joins it after the connect.
    await profile.headless(connected=alice)
    (room,) = await wait_rooms(profile, lambda rooms: bool(rooms) and rooms[0]["members"] == ["Ali", "Carol"])
    assert room["joined"] and room["nick"] == "Ali" and room["topic"] == "release at five"
    assert server.room_members(TEAM)[alice.address] == "Ali"
    listed = (await profile.run("rooms")).ok().stdout
    assert f"{TEAM}  (joined as Ali, 2 members)" in listed and "topic: release at five (set by Carol)" in listed

    topic = (await profile.run("rooms", "topic", alice.account_id, TEAM, "shipped")).ok()
    assert "is now: shipped" in topic.stdout
    assert server.room_topic(TEAM) == ("shipped", "Ali")

    # A second room, joined at once through the instance; a refused one is a one-line error.
    dev = (await profile.run("rooms", "join", alice.account_id, "dev@rooms.fake.test")).ok()
    assert f"Joined dev@rooms.fake.test on {alice.account_id} as {alice.address.partition('@')[0]}." in dev.stdout
    server.refuse_joins("vip@rooms.fake.test", "members only")
    refused = await profile.run("rooms", "join", alice.account_id, "vip@rooms.fake.test")
    assert "members only" in refused.error_line(1)

    left = (await profile.run("rooms", "leave", alice.address, TEAM)).ok()
    assert f"Left {TEAM} on {alice.account_id}." in left.stdout
    await wait_until(lambda: alice.address not in server.room_members(TEAM), "alice out of the room")
    assert [r["address"] for r in await rooms_json(profile, alice.address)] == ["dev@rooms.fake.test"]


async def test_bad_rooms_requests_are_usage_errors(profile: Profile, server: CountingServer, users: Users) -> None:
    alice = users.alice
    await profile.add(alice, server)
    assert "No rooms." in (await profile.run("rooms")).ok().stdout
    bad = await profile.run("rooms", "join", alice.address, "not a room")
    assert "is not a room address" in bad.error_line(2)
    unknown = await profile.run("rooms", "join", "nobody@fake.test", TEAM)
    assert "no account 'nobody@fake.test'" in unknown.error_line(2)
    missing = await profile.run("rooms", "leave", alice.address, TEAM)
    assert f"{alice.account_id} has no room '{TEAM}' (rooms: none)" in missing.error_line(2)
    assert "has no room" in (await profile.run("rooms", "topic", alice.address, TEAM, "x")).error_line(2)
    (await profile.run("rooms", "join", alice.address, TEAM)).ok()
    offline = await profile.run("rooms", "topic", alice.address, TEAM, "x")
    assert "needs the running instance" in offline.error_line(1)
    (await profile.run("rooms", "leave", alice.address, TEAM)).ok()
    assert await rooms_json(profile) == []


async def test_leaving_an_autojoin_room_sticks_unless_the_policy_locks_it(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    alice = users.alice
    await profile.add(alice, server)
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[[profiles]]\nname = "team-chat"\nprotocol = "fake"\nusername = "{alice.address}"\n'
        f'server = "{server.address}"\nallow_plaintext = true\nautojoin = ["{TEAM}"]\nlocked = ["autojoin"]\n',
        encoding="utf-8",
    )
    locked = {"AGGREGATOR_POLICY": str(policy)}
    # The first apply adopts the existing account for the profile, the second puts its locked autojoin in.
    (await profile.run("policy", "apply", env=locked)).ok()
    (await profile.run("policy", "apply", env=locked)).ok()
    refused = await profile.run("rooms", "leave", alice.address, TEAM, env=locked)
    reason = f"cannot leave {TEAM}: the organisation's policy locks this account's autojoin rooms (profile 'team-chat')"
    assert reason in refused.error_line(1)
    assert [r["address"] for r in await rooms_json(profile)] == [TEAM]

    # Without the lock, the leave is remembered: the room is no longer listed (nor joined later).
    left = (await profile.run("rooms", "leave", alice.address, TEAM)).ok()
    assert "it stays left until you join it again" in left.stdout
    assert await rooms_json(profile) == []
