"""MAM backfill, group chats, corrections and message errors of the XMPP adapter, against a real Prosody."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from aggregator.api import (
    ConversationKey,
    ConversationKind,
    Credentials,
    MessageReceived,
    MessageState,
    MessageStateChanged,
    OutgoingMessage,
    RoomJoined,
    RoomLeft,
    RoomMembers,
    RoomTopic,
)
from protocols.xmpp import catchup as adapter_module
from protocols.xmpp.adapter import XmppAdapter
from protocols.xmpp.positions import decode
from tests.contract.sink import EventCollector, stored_positions
from tests.contract.xmpp_harness import XmppHarness, XmppPeer, close_client, login_client, server_round_trip, wait_until
from tests.protocols.xmpp.conftest import Client, NewClient


def direct(client: Client, peer: XmppPeer) -> ConversationKey:
    return ConversationKey.direct(client.adapter._account_id, peer.handle)


def bodies(sink: EventCollector, **where: Any) -> list[str]:
    return [
        e.body for e in sink.of_type(MessageReceived) if all(getattr(e, name) == value for name, value in where.items())
    ]


@pytest.fixture
async def again(harness: XmppHarness) -> AsyncIterator[Any]:
    """``await again(client)``: a second adapter for the same account, connected, resumed (as the core
    does) from the positions that the events of the client and of the earlier ``again`` adapters
    carried; ``resume={}``: no stored position."""
    made: list[XmppAdapter] = []
    sinks: list[EventCollector] = []

    async def make(
        client: Client, connect: bool = True, resume: dict[str, str] | None = None, **overrides: Any
    ) -> tuple[XmppAdapter, EventCollector]:
        sink = EventCollector()
        adapter = XmppAdapter(dataclasses.replace(client.settings, **overrides), sink)
        adapter.resume_from(stored_positions(client.sink, *sinks) if resume is None else resume)
        made.append(adapter)
        sinks.append(sink)
        if connect:
            await adapter.connect(Credentials(client.password))
        return adapter, sink

    yield make
    for adapter in made:
        await adapter.disconnect()


async def archive_ids(
    harness: XmppHarness, jid: str, password: str, archive: str | None = None
) -> list[tuple[str, str]]:
    """(result id, body) of everything in ``archive`` (the user's own by default), read by plain slixmpp."""
    client = await login_client(harness.server, jid, password, presence=False)
    found: list[tuple[str, str]] = []

    def collect(stanza: Any) -> None:
        result = stanza.xml.find("{urn:xmpp:mam:2}result")
        if result is not None:
            body = result.find(".//{jabber:client}body")
            found.append((result.get("id"), body.text if body is not None else ""))

    client.register_handler(Callback("mam", MatchXPath("{jabber:client}message/{urn:xmpp:mam:2}result"), collect))
    try:
        iq = client.make_iq_set(ito=archive) if archive else client.make_iq_set()
        iq.xml.append(ET.fromstring("<query xmlns='urn:xmpp:mam:2' queryid='t'/>"))
        await iq.send(timeout=10)
    finally:
        await close_client(client)
    return found


# ----------------------------------------------------------------------------------------- MAM


async def test_backfill_on_connect_uses_archive_ids_that_match_the_live_and_offline_copies(
    new_client: NewClient, harness: XmppHarness, tmp_path: Path, again: Any
) -> None:
    client = await new_client(connect=False, data_dir=tmp_path)
    peer = await harness.new_peer()
    for n in range(3):
        await peer.send(client.jid, f"while away {n}")
    await client.connect()
    backfilled = [e for e in client.sink.of_type(MessageReceived) if e.is_backfill and e.body.startswith("while away")]
    assert [e.body for e in backfilled[:3]] == [f"while away {n}" for n in range(3)], "backfilled before connect()"
    archived = dict((body, rid) for rid, body in await archive_ids(harness, client.jid, client.password))
    assert [e.server_id for e in backfilled[:3]] == [archived[f"while away {n}"] for n in range(3)]
    assert all(e.timestamp is not None and e.timestamp <= datetime.now(UTC) for e in backfilled)
    # Offline storage delivers the same messages too (we send presence before querying MAM, as Prosody
    # withholds offline messages from a session that queried MAM): same server ids, so the core keeps one.
    await wait_until(lambda: len(bodies(client.sink)) >= 6, what="the offline copies")
    copies = [e for e in client.sink.of_type(MessageReceived) if e.body.startswith("while away")]
    assert len(copies) == 6 and all(e.is_backfill for e in copies)
    assert {e.server_id for e in copies} == {archived[f"while away {n}"] for n in range(3)}

    # A live message's stanza-id is its archive id too.
    await peer.send(client.jid, "live")
    live = await client.sink.wait_for(MessageReceived, lambda e: e.body == "live")
    assert not live.is_backfill
    archived = dict((body, rid) for rid, body in await archive_ids(harness, client.jid, client.password))
    assert live.server_id == archived["live"]

    # The live message carries its position (the catch-up is complete): the next connect resumed from
    # what the core stored fetches only what came after.
    await client.adapter.disconnect()
    assert live.position is not None and live.position.stream == client.jid
    saved = decode(stored_positions(client.sink)[client.jid])
    assert saved is not None and saved.archive_id == archived["live"]
    await peer.send(client.jid, "after the disconnect")
    _, sink = await again(client)
    again_copies = sink.of_type(MessageReceived, lambda e: e.is_backfill)
    assert {e.body for e in again_copies} == {"after the disconnect"}  # (MAM + offline copy)
    assert len({e.server_id for e in again_copies}) == 1


async def test_first_sync_is_bounded_and_own_messages_come_back_as_own_echo(
    new_client: NewClient, harness: XmppHarness, tmp_path: Path, again: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await new_client(data_dir=tmp_path / "first")
    peer = await harness.new_peer()
    await client.adapter.send_message(direct(client, peer), OutgoingMessage("mine", "own-key-1"))
    for n in range(4):
        await peer.send(client.jid, f"theirs {n}")
    await client.adapter.disconnect()

    monkeypatch.setattr(adapter_module, "FIRST_SYNC_LIMIT", 3)
    monkeypatch.setattr(adapter_module, "MAM_PAGE", 2)  # and more than one page
    _, sink = await again(client, resume={})  # no stored position
    backfilled = sink.of_type(MessageReceived, lambda e: e.is_backfill)
    assert [e.body for e in backfilled] == ["theirs 1", "theirs 2", "theirs 3"]  # the newest 3, in order

    monkeypatch.setattr(adapter_module, "FIRST_SYNC_LIMIT", 10)
    _, sink = await again(client, resume={})
    # Everything, and our own message as an own echo carrying its origin-id.
    (mine,) = sink.of_type(MessageReceived, lambda e: e.body == "mine")
    assert mine.is_own_echo and mine.is_backfill
    assert mine.idempotency_key == "own-key-1"
    assert mine.conversation == direct(client, peer)
    assert mine.sender == client.jid


async def test_fetch_history_emits_a_conversation_from_the_archive(new_client: NewClient, harness: XmppHarness) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    other = await harness.new_peer()
    for n in range(3):
        await peer.send(client.jid, f"h{n}")
    await other.send(client.jid, "not this one")
    await wait_until(lambda: len(bodies(client.sink)) >= 4, what="the live messages")
    live = {e.body: e.server_id for e in client.sink.of_type(MessageReceived)}
    client.sink.clear()

    assert await client.adapter.fetch_history(direct(client, peer), None, 2) == 2
    assert [(e.body, e.server_id, e.is_backfill) for e in client.sink.of_type(MessageReceived)] == [
        ("h1", live["h1"], True),
        ("h2", live["h2"], True),
    ]
    client.sink.clear()
    assert await client.adapter.fetch_history(direct(client, peer), datetime.now(UTC) - timedelta(minutes=5), 10) == 3
    assert bodies(client.sink) == ["h0", "h1", "h2"]


# ---------------------------------------------------------------------------- corrections, errors


async def test_a_correction_names_the_server_id_of_the_corrected_message(
    new_client: NewClient, harness: XmppHarness
) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    peer.send_raw(f"<message to='{client.jid}' type='chat' id='orig-1'><body>helo</body></message>")
    peer.send_raw(
        f"<message to='{client.jid}' type='chat' id='fix-1'><body>hello</body>"
        "<replace xmlns='urn:xmpp:message-correct:0' id='orig-1'/></message>"
    )
    original = await client.sink.wait_for(MessageReceived, lambda e: e.body == "helo")
    fixed = await client.sink.wait_for(MessageReceived, lambda e: e.body == "hello")
    assert original.server_id and original.server_id != "orig-1"
    assert fixed.replaces_server_id == original.server_id
    # Someone else cannot correct it: the id is mapped per sender, so it stays unresolved.
    other = await harness.new_peer()
    other.send_raw(
        f"<message to='{client.jid}' type='chat' id='fix-2'><body>hijack</body>"
        "<replace xmlns='urn:xmpp:message-correct:0' id='orig-1'/></message>"
    )
    hijack = await client.sink.wait_for(MessageReceived, lambda e: e.body == "hijack")
    assert hijack.replaces_server_id == "orig-1"


async def test_a_bounced_message_fails_with_the_reason(new_client: NewClient) -> None:
    client = await new_client()
    conversation = ConversationKey.direct(client.adapter._account_id, "someone@elsewhere.invalid")
    await client.adapter.send_message(conversation, OutgoingMessage("to nowhere", "bounce-1"))
    failed = await client.sink.wait_for(MessageStateChanged, lambda e: e.idempotency_key == "bounce-1")
    assert failed.state is MessageState.FAILED
    assert failed.conversation == conversation
    assert "remote domains" in failed.reason or "not-allowed" in failed.reason


# ------------------------------------------------------------------------------------------ MUC


def room_name(harness: XmppHarness) -> str:
    return f"room-{secrets.token_hex(4)}@{harness.server.muc_domain}"


async def peer_join(peer: XmppPeer, room: str, nick: str) -> None:
    joined: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_presence(stanza: Any) -> None:
        if str(stanza["from"]) == f"{room}/{nick}" and not joined.done():
            joined.set_result(None)

    peer.client.add_event_handler("presence", on_presence)
    peer.send_raw(f"<presence to='{room}/{nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
    async with asyncio.timeout(10):
        await joined


async def test_join_creates_a_room_and_reports_members_messages_topic_and_own_echo(
    new_client: NewClient, harness: XmppHarness
) -> None:
    client = await new_client()
    room = room_name(harness)
    key = await client.adapter.join_room(room, "Alice")
    assert key == ConversationKey.room(client.adapter._account_id, room)
    assert key.kind is ConversationKind.ROOM
    joined = await client.sink.wait_for(RoomJoined)
    assert (joined.conversation, joined.nick) == (key, "Alice")
    assert (await client.sink.wait_for(RoomMembers)).members == ("Alice",)

    peer = await harness.new_peer()
    await peer_join(peer, room, "Bob")  # the room was unlocked (configured) on creation
    await client.sink.wait_for(RoomMembers, lambda e: e.members == ("Alice", "Bob"))
    peer.send_raw(f"<message to='{room}' type='groupchat' id='b1'><body>hi all</body></message>")
    message = await client.sink.wait_for(MessageReceived, lambda e: e.body == "hi all")
    assert message.conversation == key
    assert message.sender_name == "Bob"
    assert message.sender == peer.handle  # we own the room: it shows real JIDs to us
    assert message.server_id and message.server_id != "b1"
    assert not message.is_own_echo and not message.is_backfill

    await client.adapter.send_message(key, OutgoingMessage("hello room", "room-key-1"))
    echo = await client.sink.wait_for(MessageReceived, lambda e: e.body == "hello room")
    assert echo.is_own_echo and echo.idempotency_key == "room-key-1" and echo.sender == client.jid
    assert echo.server_id

    await client.adapter.set_topic(key, "today's topic")
    topic = await client.sink.wait_for(RoomTopic, lambda e: e.topic == "today's topic")
    assert topic.set_by == "Alice"

    # Bob's correction of his message maps to its room stanza-id.
    peer.send_raw(
        f"<message to='{room}' type='groupchat' id='b2'><body>hi everyone</body>"
        "<replace xmlns='urn:xmpp:message-correct:0' id='b1'/></message>"
    )
    fixed = await client.sink.wait_for(MessageReceived, lambda e: e.body == "hi everyone")
    assert fixed.replaces_server_id == message.server_id

    await client.adapter.leave_room(key)
    left = await client.sink.wait_for(RoomLeft)
    assert left.conversation == key


async def test_room_history_on_join_has_the_live_server_ids_and_rejoin_uses_the_room_archive(
    new_client: NewClient, harness: XmppHarness, tmp_path: Path, again: Any
) -> None:
    room = room_name(harness)
    client = await new_client(data_dir=tmp_path)
    key = await client.adapter.join_room(room, "Alice")
    await client.sink.wait_for(RoomJoined, lambda e: e.conversation == key, timeout=15)
    peer = await harness.new_peer()
    await peer_join(peer, room, "Bob")
    for n in range(2):
        peer.send_raw(f"<message to='{room}' type='groupchat'><body>said {n}</body></message>")
    await server_round_trip(peer.client)
    await wait_until(lambda: len(bodies(client.sink)) >= 2, what="the room messages")
    live = {e.body: e.server_id for e in client.sink.of_type(MessageReceived)}
    await client.adapter.disconnect()

    # Without a stored position the join history (same stanza-ids) fills in.
    adapter, sink = await again(client, resume={})
    await adapter.join_room(room, "Alice")
    await sink.wait_for(RoomMembers, timeout=15)
    history = {e.body: e.server_id for e in sink.of_type(MessageReceived) if e.is_backfill}
    assert history == live
    await adapter.disconnect()

    # With the stored position: only what is new, from the room's archive (muc_mam).
    peer.send_raw(f"<message to='{room}' type='groupchat'><body>while alice was away</body></message>")
    await server_round_trip(peer.client)
    adapter, sink = await again(client)
    await adapter.join_room(room, "Alice")
    await sink.wait_for(MessageReceived, lambda e: e.body == "while alice was away", timeout=15)
    # A live message carries its position only once the room's catch-up is complete: by then every
    # message of the catch-up (a duplicate included) has been reported.
    peer.send_raw(f"<message to='{room}' type='groupchat'><body>marker</body></message>")
    await sink.wait_for(MessageReceived, lambda e: e.body == "marker" and e.position is not None, timeout=15)
    assert bodies(sink, is_backfill=True) == ["while alice was away"]
