"""Contacts on Matrix against a real Synapse: invitations shown at once (also those that came while we
were away), accepted or declined; invitations to rooms; adding a contact (a new, encrypted direct chat the
peer is invited to), removing one, and blocking through the ignore list."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import nio

from aggregator.api import (
    ConversationKey,
    InvitedToRoom,
    MessageReceived,
    OutgoingMessage,
    RequestKind,
    RoomJoined,
    RosterItemChanged,
    RosterItemRemoved,
    SubscriptionRequested,
    SupportsBlocking,
    SupportsInvitations,
    SupportsRosterEdit,
)
from tests.contract.matrix_harness import MatrixHarness, MatrixPeer
from tests.contract.xmpp_harness import wait_until
from tests.protocols.matrix.conftest import Client, NewClient


async def _invite_to_direct_chat(peer: MatrixPeer, user_id: str) -> str:
    created = await peer.client.room_create(
        is_direct=True, invite=[user_id], preset=nio.RoomPreset.trusted_private_chat
    )
    assert isinstance(created, nio.RoomCreateResponse), created
    return str(created.room_id)


def _membership(peer: MatrixPeer, room_id: str, user_id: str) -> str | None:
    """The newest membership of ``user_id`` in ``room_id`` the peer's sync has shown."""
    found = None
    for room, event in peer.events:
        if room == room_id and isinstance(event, nio.RoomMemberEvent) and event.state_key == user_id:
            found = event.membership
    return found


async def _account_data(harness: MatrixHarness, user_id: str, kind: str) -> dict[str, Any]:
    user = harness.users[user_id]
    path = f"/_matrix/client/v3/user/{quote(user_id)}/account_data/{kind}"
    try:
        data: dict[str, Any] = await harness.server.request("GET", path, None, user.access_token)
    except Exception:  # M_NOT_FOUND: none yet
        return {}
    return data


async def _marker(harness: MatrixHarness, client: Client, body: str) -> None:
    """Has another user write ``body`` to ``client`` and waits for it: what was sent before has come too."""
    other = await harness.new_peer()
    await other.send(client.user_id, body)
    await client.sink.wait_for(MessageReceived, lambda e: e.body == body)


async def test_a_direct_chat_invitation_shows_at_once_with_the_inviters_name(
    new_client: NewClient, peer: MatrixPeer
) -> None:
    await peer.client.set_displayname("Peter Peer")
    client = await new_client()
    await _invite_to_direct_chat(peer, client.user_id)
    request = await client.sink.wait_for(SubscriptionRequested)
    assert (request.handle, request.kind, request.display_name) == (
        peer.handle,
        RequestKind.DIRECT_INVITE,
        "Peter Peer",
    )


async def test_an_invitation_that_came_while_away_shows_after_connecting(
    new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client(connect=False)
    room_id = await _invite_to_direct_chat(peer, client.user_id)
    await client.connect()
    request = await client.sink.wait_for(SubscriptionRequested)
    assert (request.handle, request.kind) == (peer.handle, RequestKind.DIRECT_INVITE)
    await client.adapter.answer_subscription(peer.handle, accept=True)
    await wait_until(lambda: _membership(peer, room_id, client.user_id) == "join", what="the peer sees us join")


async def test_declining_a_direct_chat_invitation_leaves_it(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    room_id = await _invite_to_direct_chat(peer, client.user_id)
    await peer.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "let me in"})
    await client.sink.wait_for(SubscriptionRequested)
    await client.adapter.answer_subscription(peer.handle, accept=False)
    await wait_until(lambda: _membership(peer, room_id, client.user_id) == "leave", what="the peer sees us decline")
    await _marker(harness, client, "after declining")
    assert [e.body for e in client.sink.of_type(MessageReceived)] == ["after declining"], "never joined"


async def test_a_room_invitation_is_joined_on_accept(new_client: NewClient, peer: MatrixPeer) -> None:
    client = await new_client()
    created = await peer.client.room_create(name="Project X", invite=[client.user_id])
    assert isinstance(created, nio.RoomCreateResponse), created
    invited = await client.sink.wait_for(InvitedToRoom)
    assert (invited.room, invited.inviter, invited.room_name) == (created.room_id, peer.handle, "Project X")
    assert not client.sink.of_type(SubscriptionRequested), "a room is no contact request"

    joined = await client.adapter.answer_invitation(created.room_id, accept=True)
    assert joined == ConversationKey.room(client.settings.account_id, created.room_id)
    await client.sink.wait_for(RoomJoined, lambda e: e.conversation == joined)
    await peer.client.room_send(created.room_id, "m.room.message", {"msgtype": "m.text", "body": "welcome"})
    message = await client.sink.wait_for(MessageReceived, lambda e: e.body == "welcome")
    assert message.conversation == joined


async def test_a_declined_room_invitation_is_left(new_client: NewClient, peer: MatrixPeer) -> None:
    client = await new_client()
    created = await peer.client.room_create(name="Not for me", invite=[client.user_id])
    assert isinstance(created, nio.RoomCreateResponse), created
    await client.sink.wait_for(InvitedToRoom)
    assert await client.adapter.answer_invitation(created.room_id, accept=False) is None
    await wait_until(
        lambda: _membership(peer, created.room_id, client.user_id) == "leave", what="the peer sees us decline"
    )


async def test_adding_a_contact_starts_an_encrypted_direct_chat_the_peer_is_invited_to(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    await client.adapter.add_contact(peer.address)
    await client.sink.wait_for(RosterItemChanged, lambda e: e.item.handle == peer.handle)
    direct = await _account_data(harness, client.user_id, "m.direct")
    assert list(direct) == [peer.address] and len(direct[peer.address]) == 1
    room_id = direct[peer.address][0]
    # The peer (who joins every invitation) was invited to exactly that room, as a direct chat.
    await wait_until(lambda: _membership(peer, room_id, peer.address) == "join", what="the peer joins")
    invite = next(
        e for r, e in peer.events if r == room_id and isinstance(e, nio.RoomMemberEvent) and e.membership == "invite"
    )
    assert invite.state_key == peer.address and invite.content.get("is_direct") is True
    token = harness.users[client.user_id].access_token
    encryption = await harness.server.request(
        "GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/state/m.room.encryption", None, token
    )
    assert encryption["algorithm"] == "m.megolm.v1.aes-sha2", "new direct chats are encrypted by default"
    await client.adapter.add_contact(peer.address)  # again: the same chat, no second room
    assert (await _account_data(harness, client.user_id, "m.direct"))[peer.address] == [room_id]


async def test_adding_a_contact_without_encryption_lets_a_plain_client_read(
    new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client(options={"encrypt_new_chats": "false"})
    await client.adapter.add_contact(peer.address)
    conversation = ConversationKey.direct(client.settings.account_id, peer.handle)
    await client.adapter.send_message(conversation, OutgoingMessage("hello new contact", "k-new"))
    assert await peer.next_message() == (client.user_id, "hello new contact")
    await peer.send(client.user_id, "hello back")
    reply = await client.sink.wait_for(MessageReceived, lambda e: e.body == "hello back")
    assert reply.conversation == conversation


async def test_removing_a_contact_leaves_the_direct_chat_and_m_direct(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client(connect=False)
    room_id = await harness.make_direct_room(client.user_id, peer.address)
    await client.connect()
    await client.adapter.remove_contact(peer.address)
    removed = await client.sink.wait_for(RosterItemRemoved)
    assert removed.handle == peer.handle
    await wait_until(lambda: _membership(peer, room_id, client.user_id) == "leave", what="the peer sees us leave")
    assert peer.address not in await _account_data(harness, client.user_id, "m.direct")


async def test_a_blocked_users_messages_no_longer_arrive(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client(connect=False)
    await harness.make_direct_room(client.user_id, peer.address)
    await client.connect()
    await peer.send(client.user_id, "before the block")
    await client.sink.wait_for(MessageReceived, lambda e: e.body == "before the block")

    await client.adapter.block(peer.address)
    assert await client.adapter.blocked() == (peer.handle,)
    ignored = await _account_data(harness, client.user_id, "m.ignored_user_list")
    assert list(ignored["ignored_users"]) == [peer.address]
    await peer.send(client.user_id, "while blocked")
    await _marker(harness, client, "marker after the block")
    assert "while blocked" not in [e.body for e in client.sink.of_type(MessageReceived)]

    await client.adapter.unblock(peer.address)
    assert await client.adapter.blocked() == ()
    await peer.send(client.user_id, "after the unblock")
    await client.sink.wait_for(MessageReceived, lambda e: e.body == "after the unblock")


async def test_a_blocked_users_invitations_are_not_shown(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    await client.adapter.block(peer.address)
    await _invite_to_direct_chat(peer, client.user_id)
    await _marker(harness, client, "marker after the invitation")
    assert all(e.handle != peer.handle for e in client.sink.of_type(SubscriptionRequested))


async def test_a_pending_invitation_shows_again_after_a_restart(new_client: NewClient, peer: MatrixPeer) -> None:
    client = await new_client()
    await _invite_to_direct_chat(peer, client.user_id)
    await client.sink.wait_for(SubscriptionRequested)
    await client.adapter.disconnect()
    again = await new_client(user=client.user)  # resumes from the stored sync token
    request = await again.sink.wait_for(SubscriptionRequested)
    assert (request.handle, request.kind) == (peer.handle, RequestKind.DIRECT_INVITE)


async def test_a_direct_chat_invitation_can_be_answered_by_its_room(new_client: NewClient, peer: MatrixPeer) -> None:
    client = await new_client()
    assert all(isinstance(client.adapter, kind) for kind in (SupportsRosterEdit, SupportsBlocking, SupportsInvitations))
    room_id = await _invite_to_direct_chat(peer, client.user_id)
    await client.sink.wait_for(SubscriptionRequested)
    joined = await client.adapter.answer_invitation(room_id, accept=True)
    assert joined == ConversationKey.direct(client.settings.account_id, peer.handle)
    await peer.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "glad you came"})
    message = await client.sink.wait_for(MessageReceived, lambda e: e.body == "glad you came")
    assert message.conversation == joined


async def test_blocking_an_inviter_declines_the_pending_invitation(new_client: NewClient, peer: MatrixPeer) -> None:
    client = await new_client()
    room_id = await _invite_to_direct_chat(peer, client.user_id)
    await client.sink.wait_for(SubscriptionRequested)
    await client.adapter.block(peer.address)
    await wait_until(lambda: _membership(peer, room_id, client.user_id) == "leave", what="the peer sees us decline")
