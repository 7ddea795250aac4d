"""The room directory against the session's real Synapse: a Matrix account whose ``autojoin`` names
a room alias joins it after it connects (the alias resolves to the room id), the members and topic
(with who set it) are right and follow changes, a message from another user is archived under the
room, and a leave sticks across a reconnect."""

from __future__ import annotations

import secrets
from pathlib import Path

import nio

from aggregator.accounts.config import AccountConfig
from aggregator.api import ConversationKey, ConversationKind
from aggregator.archive import Direction
from tests.contract.matrix_harness import MatrixHarness
from tests.core.conftest import eventually
from tests.core.live_core import current, live_account


async def test_autojoined_alias_members_topic_messages_and_a_leave_that_sticks(
    matrix_harness: MatrixHarness, tmp_path: Path, keyring_env: None
) -> None:
    harness = matrix_harness
    user = await harness.new_matrix_user()
    bob = await harness.new_peer()
    alias = f"#rooms-{secrets.token_hex(4)}:localhost"
    created = await bob.client.room_create(
        alias=alias[1:].partition(":")[0],
        name="Team",
        topic="Plans for Monday",
        visibility=nio.RoomVisibility.public,
        power_level_override={"events": {"m.room.topic": 0}},
    )
    assert isinstance(created, nio.RoomCreateResponse), created
    me, other = user.localpart, bob.user.localpart  # Synapse's default display names
    config = AccountConfig(
        id="",
        protocol="matrix",
        address=user.user_id,
        server=harness.server.url,
        allow_plaintext=True,
        options={"autojoin": alias},
    )
    async with live_account(tmp_path, config, user.password) as account, account.running() as core:
        key = ConversationKey.room(account.account_id, created.room_id)
        await eventually(lambda: current(core, key).joined, 20)
        await core.rooms.wait_idle()
        await eventually(lambda: set(current(core, key).members) == {me, other}, 15)
        room = current(core, key)
        assert room.autojoin and room.address == alias and room.nick == me and room.error == ""
        assert (room.topic, room.topic_set_by) == ("Plans for Monday", other)
        assert [r.key for r in core.rooms.rooms()] == [key]  # the alias is not listed a second time

        # Another user's message is archived under the room (its id, not the alias).
        sent = await bob.client.room_send(created.room_id, "m.room.message", {"msgtype": "m.text", "body": "hi all"})
        assert isinstance(sent, nio.RoomSendResponse), sent
        await eventually(lambda: any(m.body == "hi all" for m in core.rooms.history(key)), 15)
        (message,) = [m for m in core.rooms.history(key) if m.body == "hi all"]
        assert message.conversation.kind is ConversationKind.ROOM and message.direction is Direction.IN
        assert message.server_id == sent.event_id

        # A topic change by the other user, and the member list following a join and a leave.
        await bob.client.room_put_state(created.room_id, "m.room.topic", {"topic": "Plans for Tuesday"})
        await eventually(lambda: current(core, key).topic == "Plans for Tuesday", 15)
        assert current(core, key).topic_set_by == other
        carol = await harness.new_peer()
        assert isinstance(await carol.client.join(created.room_id), nio.JoinResponse)
        await eventually(lambda: set(current(core, key).members) == {me, other, carol.user.localpart}, 15)
        assert isinstance(await carol.client.room_leave(created.room_id), nio.RoomLeaveResponse)
        await eventually(lambda: set(current(core, key).members) == {me, other}, 15)

        # Leaving sticks: a reconnect does not join the autojoin alias again.
        assert await core.rooms.leave(key) is None
        await account.reconnect(core)
        assert core.rooms.room(key) is None and core.rooms.rooms() == []
        joined = await bob.client.joined_members(created.room_id)
        assert isinstance(joined, nio.JoinedMembersResponse), joined
        assert {m.user_id for m in joined.members} == {bob.user.user_id}
