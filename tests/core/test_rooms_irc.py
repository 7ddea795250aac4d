"""The room directory against the session's real InspIRCd: an IRC account with ``autojoin`` joins the
channel after it connects (the room service joins it, not the adapter), the members and topic are
right, a message from another client is archived under the channel, and a leave sticks across a
reconnect."""

from __future__ import annotations

import secrets
from pathlib import Path

from aggregator.accounts.config import AccountConfig
from aggregator.api import ConversationKey, ConversationKind
from aggregator.archive import Direction
from protocols.irc import events as ev
from tests.contract.irc_harness import IrcHarness
from tests.core.conftest import eventually
from tests.core.live_core import current, live_account


async def test_autojoined_channel_members_topic_messages_and_a_leave_that_sticks(
    irc_harness: IrcHarness, tmp_path: Path, keyring_env: None
) -> None:
    harness = irc_harness
    nick, password = await harness.new_user()
    channel = f"#rooms-{secrets.token_hex(4)}"
    bob = await harness.new_peer()
    await bob.join(channel)  # the first to join: an operator, so the topic is his to set
    bob.write(bob.client.set_topic(channel, "Plans for Monday"))
    await bob.wait_event(lambda e: isinstance(e, ev.Topic) and e.topic == "Plans for Monday")
    config = AccountConfig(
        id="",
        protocol="irc",
        address=nick,
        server=harness.server.tls_address,
        ca_file=str(harness.certs.ca_file),
        options={"autojoin": channel},
    )
    async with live_account(tmp_path, config, password) as account, account.running() as core:
        key = ConversationKey.room(account.account_id, channel)
        await eventually(lambda: (r := core.rooms.room(key)) is not None and r.joined, 20)
        await core.rooms.wait_idle()
        await eventually(lambda: set(current(core, key).members) == {nick, bob.handle}, 15)
        room = core.rooms.room(key)
        assert room is not None and room.autojoin and room.nick == nick and room.error == ""
        assert (room.topic, room.topic_set_by) == ("Plans for Monday", bob.handle)

        # Another client's message is archived under the channel.
        await bob.send_message(channel, "hello from bob")
        await eventually(lambda: any(m.body == "hello from bob" for m in core.rooms.history(key)), 15)
        (message,) = [m for m in core.rooms.history(key) if m.body == "hello from bob"]
        assert message.conversation.kind is ConversationKind.ROOM and message.direction is Direction.IN
        assert message.sender == bob.handle and message.server_id

        # A topic change and someone leaving are followed.
        bob.write(bob.client.set_topic(channel, "Plans for Tuesday"))
        await eventually(lambda: current(core, key).topic == "Plans for Tuesday", 15)
        carol = await harness.new_peer()
        await carol.join(channel)
        await eventually(lambda: carol.handle in current(core, key).members, 15)
        carol.write(carol.client.part(channel))
        await eventually(lambda: carol.handle not in current(core, key).members, 15)

        # Leaving sticks: the service does not join the autojoin channel again after a reconnect.
        assert await core.rooms.leave(key) is None
        await bob.wait_event(lambda e: isinstance(e, ev.Parted) and e.nick == nick and e.channel == channel)
        await account.reconnect(core)
        await bob.sync()
        assert core.rooms.room(key) is None
        joins = [e for e in bob.events if isinstance(e, ev.Joined) and e.nick == nick and e.channel == channel]
        assert len(joins) == 1  # the first, autojoined one only
