"""What the fake adapter does beyond the contract suite: backfill, retries, drops, bad input, settings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from aggregator.api import (
    AccountSettings,
    AdapterWarning,
    AuthenticationError,
    ConfigurationError,
    ConnectionLost,
    ConversationKey,
    Credentials,
    MessageReceived,
    NetworkError,
    NotConnectedError,
    OutgoingMessage,
    PlaintextRefusedError,
    Presence,
    PresenceChanged,
    PresenceKind,
    ProtocolError,
    RoomJoined,
    RoomLeft,
    RoomMembers,
    RoomTopic,
    RosterItemChanged,
    RosterItemRemoved,
    RosterSnapshot,
    TypingChanged,
)
from protocols.fake import PROTOCOL
from protocols.fake.adapter import FakeAdapter
from protocols.fake.server import FakeServer
from tests.contract.fake_harness import FakePeer
from tests.contract.sink import EventCollector, tasks_finished
from tests.core.conftest import eventually
from tests.protocols.fake.conftest import ALICE, BOB, CAROL, PASSWORDS, Client, settings_for

NewClient = Callable[..., Awaitable[Client]]
NewPeer = Callable[..., Awaitable[FakePeer]]
TO_BOB = ConversationKey.direct(f"fake:{ALICE}", BOB)


async def test_offline_messages_arrive_as_backfill_with_their_timestamps(server: FakeServer, client: NewClient) -> None:
    sent_at = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    queued = await server.deliver(BOB, ALICE, "while you were out", timestamp=sent_at)
    _, sink = await client(ALICE)
    backfill = await sink.wait_for(MessageReceived, lambda e: e.body == "while you were out")
    assert backfill.is_backfill
    assert backfill.timestamp == sent_at
    assert backfill.server_id == queued.server_id
    assert backfill.sender == BOB
    await server.deliver(BOB, ALICE, "live")
    live = await sink.wait_for(MessageReceived, lambda e: e.body == "live")
    assert not live.is_backfill


async def test_offline_queue_is_delivered_once(server: FakeServer, client: NewClient) -> None:
    await server.deliver(BOB, ALICE, "once")
    adapter, sink = await client(ALICE)
    await sink.wait_for(MessageReceived)
    await adapter.disconnect()
    _, again = await client(ALICE)
    await again.wait_for(RosterSnapshot)
    # A live message after the login comes after any queued copy on this connection.
    await server.deliver(BOB, ALICE, "marker")
    await again.wait_for(MessageReceived, lambda e: e.body == "marker")
    assert [e.body for e in again.of_type(MessageReceived)] == ["marker"]


async def test_retried_send_with_the_same_key_is_not_delivered_twice(
    server: FakeServer, client: NewClient, peer: NewPeer
) -> None:
    bob = await peer(BOB)
    adapter, _ = await client(ALICE)
    first = await adapter.send_message(TO_BOB, OutgoingMessage("only once", "key-1"))
    second = await adapter.send_message(TO_BOB, OutgoingMessage("only once", "key-1"))
    assert second == first
    assert await bob.next_message() == (ALICE, "only once")
    await adapter.send_message(TO_BOB, OutgoingMessage("marker", "key-marker"))
    assert await bob.next_message() == (ALICE, "marker")  # no second copy before it
    assert [m.body for m in server.received(ALICE)] == ["only once", "marker"]


async def test_send_interrupted_by_a_drop_can_be_retried_without_duplicates(
    server: FakeServer, client: NewClient, peer: NewPeer
) -> None:
    bob = await peer(BOB)
    adapter, sink = await client(ALICE)
    server.ack_delay = 5
    sending = asyncio.create_task(adapter.send_message(TO_BOB, OutgoingMessage("ack lost", "key-2")))
    await bob.next_message()  # accepted and delivered, the ack is still to come
    await server.drop_connections()
    with pytest.raises(NetworkError):
        await sending
    await sink.wait_for(ConnectionLost)
    server.ack_delay = 0
    await adapter.disconnect()
    await adapter.connect(Credentials(PASSWORDS[ALICE]))
    receipt = await adapter.send_message(TO_BOB, OutgoingMessage("ack lost", "key-2"))
    assert receipt.remote_id == server.received(ALICE)[0].server_id
    await adapter.send_message(TO_BOB, OutgoingMessage("marker", "key-marker"))
    # The drop took bob offline too: he logs in again and gets what came meanwhile, in order.
    bob_again = await peer(BOB)
    assert await bob_again.next_message() == (ALICE, "marker")  # the retry delivered no second copy before it


async def test_a_drop_is_reported_exactly_once(server: FakeServer, client: NewClient) -> None:
    before = asyncio.all_tasks()
    adapter, sink = await client(ALICE)
    await server.drop_connections()
    lost = await sink.wait_for(ConnectionLost)
    assert lost.retryable
    assert lost.reason
    with pytest.raises(NotConnectedError):
        await adapter.send_message(TO_BOB, OutgoingMessage("after drop", "k"))
    await adapter.disconnect()
    await tasks_finished(before)  # nothing of the adapter's is left that could report again
    assert len(sink.of_type(ConnectionLost)) == 1
    await adapter.connect(Credentials(PASSWORDS[ALICE]))
    assert server.online(ALICE)


async def test_stopping_the_server_is_a_lost_connection(server: FakeServer, client: NewClient) -> None:
    _, sink = await client(ALICE)
    await server.stop()
    await sink.wait_for(ConnectionLost)


@pytest.mark.parametrize(
    "line",
    [
        b"not json\n",
        b"[1, 2]\n",
        b'{"no": "op"}\n',
        b'{"op": "nonsense"}\n',
        b'{"op": "message", "from": "bob@fake.test"}\n',
        b'{"op": "presence", "from": "bob@fake.test", "kind": "sleepy"}\n',
        b'{"op": "presence", "from": "not an address", "kind": "away"}\n',
        b'{"op": "roster", "items": "nope"}\n',
        b'{"op": "message", "from": "bob@fake.test", "to": "alice@fake.test", "body": "x", "server_id": "s",'
        b' "timestamp": "0001-01-01T00:00:00+01:00"}\n',
        b'{"op": "message", "from": "bob@fake.test", "to": "alice@fake.test", "body": "x", "server_id": "s",'
        b' "timestamp": "2020-01-01T00:00:00"}\n',
        b"x" * (1 << 20) + b"\n",
        b'{"op": "ack", "id": 999, "server_id": "s-9", "timestamp": "2020-01-01T00:00:00+00:00"}\n',
        b"\xff\xfe\n",
    ],
)
async def test_malformed_server_lines_become_warnings(server: FakeServer, client: NewClient, line: bytes) -> None:
    adapter, sink = await client(ALICE)
    await server.send_raw(ALICE, line)
    warning = await sink.wait_for(AdapterWarning)
    assert warning.account_id == f"fake:{ALICE}"
    await server.deliver(BOB, ALICE, "still working")
    await sink.wait_for(MessageReceived, lambda e: e.body == "still working")
    assert not sink.of_type(ConnectionLost)
    receipt = await adapter.send_message(TO_BOB, OutgoingMessage("and sending", "k"))
    assert receipt.remote_id


async def test_plaintext_is_refused_unless_allowed(server: FakeServer) -> None:
    adapter = FakeAdapter(settings_for(server, allow_plaintext=False), EventCollector())
    with pytest.raises(PlaintextRefusedError) as raised:
        await adapter.connect(Credentials(PASSWORDS[ALICE]))
    assert "no encryption" in str(raised.value)
    assert "allow plaintext" in str(raised.value)
    assert not raised.value.retryable
    assert not server.online(ALICE)


@pytest.mark.parametrize(
    ("address", "server_setting", "message"),
    [
        ("bob", "127.0.0.1:1", "'bob' is not a fake address: expected user@host"),
        ("bob@", "127.0.0.1:1", "is not a fake address"),
        ("alice@fake.test", None, "needs a server setting"),
        ("alice@fake.test", "localhost", "is not HOST:PORT"),
        ("alice@fake.test", "localhost:http", "no valid port"),
        ("alice@fake.test", "localhost:70000", "no valid port"),
    ],
)
def test_unusable_settings_are_configuration_errors(address: str, server_setting: str | None, message: str) -> None:
    settings = AccountSettings("fake:x", address, server=server_setting, allow_plaintext=True)
    with pytest.raises(ConfigurationError, match=message):
        PROTOCOL.create(settings, EventCollector())


async def test_a_temporary_login_failure_is_a_retryable_network_error(server: FakeServer, client: NewClient) -> None:
    server.fail_next_logins(1)
    with pytest.raises(NetworkError) as raised:
        await client(ALICE)
    assert raised.value.retryable
    await client(ALICE)
    assert server.online(ALICE)


async def test_wrong_password_names_no_password(client: NewClient) -> None:
    with pytest.raises(AuthenticationError, match="wrong password") as raised:
        await client(ALICE, "guess-123")
    assert "guess-123" not in str(raised.value)


async def test_rejected_and_misaddressed_sends_are_protocol_errors(server: FakeServer, client: NewClient) -> None:
    adapter, _ = await client(ALICE)
    with pytest.raises(ProtocolError, match="unknown recipient"):
        await adapter.send_message(ConversationKey.direct("x", "nobody@fake.test"), OutgoingMessage("x", "k1"))
    server.reject_sends = True
    with pytest.raises(ProtocolError, match="rejected"):
        await adapter.send_message(TO_BOB, OutgoingMessage("x", "k2"))
    assert server.received(ALICE) == []
    server.reject_sends = False
    server.create_room("room@fake.test")
    with pytest.raises(ProtocolError, match="not in the room"):
        await adapter.send_message(ConversationKey.room("x", "room@fake.test"), OutgoingMessage("x", "k3"))


async def test_disconnect_while_sending_fails_the_send_quietly(server: FakeServer, client: NewClient) -> None:
    before = asyncio.all_tasks()
    adapter, sink = await client(ALICE)
    server.ack_delay = 5
    sending = asyncio.create_task(adapter.send_message(TO_BOB, OutgoingMessage("slow", "k")))
    await eventually(lambda: [m.body for m in server.received(ALICE)] == ["slow"])  # on the wire, not acked
    await adapter.disconnect()
    with pytest.raises(NotConnectedError):
        await sending
    await tasks_finished(before)  # nothing of the adapter's is left that could still report
    assert not sink.of_type(ConnectionLost)


async def test_roster_and_presence(server: FakeServer, client: NewClient, peer: NewPeer) -> None:
    bob = await peer(BOB)
    await bob.set_presence(PresenceKind.BUSY, "in a meeting")
    _, sink = await client(ALICE)
    roster = await sink.wait_for(RosterSnapshot)
    assert {item.handle for item in roster.items} == {BOB, CAROL}
    busy = await sink.wait_for(PresenceChanged, lambda e: e.handle == BOB)
    assert busy.presence == Presence(PresenceKind.BUSY, "in a meeting")
    assert not sink.of_type(PresenceChanged, lambda e: e.handle == CAROL)  # carol is offline
    await bob.set_presence(PresenceKind.INVISIBLE, "")
    gone = await sink.wait_for(PresenceChanged, lambda e: e.presence.kind is PresenceKind.OFFLINE)
    assert gone.handle == BOB
    await server.set_presence(CAROL, PresenceKind.AWAY, "scripted")
    await sink.wait_for(PresenceChanged, lambda e: e.handle == CAROL and e.presence.status == "scripted")


async def test_peer_signing_off_is_reported_offline(client: NewClient, peer: NewPeer) -> None:
    bob = await peer(BOB)
    _, sink = await client(ALICE)
    await sink.wait_for(PresenceChanged, lambda e: e.handle == BOB)
    await bob.close()
    await sink.wait_for(PresenceChanged, lambda e: e.handle == BOB and e.presence == Presence.offline())


async def test_new_users_and_explicit_rosters_are_pushed(server: FakeServer, client: NewClient) -> None:
    _, sink = await client(ALICE)
    server.add_user("Dave@Fake.Test", "pw")
    added = await sink.wait_for(RosterItemChanged)
    assert added.item.handle == "dave@fake.test"
    server.set_roster(ALICE, [BOB])
    await sink.wait_for(RosterItemRemoved, lambda e: e.handle == CAROL)
    await sink.wait_for(RosterItemRemoved, lambda e: e.handle == "dave@fake.test")
    assert not sink.of_type(RosterItemRemoved, lambda e: e.handle == BOB)


async def test_own_presence_reaches_contacts(client: NewClient, peer: NewPeer) -> None:
    bob = await peer(BOB)
    adapter, _ = await client(ALICE)
    await adapter.set_presence(Presence(PresenceKind.EXTENDED_AWAY, "on holiday"))
    frame = await bob.wait_frame(lambda f: f["op"] == "presence" and f["kind"] == "xa")
    assert (frame["from"], frame["status"]) == (ALICE, "on holiday")


async def test_messages_sent_from_another_session_are_own_echoes(server: FakeServer, client: NewClient) -> None:
    other_alice = await FakePeer.login(server, ALICE, PASSWORDS[ALICE])
    _, sink = await client(ALICE)
    await other_alice.request({"op": "send", "to": BOB, "body": "from my phone", "key": "phone-1"})
    echo = await sink.wait_for(MessageReceived, lambda e: e.body == "from my phone")
    assert echo.is_own_echo
    assert echo.idempotency_key == "phone-1"
    assert echo.sender == ALICE
    assert echo.conversation == ConversationKey.direct(f"fake:{ALICE}", BOB)
    await other_alice.close()


async def test_typing_goes_both_ways(client: NewClient, peer: NewPeer) -> None:
    bob = await peer(BOB)
    adapter, sink = await client(ALICE)
    await adapter.set_typing(TO_BOB, True)
    assert (await bob.wait_frame(lambda f: f["op"] == "typing"))["typing"] is True
    bob.write_raw(b'{"op": "typing", "to": "alice@fake.test", "typing": true}\n')
    typing = await sink.wait_for(TypingChanged)
    assert (typing.handle, typing.typing, typing.conversation) == (BOB, True, TO_BOB)


async def test_addresses_are_normalised(client: NewClient, peer: NewPeer) -> None:
    bob = await peer(BOB)
    adapter, _ = await client("ALICE@Fake.Test", PASSWORDS[ALICE])
    await adapter.send_message(ConversationKey.direct("x", "Bob@FAKE.test"), OutgoingMessage("hi", "k"))
    assert await bob.next_message() == (ALICE, "hi")
    assert PROTOCOL.normalize_address("  Alice@Fake.Test ") == ALICE


async def test_a_failing_sink_does_not_stop_the_adapter(server: FakeServer) -> None:
    seen: list[object] = []

    def sink(event: object) -> None:
        seen.append(event)
        raise RuntimeError("broken sink")

    adapter = FakeAdapter(settings_for(server), sink)
    await adapter.connect(Credentials(PASSWORDS[ALICE]))
    await server.deliver(BOB, ALICE, "still delivered")
    async with asyncio.timeout(5):
        while not any(isinstance(e, MessageReceived) for e in seen):
            await asyncio.sleep(0.01)
    await adapter.disconnect()


async def test_group_chat_join_members_topic_messages_and_leave(server: FakeServer, client: NewClient) -> None:
    room = server.create_room("team@rooms.fake.test", "release day", topic_by="carol")
    await server.enter_room(CAROL, room, "Carol")
    alice, sink = await client(ALICE)
    key = await alice.join_room(room, "Ali")
    assert key == ConversationKey.room(f"fake:{ALICE}", room)
    # Reported before the join returns, in the order of the wire.
    assert sink.of_type(RoomJoined)[-1].nick == "Ali"
    assert sink.of_type(RoomMembers)[-1].members == ("Ali", "Carol")
    assert (sink.of_type(RoomTopic)[-1].topic, sink.of_type(RoomTopic)[-1].set_by) == ("release day", "carol")

    await server.say_in_room(CAROL, room, "hello team")
    said = await sink.wait_for(MessageReceived, lambda e: e.body == "hello team")
    assert (said.conversation, said.sender, said.sender_name) == (key, CAROL, "Carol")
    receipt = await alice.send_message(key, OutgoingMessage("hi carol", "room-k1"))
    echo = await sink.wait_for(MessageReceived, lambda e: e.body == "hi carol")
    assert echo.is_own_echo and echo.conversation == key and echo.server_id == receipt.remote_id
    assert echo.sender_name == "Ali"

    await alice.set_topic(key, "shipped")
    assert (await sink.wait_for(RoomTopic, lambda e: e.topic == "shipped")).set_by == "Ali"
    bob, _ = await client(BOB)
    with pytest.raises(ProtocolError, match="already in use"):
        await bob.join_room(room, "ali")
    server.refuse_joins("vip@rooms.fake.test", "members only")
    with pytest.raises(ProtocolError, match=r"cannot join vip@rooms\.fake\.test: members only"):
        await bob.join_room("vip@rooms.fake.test")
    await alice.leave_room(key)
    assert (await sink.wait_for(RoomLeft)).conversation == key
    assert server.room_members(room) == {CAROL: "Carol"}
