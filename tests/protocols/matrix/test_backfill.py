"""Backfill through ``/messages`` against a real Synapse: the gap a ``limited`` sync timeline leaves after a
restart, and ``fetch_history``."""

from __future__ import annotations

from pathlib import Path

import nio
import pytest

from aggregator.api import AdapterWarning, ConversationKey, MessageReceived
from protocols.matrix import catchup as matrix_adapter
from protocols.matrix.mapping import UNDECRYPTABLE_BODY
from tests.contract.matrix_harness import MatrixHarness, MatrixPeer
from tests.protocols.matrix.conftest import NewClient
from tests.protocols.matrix.test_adapter import _e2e_peer, _encrypted_room

#: A small sync timeline, so that a few messages sent while the client is away make it ``limited``.
OPTIONS = {"timeline_limit": "5"}


async def test_a_limited_timeline_after_a_restart_is_backfilled_once_and_in_order(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    first = await new_client(options=OPTIONS)
    await harness.make_contacts(first.user_id, peer.address)
    await peer.send(first.user_id, "before")
    await first.sink.wait_for(MessageReceived, lambda e: e.body == "before")
    tokens = first.tokens()
    await first.adapter.disconnect()

    missed = [f"missed {n}" for n in range(23)]
    for body in missed:
        await peer.send(first.user_id, body)
    second = await new_client(connect=False, user=first.user, options=OPTIONS)
    await second.connect(tokens)
    await second.sink.wait_for(MessageReceived, lambda e: e.body == missed[-1])
    await peer.send(first.user_id, "marker")  # in a later sync: a duplicate or a late backfill would be in first
    await second.sink.wait_for(MessageReceived, lambda e: e.body == "marker")

    received = second.sink.of_type(MessageReceived, lambda e: e.body != "marker")
    assert [e.body for e in received] == missed, "each missed message once, oldest first; 'before' not again"
    assert [e.is_backfill for e in received] == [True] * 18 + [False] * 5, "the gap is backfill, the timeline not"
    conversation = ConversationKey.direct(second.settings.account_id, peer.handle)
    assert all(e.conversation == conversation for e in received)
    assert len({e.server_id for e in received}) == len(missed)

    # The next restart has nothing to fill in.
    await second.adapter.disconnect()
    await peer.send(first.user_id, "after")
    third = await new_client(connect=False, user=first.user, options=OPTIONS)
    await third.connect(tokens)
    await third.sink.wait_for(MessageReceived, lambda e: e.body == "after")
    await peer.send(first.user_id, "marker 2")
    await third.sink.wait_for(MessageReceived, lambda e: e.body == "marker 2")
    assert [e.body for e in third.sink.of_type(MessageReceived)] == ["after", "marker 2"]


async def test_a_gap_in_a_room_without_a_seen_event_is_filled_back_to_the_last_sync(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    first = await new_client(options=OPTIONS)
    tokens = first.tokens()
    await first.adapter.disconnect()

    await harness.make_contacts(first.user_id, peer.address)  # a room first seen after the restart
    missed = [f"new room {n}" for n in range(12)]
    for body in missed:
        await peer.send(first.user_id, body)
    second = await new_client(connect=False, user=first.user, options=OPTIONS)
    await second.connect(tokens)
    await second.sink.wait_for(MessageReceived, lambda e: e.body == missed[-1])
    await peer.send(first.user_id, "marker")  # in a later sync: a duplicate or a late backfill would be in first
    await second.sink.wait_for(MessageReceived, lambda e: e.body == "marker")
    received = second.sink.of_type(MessageReceived, lambda e: e.body != "marker")
    assert [e.body for e in received] == missed
    assert [e.is_backfill for e in received] == [True] * 7 + [False] * 5


async def test_a_gap_longer_than_the_cap_keeps_its_newest_events_and_warns(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matrix_adapter, "MAX_BACKFILL", 4)
    monkeypatch.setattr(matrix_adapter, "BACKFILL_PAGE", 3)
    first = await new_client(options=OPTIONS)
    await harness.make_contacts(first.user_id, peer.address)
    await peer.send(first.user_id, "before")
    await first.sink.wait_for(MessageReceived, lambda e: e.body == "before")
    tokens = first.tokens()
    await first.adapter.disconnect()

    missed = [f"capped {n}" for n in range(15)]
    for body in missed:
        await peer.send(first.user_id, body)
    second = await new_client(connect=False, user=first.user, options=OPTIONS)
    await second.connect(tokens)
    await second.sink.wait_for(MessageReceived, lambda e: e.body == missed[-1])
    await peer.send(first.user_id, "marker")  # in a later sync: a duplicate or a late backfill would be in first
    await second.sink.wait_for(MessageReceived, lambda e: e.body == "marker")
    received = second.sink.of_type(MessageReceived, lambda e: e.body != "marker")
    assert [e.body for e in received] == missed[-9:], "the 4 newest of the gap, then the timeline"
    assert second.sink.of_type(AdapterWarning, lambda e: "more than 4 events" in e.message)


async def test_an_encrypted_gap_is_backfilled_decrypted(
    harness: MatrixHarness, new_client: NewClient, tmp_path: Path
) -> None:
    first = await new_client(options=OPTIONS)
    peer, peer_id = await _e2e_peer(harness, tmp_path)
    try:
        room_id = await _encrypted_room(harness, peer, peer_id, first.user_id)

        async def send(body: str) -> None:
            reply = await peer.room_send(
                room_id, "m.room.message", {"msgtype": "m.text", "body": body}, ignore_unverified_devices=True
            )
            assert isinstance(reply, nio.RoomSendResponse), reply

        await send("secret before")
        await first.sink.wait_for(MessageReceived, lambda e: e.body == "secret before", timeout=15)
        tokens = first.tokens()
        await first.adapter.disconnect()

        missed = [f"secret {n}" for n in range(10)]
        for body in missed:
            await send(body)
        second = await new_client(connect=False, user=first.user, options=OPTIONS)
        await second.connect(tokens)
        await second.sink.wait_for(MessageReceived, lambda e: e.body == missed[-1], timeout=15)
        await send("marker")  # in a later sync: a duplicate or a late backfill would be in first
        await second.sink.wait_for(MessageReceived, lambda e: e.body == "marker", timeout=15)
        received = second.sink.of_type(MessageReceived, lambda e: e.body != "marker")
        assert UNDECRYPTABLE_BODY not in [e.body for e in received]
        assert [e.body for e in received] == missed
        assert [e.is_backfill for e in received] == [True] * 5 + [False] * 5
    finally:
        await peer.close()


async def test_fetch_history_gives_the_newest_messages_or_those_after_a_time(
    harness: MatrixHarness, new_client: NewClient, peer: MatrixPeer
) -> None:
    client = await new_client()
    await harness.make_contacts(client.user_id, peer.address)
    bodies = [f"history {n}" for n in range(6)]
    for body in bodies:
        await peer.send(client.user_id, body)
    live = await client.sink.wait_for(MessageReceived, lambda e: e.body == bodies[-1])  # the others came before
    stamps = {e.body: e.timestamp for e in client.sink.of_type(MessageReceived)}
    conversation = live.conversation
    before = len(client.sink.events)

    assert await client.adapter.fetch_history(conversation, None, 3) == 3
    fetched = [e for e in client.sink.events[before:] if isinstance(e, MessageReceived)]
    assert [e.body for e in fetched] == bodies[-3:]
    assert all(e.is_backfill for e in fetched)

    before = len(client.sink.events)
    after = stamps[bodies[1]]
    assert after is not None
    assert await client.adapter.fetch_history(conversation, after, 100) == 4
    fetched = [e for e in client.sink.events[before:] if isinstance(e, MessageReceived)]
    assert [e.body for e in fetched] == bodies[2:]

    stranger = ConversationKey.direct(client.settings.account_id, "@nobody:localhost")
    assert await client.adapter.fetch_history(stranger, None, 10) == 0
