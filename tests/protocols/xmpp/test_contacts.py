"""Contacts on a real Prosody: adding with pre-approval, answering requests, XEP-0191 blocking and
XEP-0249 room invitations, with a second user on a plain slixmpp client."""

from __future__ import annotations

from aggregator.api import (
    ConversationKey,
    ConversationKind,
    InvitedToRoom,
    MessageReceived,
    OutgoingMessage,
    PresenceChanged,
    PresenceKind,
    SubscriptionRequested,
)
from tests.contract.xmpp_harness import XmppHarness, server_round_trip, wait_until
from tests.protocols.xmpp.conftest import NewClient


async def test_adding_a_contact_subscribes_both_ways_without_asking_us_back(
    new_client: NewClient, harness: XmppHarness
) -> None:
    client = await new_client()
    peer = await harness.new_peer()  # accepts and asks back on its own, like most clients
    await client.adapter.add_contact(peer.address, "Peer", ("Friends",))
    await wait_until(lambda: peer.client.client_roster[client.jid]["subscription"] == "both", what="mutual")
    await peer.set_presence(PresenceKind.AWAY, "at lunch")
    seen = await client.sink.wait_for(PresenceChanged, lambda e: e.presence.status == "at lunch")
    assert seen.handle == peer.handle
    # Their request to see us was pre-approved by our add: no request reached us.
    assert not client.sink.of_type(SubscriptionRequested)
    await client.adapter.send_message(
        ConversationKey.direct(client.adapter._account_id, peer.handle), OutgoingMessage("hi, added you", "k1")
    )
    assert await peer.next_message() == (client.jid, "hi, added you")


async def test_a_request_carries_the_nick_and_a_decline_keeps_them_out(
    new_client: NewClient, harness: XmppHarness
) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    peer.send_raw(
        f"<presence to='{client.jid}' type='subscribe'><status>hello, it's me</status>"
        "<nick xmlns='http://jabber.org/protocol/nick'>Pia Peer</nick></presence>"
    )
    request = await client.sink.wait_for(SubscriptionRequested)
    assert (request.handle, request.display_name, request.message) == (peer.handle, "Pia Peer", "hello, it's me")
    await client.adapter.answer_subscription(peer.handle, accept=False)
    await wait_until(lambda: peer.client.client_roster[client.jid]["subscription"] == "none", what="declined")


async def test_a_blocked_peers_messages_stop_until_unblocked(new_client: NewClient, harness: XmppHarness) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    await client.adapter.block(peer.address)
    assert await client.adapter.blocked() == (peer.handle,)
    await peer.send(client.jid, "while blocked")  # the server drops it (and answers the sender with an error)
    await client.adapter.unblock(peer.address)
    assert await client.adapter.blocked() == ()
    await peer.send(client.jid, "after unblocking")
    await client.sink.wait_for(MessageReceived, lambda e: e.body == "after unblocking")
    assert [e.body for e in client.sink.of_type(MessageReceived)] == ["after unblocking"]


async def test_a_direct_room_invitation_is_an_invitation_not_a_message(
    new_client: NewClient, harness: XmppHarness
) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    room = f"plans-{client.jid.partition('@')[0]}@{harness.server.muc_domain}"
    peer.send_raw(
        f"<message to='{client.jid}'><body>join us</body>"
        f"<x xmlns='jabber:x:conference' jid='{room}' reason='the plans'/></message>"
    )
    await server_round_trip(peer.client)
    invited = await client.sink.wait_for(InvitedToRoom)
    assert (invited.room, invited.inviter, invited.reason) == (room, peer.handle, "the plans")
    key = await client.adapter.answer_invitation(room, accept=True)
    assert key == ConversationKey(client.adapter._account_id, ConversationKind.ROOM, room)
    await peer.send(client.jid, "marker")
    await client.sink.wait_for(MessageReceived, lambda e: e.body == "marker")
    assert [e.body for e in client.sink.of_type(MessageReceived)] == ["marker"]  # the invitation's body is not one
