"""Group rooms on the session's real Synapse: joined by alias, members and topic reported from the
sync, a topic change by someone else, members following joins and leaves, a kick with its reason."""

from __future__ import annotations

import secrets

import nio
import pytest

from aggregator.api import ConfigurationError, ConversationKey, RoomJoined, RoomLeft, RoomMembers, RoomTopic
from tests.contract.matrix_harness import MatrixHarness, MatrixPeer
from tests.protocols.matrix.conftest import NewClient


async def test_a_group_room_reports_members_topic_and_a_kick(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    alias_name = f"team-{secrets.token_hex(4)}"
    created = await peer.client.room_create(
        alias=alias_name,
        name="Team",
        topic="Plans for Monday",
        visibility=nio.RoomVisibility.public,
        power_level_override={"events": {"m.room.topic": 0}},  # anyone may set the topic
    )
    assert isinstance(created, nio.RoomCreateResponse), created
    me, other = client.user.localpart, peer.user.localpart

    joined = await client.adapter.join_room(f"#{alias_name}:localhost")
    key = ConversationKey.room(client.settings.account_id, created.room_id)
    assert joined == key  # the alias answered with the room id
    assert (await client.sink.wait_for(RoomJoined, lambda e: e.conversation == key)).nick == me
    await client.sink.wait_for(RoomMembers, lambda e: e.conversation == key and set(e.members) == {me, other})
    topic = await client.sink.wait_for(RoomTopic, lambda e: e.conversation == key)
    assert (topic.topic, topic.set_by) == ("Plans for Monday", other)

    await peer.client.room_put_state(created.room_id, "m.room.topic", {"topic": "Plans for Tuesday"})
    changed = await client.sink.wait_for(RoomTopic, lambda e: e.conversation == key and e.topic == "Plans for Tuesday")
    assert changed.set_by == other

    third = await harness.new_peer()
    try:
        assert isinstance(await third.client.join(created.room_id), nio.JoinResponse)
        name = third.user.localpart
        await client.sink.wait_for(RoomMembers, lambda e: e.conversation == key and set(e.members) == {me, other, name})
        assert isinstance(await third.client.room_leave(created.room_id), nio.RoomLeaveResponse)
        earlier = client.sink.of_type(RoomMembers)
        after_leave = await client.sink.wait_for(
            RoomMembers, lambda e: e.conversation == key and all(e is not seen for seen in earlier)
        )
        assert after_leave.members == tuple(sorted((me, other), key=str.casefold))
    finally:
        await third.close()

    alias_key = ConversationKey.room(client.settings.account_id, f"#{alias_name}:localhost")
    await client.adapter.set_topic(alias_key, "Set by me")  # an alias names the room too
    mine = await client.sink.wait_for(RoomTopic, lambda e: e.conversation == key and e.topic == "Set by me")
    assert mine.set_by == me

    with pytest.raises(ConfigurationError):
        await client.adapter.set_topic(ConversationKey.room(client.settings.account_id, "@someone:localhost"), "x")

    kicked = await peer.client.room_kick(created.room_id, client.user_id, reason="too noisy")
    assert isinstance(kicked, nio.RoomKickResponse), kicked
    left = await client.sink.wait_for(RoomLeft, lambda e: e.conversation == key)
    assert left.reason == f"removed from the room by {peer.user.user_id}: too noisy"
