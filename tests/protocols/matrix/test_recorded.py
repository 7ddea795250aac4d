"""The event mapping (``protocols/matrix/mapping.py``, ``room_state.py``) on events recorded from the
suite's Synapse (``tests/data/recorded/matrix/``, written by ``record_events.py``): each is parsed by nio
exactly as a sync would parse it, then mapped. No server needed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nio
import pytest

from aggregator.api import (
    AccountId,
    ConfigurationError,
    ConversationKey,
    MessageKind,
    MessageReceived,
    MessageState,
    MessageStateChanged,
    Presence,
    PresenceChanged,
    PresenceKind,
    TypingChanged,
)
from protocols.matrix import mapping, room_state
from protocols.matrix.sync import sync_filter

RECORDED = Path(__file__).resolve().parents[2] / "data" / "recorded" / "matrix"
NAMES = json.loads((RECORDED / "accounts.json").read_text(encoding="utf-8"))
OWN, PEER, INVITER = NAMES["own"], NAMES["peer"], NAMES["inviter"]
ACCOUNT = AccountId(f"matrix:{OWN}")
DIRECT = ConversationKey.direct(ACCOUNT, PEER)
CONTEXT = mapping.RoomContext(
    account_id=ACCOUNT, own_user_id=OWN, conversation=DIRECT, display_name=lambda user_id: None
)


@dataclass(frozen=True)
class RoomStub:
    """What nio's room holds (``lib.Room``), without a sync."""

    room_id: str
    is_group: bool
    member_count: int
    display_name: str
    topic: str | None
    users: dict[str, object]
    encrypted: bool = False


def raw(name: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))["event"]
    return entry


def room_event(name: str) -> object:
    event: object = nio.Event.parse_event(raw(name))
    return event


def message(name: str, *, is_backfill: bool = False) -> MessageReceived:
    mapped = mapping.room_event(room_event(name), CONTEXT, is_backfill=is_backfill)
    assert isinstance(mapped, MessageReceived)
    return mapped


def test_a_text_message() -> None:
    source = raw("text")
    event = message("text")
    assert (event.conversation, event.sender, event.body, event.kind) == (DIRECT, PEER, "hello alice", MessageKind.CHAT)
    assert event.server_id == source["event_id"]
    assert event.timestamp is not None and int(event.timestamp.timestamp() * 1000) == source["origin_server_ts"]
    assert not event.is_own_echo and event.idempotency_key is None and not event.is_backfill


def test_emote_and_notice_kinds() -> None:
    assert (message("emote").kind, message("emote").body) == (MessageKind.ACTION, "waves")
    assert (message("notice").kind, message("notice").body) == (MessageKind.NOTICE, "a bot says")


def test_an_image_is_a_file_offer_named_like_the_file() -> None:
    image = message("image")
    assert image.body == "cat.png"
    assert [(f.url, f.name, f.encrypted) for f in image.files] == [("mxc://localhost/abcdefgh", "cat.png", False)]


def test_an_edit_shows_the_new_content_and_names_the_original() -> None:
    edit = message("edit")
    assert edit.body == "hello, alice"  # m.new_content, not the "* ..." fallback
    assert edit.replaces_server_id == raw("text")["event_id"]


def test_a_redaction_is_a_note_naming_the_deleted_message_with_its_reason() -> None:
    note = message("redaction")
    assert note.kind is MessageKind.SYSTEM and note.sender == PEER
    assert note.replaces_server_id == raw("notice")["event_id"]
    assert note.body == f"[message deleted by {PEER}: wrong chat]"


def test_a_message_first_seen_redacted_is_a_placeholder_under_its_own_id() -> None:
    source = raw("redacted-before-seen")
    placeholder = message("redacted-before-seen", is_backfill=True)
    assert placeholder.body == mapping.REDACTED_BODY and placeholder.kind is MessageKind.SYSTEM
    assert placeholder.server_id == source["event_id"] and placeholder.replaces_server_id is None
    assert "secret" not in json.dumps(source)  # the server sent no content: nothing to recover


def test_our_own_message_comes_back_with_its_transaction_id() -> None:
    echo = message("own-echo")
    assert echo.is_own_echo and echo.sender == OWN and echo.idempotency_key == "key-mine"


def test_a_read_receipt_in_a_direct_chat_marks_our_message_read() -> None:
    event = nio.EphemeralEvent.parse_event(raw("receipt"))
    changes = mapping.read_receipts(event, CONTEXT)
    assert changes == [
        MessageStateChanged(
            account_id=ACCOUNT, conversation=DIRECT, state=MessageState.READ, remote_id=raw("own-echo")["event_id"]
        )
    ]
    room = mapping.RoomContext(ACCOUNT, OWN, ConversationKey.room(ACCOUNT, "!r:x"), lambda user_id: None)
    assert mapping.read_receipts(event, room) == []  # one member's receipt does not make a room message read


def test_typing_starts_and_stops() -> None:
    event = nio.EphemeralEvent.parse_event(raw("typing"))
    now, changes = mapping.typing(event, CONTEXT, frozenset())
    assert now == {PEER}
    assert changes == [TypingChanged(account_id=ACCOUNT, conversation=DIRECT, handle=PEER, typing=True)]
    stopped = nio.EphemeralEvent.parse_event({"type": "m.typing", "content": {"user_ids": []}})
    assert mapping.typing(stopped, CONTEXT, now) == (
        frozenset(),
        [TypingChanged(account_id=ACCOUNT, conversation=DIRECT, handle=PEER, typing=False)],
    )


def test_presence_away_with_a_status() -> None:
    event = nio.PresenceEvent.from_dict(raw("presence"))
    assert mapping.presence(event, ACCOUNT) == PresenceChanged(
        account_id=ACCOUNT,
        handle=PEER,
        presence=Presence(PresenceKind.AWAY, "at lunch"),
    )


def test_m_direct_names_the_peer_of_the_direct_room() -> None:
    assert mapping.direct_rooms(raw("m-direct")["content"]) == {NAMES["direct_room"]: PEER}


def test_a_direct_invitation_says_is_direct_and_who_invites() -> None:
    source = raw("direct-invite")
    assert source["state_key"] == OWN and source["sender"] == INVITER
    assert source["content"]["membership"] == "invite" and source["content"]["is_direct"] is True


def test_who_set_the_topic_and_why_we_left() -> None:
    room = RoomStub(NAMES["group_room"], True, 2, "Team room", "plans for friday", {})
    topic = room_event("topic")
    assert room_state.topic_setter(room, [topic]) == PEER  # no display name: the user id
    kick = room_event("kick")
    assert room_state.leave_reason([kick], OWN) == f"removed from the room by {PEER}: tidying up"


def test_the_timeline_limit_option() -> None:
    assert sync_filter("") is None
    assert sync_filter(" 20 ") == {"room": {"timeline": {"limit": 20}}}
    for bad in ("0", "-1", "many"):
        with pytest.raises(ConfigurationError):
            sync_filter(bad)
