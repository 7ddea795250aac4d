"""Records the events of ``tests/data/recorded/matrix/`` from the suite's real Synapse.

Not collected by the suite (the name does not start with ``test_``); run it explicitly to refresh the
recordings after a server upgrade or to add one:

    SKIP_LINT=1 scripts/test tests/protocols/matrix/record_events.py -q

It drives the Matrix adapter and plain nio peers through the scenarios the mapping tests need, and
keeps the raw JSON of every ``/sync`` reply nio parses (``nio.SyncResponse.from_dict`` is wrapped), so
each file holds one event exactly as Synapse sent it: ``{"section": ..., "room_id": ..., "event": ...}``
where the section is ``timeline``, ``state``, ``ephemeral``, ``invite_state``, ``presence`` or
``account_data``. ``accounts.json`` names the users and rooms of the run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nio
import pytest

from aggregator.api import (
    ConversationKey,
    MessageReceived,
    MessageState,
    MessageStateChanged,
    OutgoingMessage,
    PresenceChanged,
    PresenceKind,
    RoomLeft,
    RoomTopic,
    SubscriptionRequested,
    TypingChanged,
)
from tests.contract.matrix_harness import MatrixHarness
from tests.protocols.matrix.conftest import NewClient

OUT = Path(__file__).resolve().parents[2] / "data" / "recorded" / "matrix"

Entry = dict[str, Any]
Predicate = Callable[[Entry], bool]


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Entry] = []
        self.written: list[str] = []

    def take(self, sync: dict[str, Any]) -> None:
        rooms = sync.get("rooms", {})
        for room_id, room in rooms.get("join", {}).items():
            for section in ("timeline", "state", "ephemeral"):
                for event in room.get(section, {}).get("events", []):
                    self.seen.append({"section": section, "room_id": room_id, "event": event})
        for room_id, room in rooms.get("invite", {}).items():
            for event in room.get("invite_state", {}).get("events", []):
                self.seen.append({"section": "invite_state", "room_id": room_id, "event": event})
        for event in sync.get("presence", {}).get("events", []):
            self.seen.append({"section": "presence", "room_id": None, "event": event})
        for event in sync.get("account_data", {}).get("events", []):
            self.seen.append({"section": "account_data", "room_id": None, "event": event})

    def save(self, name: str, *predicates: Predicate) -> None:
        for entry in reversed(self.seen):
            if all(predicate(entry) for predicate in predicates):
                OUT.mkdir(parents=True, exist_ok=True)
                (OUT / f"{name}.json").write_text(json.dumps(entry, indent=2, sort_keys=True) + "\n", encoding="utf-8")
                self.written.append(name)
                return
        raise AssertionError(f"no event recorded for {name}")


def of_type(event_type: str) -> Predicate:
    return lambda entry: entry["event"].get("type") == event_type


def section(name: str) -> Predicate:
    return lambda entry: entry["section"] == name


def event_id_is(event_id: str) -> Predicate:
    return lambda entry: entry["event"].get("event_id") == event_id


def server_id_is(event_id: str) -> Callable[[MessageReceived], bool]:
    return lambda event: event.server_id == event_id


def body(text: str) -> Predicate:
    return lambda entry: entry["event"].get("content", {}).get("body") == text


async def test_record_events(new_client: NewClient, harness: MatrixHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    original = nio.SyncResponse.from_dict.__func__

    def recording(cls: Any, parsed_dict: dict[str, Any]) -> Any:
        recorder.take(copy.deepcopy(parsed_dict))  # nio pops fields out of what it parses
        return original(cls, parsed_dict)

    monkeypatch.setattr(nio.SyncResponse, "from_dict", classmethod(recording))
    alice = await new_client(connect=False)
    peer = await harness.new_peer()
    room_id = await harness.make_direct_room(alice.user_id, peer.address)

    # A message redacted before alice ever saw it: a placeholder at her first sync.
    secret = await peer.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "secret"})
    redacted_early = await peer.client.room_redact(room_id, secret.event_id)
    assert isinstance(redacted_early, nio.RoomRedactResponse)
    await alice.connect()
    await alice.sink.wait_for(MessageReceived, lambda e: e.server_id == secret.event_id)
    recorder.save("redacted-before-seen", section("timeline"), lambda e: e["event"].get("event_id") == secret.event_id)
    recorder.save("m-direct", section("account_data"), of_type("m.direct"))

    # Messages of the peer: text, emote, notice, an image, an edit, a redaction with a reason.
    sent: dict[str, str] = {}
    for name, content in (
        ("text", {"msgtype": "m.text", "body": "hello alice"}),
        ("emote", {"msgtype": "m.emote", "body": "waves"}),
        ("notice", {"msgtype": "m.notice", "body": "a bot says"}),
        ("image", {"msgtype": "m.image", "body": "cat.png", "url": "mxc://localhost/abcdefgh"}),
    ):
        reply = await peer.client.room_send(room_id, "m.room.message", content)
        assert isinstance(reply, nio.RoomSendResponse)
        sent[name] = reply.event_id
        await alice.sink.wait_for(MessageReceived, server_id_is(reply.event_id))
        recorder.save(name, section("timeline"), event_id_is(reply.event_id))
    edit = {
        "msgtype": "m.text",
        "body": "* hello, alice",
        "m.new_content": {"msgtype": "m.text", "body": "hello, alice"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": sent["text"]},
    }
    await peer.client.room_send(room_id, "m.room.message", edit)
    await alice.sink.wait_for(MessageReceived, lambda e: e.replaces_server_id == sent["text"])
    recorder.save("edit", section("timeline"), body("* hello, alice"))
    redaction = await peer.client.room_redact(room_id, sent["notice"], reason="wrong chat")
    assert isinstance(redaction, nio.RoomRedactResponse)
    await alice.sink.wait_for(MessageReceived, lambda e: e.server_id == redaction.event_id)
    recorder.save("redaction", section("timeline"), of_type("m.room.redaction"))

    # Our own message comes back with its transaction id; the peer reads it, types, goes away.
    conversation = ConversationKey.direct(alice.settings.account_id, peer.handle)
    mine = await alice.adapter.send_message(conversation, OutgoingMessage("mine", "key-mine"))
    await alice.sink.wait_for(MessageReceived, lambda e: e.server_id == mine.remote_id)
    recorder.save("own-echo", section("timeline"), lambda e: e["event"].get("event_id") == mine.remote_id)
    await peer.next_message()
    await peer.client.room_read_markers(room_id, fully_read_event=mine.remote_id, read_event=mine.remote_id)
    await alice.sink.wait_for(MessageStateChanged, lambda e: e.state is MessageState.READ)
    recorder.save("receipt", section("ephemeral"), of_type("m.receipt"))
    await peer.client.room_typing(room_id, typing_state=True)
    await alice.sink.wait_for(TypingChanged, lambda e: e.typing)
    recorder.save(
        "typing", section("ephemeral"), of_type("m.typing"), lambda e: bool(e["event"]["content"]["user_ids"])
    )
    await peer.set_presence(PresenceKind.AWAY, "at lunch")
    await alice.sink.wait_for(PresenceChanged, lambda e: e.presence.kind is PresenceKind.AWAY)
    recorder.save("presence", section("presence"), lambda e: e["event"].get("sender") == peer.address)

    # A direct-chat invitation from someone new.
    other = await harness.new_peer()
    created = await other.client.room_create(is_direct=True, invite=[alice.user_id])
    assert isinstance(created, nio.RoomCreateResponse)
    await alice.sink.wait_for(SubscriptionRequested, lambda e: e.handle == other.handle)
    recorder.save(
        "direct-invite",
        section("invite_state"),
        of_type("m.room.member"),
        lambda e: e["event"].get("state_key") == alice.user_id,
    )

    # A group room: its topic set by the peer.
    team = await peer.client.room_create(name="Team room", invite=[alice.user_id])
    assert isinstance(team, nio.RoomCreateResponse)
    await alice.adapter.join_room(team.room_id)
    await peer.client.room_put_state(team.room_id, "m.room.topic", {"topic": "plans for friday"})
    await alice.sink.wait_for(RoomTopic, lambda e: e.topic == "plans for friday")
    recorder.save(
        "topic", of_type("m.room.topic"), lambda e: e["event"].get("content", {}).get("topic") == "plans for friday"
    )

    # The peer removes us from the group room.
    await peer.client.room_kick(team.room_id, alice.user_id, reason="tidying up")
    await alice.sink.wait_for(RoomLeft, lambda e: e.conversation.handle == team.room_id)
    recorder.save(
        "kick",
        of_type("m.room.member"),
        lambda e: (
            e["event"].get("content", {}).get("membership") == "leave" and e["event"].get("state_key") == alice.user_id
        ),
    )

    accounts = {
        "own": alice.user_id,
        "peer": peer.address,
        "inviter": other.address,
        "direct_room": room_id,
        "group_room": team.room_id,
    }
    (OUT / "accounts.json").write_text(json.dumps(accounts, indent=2) + "\n", encoding="utf-8")
    assert recorder.written
