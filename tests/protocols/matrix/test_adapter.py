"""The Matrix adapter against a real Synapse: login and tokens, sync resume, outages, invitations,
edits, redactions, typing, receipts, rooms and end-to-end encryption."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nio
import pytest

from aggregator.api import (
    AccountSettings,
    AuthenticationError,
    ConfigurationError,
    ConnectionLost,
    ConversationKey,
    ConversationKind,
    Credentials,
    CredentialsUpdated,
    MessageKind,
    MessageReceived,
    MessageState,
    MessageStateChanged,
    NetworkError,
    OutgoingMessage,
    PlaintextRefusedError,
    RoomJoined,
    RosterSnapshot,
    SubscriptionRequested,
    TypingChanged,
)
from protocols.matrix.adapter import MatrixAdapter
from protocols.matrix.mapping import REDACTED_BODY, UNDECRYPTABLE_BODY
from tests.contract.matrix_harness import MatrixHarness, MatrixPeer
from tests.contract.sink import EventCollector
from tests.protocols.matrix.conftest import NewClient
from tests.servers.synapse import SynapseServer

# ------------------------------------------------------------------------------------- settings


async def test_http_without_allow_plaintext_is_refused(new_client: NewClient) -> None:
    client = await new_client(connect=False, allow_plaintext=False)
    with pytest.raises(PlaintextRefusedError) as raised:
        await client.connect()
    assert "http://" in str(raised.value)
    assert not client.sink.of_type(CredentialsUpdated)


def test_unreadable_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    settings = AccountSettings("m", "@a:example.org", ca_file=tmp_path / "missing.pem")
    with pytest.raises(ConfigurationError):
        MatrixAdapter(settings, EventCollector())


async def test_unreachable_https_homeserver_is_a_network_error(harness: MatrixHarness) -> None:
    user = await harness.new_matrix_user()
    settings = AccountSettings("m", user.user_id, server="https://127.0.0.1:9")
    adapter = MatrixAdapter(settings, EventCollector())
    with pytest.raises(NetworkError) as raised:
        await adapter.connect(Credentials(user.password))
    assert raised.value.retryable
    assert user.password not in str(raised.value)
    await adapter.disconnect()


# ---------------------------------------------------------------------------------- credentials


async def test_wrong_password_is_an_authentication_error(new_client: NewClient) -> None:
    client = await new_client(connect=False)
    wrong = "Wr0ng-" + secrets.token_urlsafe(12)
    with pytest.raises(AuthenticationError) as raised:
        await client.adapter.connect(Credentials(wrong))
    assert wrong not in f"{raised.value} {raised.value!r}"
    assert not raised.value.retryable


async def test_first_login_emits_the_tokens(new_client: NewClient) -> None:
    client = await new_client()
    tokens = client.tokens()
    # pickle_key: the encryption store's key, for the keyring (issue 13, defect 8).
    assert set(tokens) == {"access_token", "device_id", "user_id", "pickle_key"}
    assert tokens["user_id"] == client.user_id
    shown = repr(client.sink.of_type(CredentialsUpdated)[0])
    assert tokens["access_token"] not in shown and tokens["pickle_key"] not in shown


async def test_restart_with_stored_tokens_makes_no_new_device(
    new_client: NewClient, running_synapse: SynapseServer
) -> None:
    first = await new_client()
    tokens = first.tokens()
    await first.adapter.disconnect()
    devices = {d["device_id"] for d in await running_synapse.devices(first.user_id)}
    assert tokens["device_id"] in devices

    second = await new_client(connect=False, user=first.user)
    await second.connect(tokens)
    assert not second.sink.of_type(CredentialsUpdated), "the stored login was reused"
    assert {d["device_id"] for d in await running_synapse.devices(first.user_id)} == devices


async def test_a_revoked_token_falls_back_to_the_password_once(
    new_client: NewClient, running_synapse: SynapseServer
) -> None:
    first = await new_client()
    tokens = first.tokens()
    await first.adapter.disconnect()
    await running_synapse.request("POST", "/_matrix/client/v3/logout", {}, tokens["access_token"])

    second = await new_client(connect=False, user=first.user)
    await second.connect(tokens)
    new_tokens = second.tokens()
    assert new_tokens["access_token"] != tokens["access_token"]
    assert new_tokens["device_id"] != tokens["device_id"]


async def test_a_revoked_token_without_password_is_an_authentication_error(
    new_client: NewClient, running_synapse: SynapseServer
) -> None:
    first = await new_client()
    tokens = first.tokens()
    await first.adapter.disconnect()
    await running_synapse.request("POST", "/_matrix/client/v3/logout", {}, tokens["access_token"])
    second = await new_client(connect=False, user=first.user)
    with pytest.raises(AuthenticationError):
        await second.adapter.connect(Credentials(None, tokens))


# ---------------------------------------------------------------------------------------- sync


async def test_restart_resumes_from_the_stored_sync_token(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    first = await new_client()
    await harness.make_contacts(first.user_id, peer.address)
    await peer.send(first.user_id, "before")
    await first.sink.wait_for(MessageReceived, lambda e: e.body == "before")
    tokens = first.tokens()
    await first.adapter.disconnect()

    await peer.send(first.user_id, "while offline")
    second = await new_client(connect=False, user=first.user)
    await second.connect(tokens)
    missed = await second.sink.wait_for(MessageReceived, lambda e: e.body == "while offline")
    assert not missed.is_backfill
    assert missed.conversation == ConversationKey.direct(second.settings.account_id, peer.handle)
    # A later message comes in a later sync: had the first sync re-read "before", it would be in by now.
    await peer.send(first.user_id, "marker")
    await second.sink.wait_for(MessageReceived, lambda e: e.body == "marker")
    assert not second.sink.of_type(MessageReceived, lambda e: e.body == "before"), "resumed, not re-read"


async def test_first_connect_reports_a_roster_of_direct_chats(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client(connect=False)
    await harness.make_contacts(client.user_id, peer.address)
    await client.connect()
    snapshot = client.sink.of_type(RosterSnapshot)[0]
    assert [item.handle for item in snapshot.items] == [peer.handle]


async def test_an_outage_is_one_connection_lost_and_reconnecting_works(
    harness: MatrixHarness, new_client: NewClient, running_synapse: SynapseServer
) -> None:
    client = await new_client()
    tokens = client.tokens()
    await running_synapse.stop_async()
    try:
        lost = await client.sink.wait_for(ConnectionLost, timeout=15)
        assert lost.retryable
        with pytest.raises(NetworkError):
            await client.connect(tokens)
    finally:
        await running_synapse.start_async()
    await client.connect(tokens)
    peer = await harness.new_peer()
    await harness.make_contacts(client.user_id, peer.address)
    await peer.send(client.user_id, "after the outage")
    await client.sink.wait_for(MessageReceived, lambda e: e.body == "after the outage")
    assert len(client.sink.of_type(ConnectionLost)) == 1  # syncing again, and no second report meanwhile


# ------------------------------------------------------------------------------------ messages


async def test_an_invitation_is_a_subscription_request_joined_on_accept(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    created = await peer.client.room_create(
        is_direct=True, invite=[client.user_id], preset=nio.RoomPreset.trusted_private_chat
    )
    room_id = created.room_id
    await peer.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "hi, accept me"})
    request = await client.sink.wait_for(SubscriptionRequested)
    assert request.handle == peer.handle
    # A contact's message comes in a later sync than the invitation: had the adapter joined on its own,
    # the server would show it joined by then.
    other = await harness.new_peer()
    await harness.make_contacts(client.user_id, other.address)
    await other.send(client.user_id, "marker")
    await client.sink.wait_for(MessageReceived, lambda e: e.body == "marker")
    members = await peer.client.joined_members(room_id)
    assert isinstance(members, nio.JoinedMembersResponse) and client.user_id not in {m.user_id for m in members.members}
    assert [e.body for e in client.sink.of_type(MessageReceived)] == ["marker"], "not joined before the user accepts"

    await client.adapter.answer_subscription(peer.handle, accept=True)
    message = await client.sink.wait_for(MessageReceived, lambda e: e.body == "hi, accept me")
    assert message.conversation == ConversationKey.direct(client.settings.account_id, peer.handle)
    receipt = await client.adapter.send_message(message.conversation, OutgoingMessage("accepted", "k1"))
    assert receipt.remote_id
    sender, body = await peer.next_message()
    assert (sender, body) == (client.user_id, "accepted")
    assert any(r == room_id for r, e in peer.events if getattr(e, "body", None) == "accepted"), "same room"


async def test_a_retried_send_with_the_same_key_is_delivered_once(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    await harness.make_contacts(client.user_id, peer.address)
    conversation = ConversationKey.direct(client.settings.account_id, peer.handle)
    first = await client.adapter.send_message(conversation, OutgoingMessage("only once", "same-key"))
    again = await client.adapter.send_message(conversation, OutgoingMessage("only once", "same-key"))
    assert first.remote_id == again.remote_id
    assert (await peer.next_message())[1] == "only once"
    await client.adapter.send_message(conversation, OutgoingMessage("marker", "marker-key"))
    assert (await peer.next_message())[1] == "marker"  # no second copy before it


async def test_an_edit_names_the_message_it_replaces(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    room_id = await harness.make_direct_room(client.user_id, peer.address)
    sent = await peer.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "helo"})
    edit = {
        "msgtype": "m.text",
        "body": "* hello",
        "m.new_content": {"msgtype": "m.text", "body": "hello"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": sent.event_id},
    }
    await peer.client.room_send(room_id, "m.room.message", edit)
    corrected = await client.sink.wait_for(MessageReceived, lambda e: e.replaces_server_id is not None)
    assert corrected.body == "hello"
    assert corrected.replaces_server_id == sent.event_id


async def test_a_redaction_names_the_message_it_deletes(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    room_id = await harness.make_direct_room(client.user_id, peer.address)
    sent = await peer.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "oops"})
    await client.sink.wait_for(MessageReceived, lambda e: e.server_id == sent.event_id)
    redacted = await peer.client.room_redact(room_id, sent.event_id, reason="wrong chat")
    assert isinstance(redacted, nio.RoomRedactResponse)
    note = await client.sink.wait_for(MessageReceived, lambda e: e.replaces_server_id == sent.event_id)
    assert note.server_id == redacted.event_id and note.kind is MessageKind.SYSTEM
    assert note.sender == peer.handle and not note.is_own_echo and not note.is_backfill
    assert note.body == f"[message deleted by {peer.handle}: wrong chat]"
    assert note.conversation == ConversationKey.direct(client.settings.account_id, peer.handle)
    assert note.timestamp is not None


async def test_a_message_redacted_before_it_was_seen_is_a_placeholder(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client(connect=False)
    room_id = await harness.make_direct_room(client.user_id, peer.address)
    sent = await peer.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "secret"})
    redacted = await peer.client.room_redact(room_id, sent.event_id)
    assert isinstance(redacted, nio.RoomRedactResponse)
    await client.connect()
    placeholder = await client.sink.wait_for(MessageReceived, lambda e: e.server_id == sent.event_id)
    assert placeholder.body == REDACTED_BODY and placeholder.kind is MessageKind.SYSTEM
    assert placeholder.sender == peer.handle and placeholder.is_backfill and placeholder.replaces_server_id is None
    note = await client.sink.wait_for(MessageReceived, lambda e: e.server_id == redacted.event_id)
    assert note.replaces_server_id == sent.event_id and note.body == f"[message deleted by {peer.handle}]"
    assert not client.sink.of_type(MessageReceived, lambda e: "secret" in e.body)


async def test_emotes_notices_and_own_echo(harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer) -> None:
    client = await new_client()
    room_id = await harness.make_direct_room(client.user_id, peer.address)
    await peer.client.room_send(room_id, "m.room.message", {"msgtype": "m.emote", "body": "waves"})
    await peer.client.room_send(room_id, "m.room.message", {"msgtype": "m.notice", "body": "a bot says"})
    emote = await client.sink.wait_for(MessageReceived, lambda e: e.body == "waves")
    notice = await client.sink.wait_for(MessageReceived, lambda e: e.body == "a bot says")
    assert (emote.kind.name, notice.kind.name) == ("ACTION", "NOTICE")
    conversation = ConversationKey.direct(client.settings.account_id, peer.handle)
    receipt = await client.adapter.send_message(conversation, OutgoingMessage("mine", "key-mine"))
    echo = await client.sink.wait_for(MessageReceived, lambda e: e.body == "mine")
    assert echo.is_own_echo and echo.idempotency_key == "key-mine" and echo.server_id == receipt.remote_id
    assert echo.sender == client.user_id


async def test_typing_and_read_receipts(harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer) -> None:
    client = await new_client()
    room_id = await harness.make_direct_room(client.user_id, peer.address)
    conversation = ConversationKey.direct(client.settings.account_id, peer.handle)
    await peer.client.room_typing(room_id, typing_state=True)
    await client.sink.wait_for(TypingChanged, lambda e: e.handle == peer.handle and e.typing)
    await peer.client.room_typing(room_id, typing_state=False)
    await client.sink.wait_for(TypingChanged, lambda e: e.handle == peer.handle and not e.typing)

    receipt = await client.adapter.send_message(conversation, OutgoingMessage("read me", "key-read"))
    await peer.next_message()
    await peer.client.room_read_markers(room_id, fully_read_event=receipt.remote_id, read_event=receipt.remote_id)
    read = await client.sink.wait_for(MessageStateChanged, lambda e: e.state is MessageState.READ)
    assert read.remote_id == receipt.remote_id and read.conversation == conversation

    await client.adapter.set_typing(conversation, True)  # reaches the server without error


async def test_group_rooms_are_room_conversations(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    created = await peer.client.room_create(name="Team room", invite=[client.user_id])
    joined = await client.adapter.join_room(created.room_id)
    assert joined == ConversationKey.room(client.settings.account_id, created.room_id)
    await client.sink.wait_for(RoomJoined, lambda e: e.conversation == joined)
    await peer.client.room_send(created.room_id, "m.room.message", {"msgtype": "m.text", "body": "hi team"})
    message = await client.sink.wait_for(MessageReceived, lambda e: e.body == "hi team")
    assert message.conversation.kind is ConversationKind.ROOM
    assert message.sender == peer.handle
    await client.adapter.send_message(joined, OutgoingMessage("hi back", "key-team"))
    assert (await peer.next_message())[1] == "hi back"


# -------------------------------------------------------------------------------------- E2E


_E2E_CONFIG = nio.AsyncClientConfig(max_timeouts=0, encryption_enabled=True, store_sync_tokens=False)


async def _e2e_peer(harness: MatrixHarness, store: Path) -> tuple[nio.AsyncClient, str]:
    user = await harness.new_matrix_user("e2e")
    peer = nio.AsyncClient(harness.server.url, user.user_id, store_path=str(store), config=_E2E_CONFIG)
    reply = await peer.login(user.password, device_name="e2e-peer")
    assert isinstance(reply, nio.LoginResponse), reply
    await peer.sync(timeout=0, full_state=True)
    await peer.keys_upload()
    return peer, user.user_id


async def test_an_encrypted_direct_message_arrives_decrypted(
    harness: MatrixHarness, new_client: NewClient, tmp_path: Path
) -> None:
    client = await new_client()
    peer, peer_id = await _e2e_peer(harness, tmp_path)
    try:
        room_id = await harness.make_direct_room(peer_id, client.user_id, encrypted=True)
        async with asyncio.timeout(15):
            while room_id not in peer.rooms or not peer.rooms[room_id].encrypted:
                await peer.sync(timeout=1000)
            await peer.joined_members(room_id)
            await peer.keys_query()
        reply = await peer.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": "secret 🤫"}, ignore_unverified_devices=True
        )
        assert isinstance(reply, nio.RoomSendResponse), reply
        message = await client.sink.wait_for(MessageReceived, lambda e: e.server_id == reply.event_id, timeout=15)
        assert message.body == "secret 🤫", "decrypted"
        assert message.body != UNDECRYPTABLE_BODY
        assert message.conversation == ConversationKey.direct(client.settings.account_id, peer_id)

        # ... and the adapter's answer is encrypted too, and the peer can read it.
        await client.adapter.send_message(message.conversation, OutgoingMessage("secret back", "key-e2e"))
        async with asyncio.timeout(15):
            while True:
                synced = await peer.sync(timeout=1000)
                timeline = synced.rooms.join.get(room_id)
                events = timeline.timeline.events if timeline else []
                if any(isinstance(e, nio.RoomMessageText) and e.body == "secret back" for e in events):
                    break
    finally:
        await peer.close()


async def test_writing_to_someone_who_invited_you_accepts_the_invitation(
    new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    created = await peer.client.room_create(
        is_direct=True, invite=[client.user_id], preset=nio.RoomPreset.trusted_private_chat
    )
    await peer.client.room_send(created.room_id, "m.room.message", {"msgtype": "m.text", "body": "are you there?"})
    await client.sink.wait_for(SubscriptionRequested, lambda e: e.handle == peer.handle)
    conversation = ConversationKey.direct(client.settings.account_id, peer.handle)
    await client.adapter.send_message(conversation, OutgoingMessage("yes", "key-yes"))
    earlier = await client.sink.wait_for(MessageReceived, lambda e: e.body == "are you there?")
    assert earlier.conversation == conversation
    assert await peer.next_message() == (client.user_id, "yes")
    assert any(r == created.room_id for r, e in peer.events if getattr(e, "body", None) == "yes"), "no second room"


# ------------------------------------------------------------------------- keys arriving late


class WithheldKey:
    """A message encrypted with a new megolm session whose key the sender hands out only on ``release()``
    (the to-device key messages are made before the message is encrypted, so they carry its index 0)."""

    def __init__(self, peer: nio.AsyncClient, room_id: str, server: SynapseServer) -> None:
        self.peer, self.room_id, self.server = peer, room_id, server
        self.key_messages: list[dict[str, Any]] = []
        self.session_id = ""

    async def send(self, body: str) -> str:
        peer, room_id = self.peer, self.room_id
        missing = peer.get_missing_sessions(room_id)
        if missing:
            await peer.keys_claim(missing)
        peer.olm.create_outbound_group_session(room_id)
        users = list(peer.rooms[room_id].users)
        self.key_messages = [m for _, m in peer.olm.share_group_session_parallel(room_id, users, True)]
        assert self.key_messages, "nobody to share the key with"
        session = peer.olm.outbound_group_sessions[room_id]
        session.shared = True
        self.session_id = session.id
        _, content = peer.encrypt(room_id, "m.room.message", {"msgtype": "m.text", "body": body})
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.encrypted/{secrets.token_hex(8)}"
        reply = await self.server.request("PUT", path, content, peer.access_token)
        event_id: str = reply["event_id"]
        return event_id

    async def release(self) -> None:
        for messages in self.key_messages:
            path = f"/_matrix/client/v3/sendToDevice/m.room.encrypted/{secrets.token_hex(8)}"
            await self.server.request("PUT", path, messages, self.peer.access_token)


async def _encrypted_room(harness: MatrixHarness, peer: nio.AsyncClient, peer_id: str, other: str) -> str:
    room_id = await harness.make_direct_room(peer_id, other, encrypted=True)
    async with asyncio.timeout(15):
        while room_id not in peer.rooms or not peer.rooms[room_id].encrypted:
            await peer.sync(timeout=1000)
        await peer.joined_members(room_id)
        await peer.keys_query()
    return room_id


async def test_an_event_is_decrypted_when_its_key_arrives_late_and_the_key_is_requested(
    harness: MatrixHarness, new_client: NewClient, tmp_path: Path
) -> None:
    client = await new_client()
    # A second device of the same user, to see the adapter's key request.
    (tmp_path / "own").mkdir()
    other_device = nio.AsyncClient(
        harness.server.url, client.user_id, store_path=str(tmp_path / "own"), config=_E2E_CONFIG
    )
    assert isinstance(await other_device.login(client.user.password, device_name="phone"), nio.LoginResponse)
    await other_device.sync(timeout=0, full_state=True)
    (tmp_path / "peer").mkdir()
    peer, peer_id = await _e2e_peer(harness, tmp_path / "peer")
    try:
        room_id = await _encrypted_room(harness, peer, peer_id, client.user_id)
        withheld = WithheldKey(peer, room_id, harness.server)
        event_id = await withheld.send("the key comes later")
        placeholder = await client.sink.wait_for(MessageReceived, lambda e: e.server_id == event_id, timeout=15)
        assert placeholder.body == UNDECRYPTABLE_BODY and placeholder.kind is MessageKind.SYSTEM
        assert placeholder.replaces_server_id is None

        session_id = withheld.session_id
        async with asyncio.timeout(15):  # our other device was asked for the key
            while True:
                synced = await other_device.sync(timeout=1000)
                if any(
                    isinstance(e, nio.RoomKeyRequest) and e.session_id == session_id
                    for e in getattr(synced, "to_device_events", [])
                ):
                    break

        await withheld.release()
        completed = await client.sink.wait_for(
            MessageReceived, lambda e: e.server_id == event_id and e.replaces_server_id == event_id, timeout=15
        )
        assert completed.body == "the key comes later" and completed.kind is MessageKind.CHAT
        assert completed.conversation == placeholder.conversation and completed.sender == peer_id
        # A later message in the room comes in a later sync than the key: a second completion would be in.
        sent = await peer.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": "marker"}, ignore_unverified_devices=True
        )
        assert isinstance(sent, nio.RoomSendResponse), sent
        await client.sink.wait_for(MessageReceived, lambda e: e.server_id == sent.event_id, timeout=15)
        assert len(client.sink.of_type(MessageReceived, lambda e: e.server_id == event_id)) == 2, "completed once"
    finally:
        await peer.close()
        await other_device.close()


async def test_an_undecryptable_event_is_retried_after_a_restart(
    harness: MatrixHarness, new_client: NewClient, tmp_path: Path
) -> None:
    first = await new_client()
    peer, peer_id = await _e2e_peer(harness, tmp_path)
    try:
        room_id = await _encrypted_room(harness, peer, peer_id, first.user_id)
        withheld = WithheldKey(peer, room_id, harness.server)
        event_id = await withheld.send("kept across a restart")
        await first.sink.wait_for(MessageReceived, lambda e: e.server_id == event_id, timeout=15)
        tokens = first.tokens()
        await first.adapter.disconnect()

        await withheld.release()  # while we are offline
        second = await new_client(connect=False, user=first.user)
        await second.connect(tokens)
        completed = await second.sink.wait_for(MessageReceived, lambda e: e.replaces_server_id == event_id, timeout=15)
        assert completed.body == "kept across a restart" and completed.server_id == event_id
    finally:
        await peer.close()
