"""nio events -> adapter events, without a server (malformed input in particular: Synapse refuses to
send most of it, but other servers and bridges do)."""

from __future__ import annotations

from typing import Any

import nio
import pytest

from aggregator.api import (
    AdapterWarning,
    ConversationKey,
    MessageKind,
    MessageReceived,
    Presence,
    PresenceChanged,
    PresenceKind,
)
from protocols.matrix import mapping

ME = "@me:example.org"
PEER = "@peer:example.org"
CONTEXT = mapping.RoomContext(
    account_id="acct",
    own_user_id=ME,
    conversation=ConversationKey.direct("acct", PEER),
    display_name=lambda user_id: None,
)


def event(content: dict[str, Any], sender: str = PEER, **extra: Any) -> Any:
    source = {"type": "m.room.message", "event_id": "$e1", "sender": sender, "origin_server_ts": 1_700_000_000_000}
    return nio.Event.parse_event(source | {"content": content} | extra)


def test_a_text_message() -> None:
    result = mapping.room_event(event({"msgtype": "m.text", "body": "hi"}), CONTEXT, is_backfill=False)
    assert isinstance(result, MessageReceived)
    assert (result.body, result.sender, result.server_id, result.kind) == ("hi", PEER, "$e1", MessageKind.CHAT)
    assert result.timestamp is not None and result.timestamp.tzinfo is not None
    assert not result.is_own_echo and result.idempotency_key is None


def test_own_echo_carries_the_transaction_id() -> None:
    echo = event({"msgtype": "m.text", "body": "hi"}, sender=ME, unsigned={"transaction_id": "k1"})
    result = mapping.room_event(echo, CONTEXT, is_backfill=False)
    assert isinstance(result, MessageReceived)
    assert result.is_own_echo and result.idempotency_key == "k1"


@pytest.mark.parametrize(
    "content",
    [
        {"body": "no msgtype"},
        {"msgtype": "m.text", "body": 42},
        {"msgtype": "m.text", "body": "x", "m.relates_to": {"rel_type": "m.replace"}},
    ],
)
def test_malformed_messages_are_warnings(content: dict[str, Any]) -> None:
    result = mapping.room_event(event(content), CONTEXT, is_backfill=False)
    assert isinstance(result, AdapterWarning)
    assert "$e1" in result.message


@pytest.mark.parametrize(
    "content",
    [
        {"msgtype": "m.text", "body": "ok", "formatted_body": ["not", "a", "string"], "format": 5},
        {"msgtype": "m.text", "body": "ok", "format": "org.matrix.custom.html", "formatted_body": "<script>x</script>"},
        {"msgtype": "m.notice", "body": "ok", "extra": {"deep": [1, None]}, "m.relates_to": "not an object"},
    ],
)
def test_odd_but_readable_messages_are_their_plain_body(content: dict[str, Any]) -> None:
    result = mapping.room_event(event(content), CONTEXT, is_backfill=False)
    assert isinstance(result, MessageReceived) and result.body == "ok"


def test_a_bad_sender_is_a_warning() -> None:
    result = mapping.room_event(
        event({"msgtype": "m.text", "body": "x"}, sender="@Not A User"), CONTEXT, is_backfill=False
    )
    assert isinstance(result, AdapterWarning)


def test_files_become_offers_unknown_types_their_body_and_verification_nothing() -> None:
    image = mapping.room_event(
        event({"msgtype": "m.image", "body": "cat.png", "url": "mxc://x/y"}), CONTEXT, is_backfill=False
    )
    assert isinstance(image, MessageReceived) and image.body == "cat.png"
    assert [(f.url, f.name) for f in image.files] == [("mxc://x/y", "cat.png")]
    broken = mapping.room_event(
        event({"msgtype": "m.image", "body": "cat.png", "url": "https://x/y"}), CONTEXT, is_backfill=False
    )
    assert isinstance(broken, MessageReceived) and broken.body == "[image] cat.png" and broken.files == ()
    other = event({"msgtype": "m.key.verification.request", "body": "verify?"})
    assert mapping.room_event(other, CONTEXT, is_backfill=False) is None
    custom = mapping.room_event(event({"msgtype": "com.example.poll", "body": "lunch?"}), CONTEXT, is_backfill=False)
    assert isinstance(custom, MessageReceived) and (custom.body, custom.kind) == ("lunch?", MessageKind.CHAT)


def test_presence() -> None:
    away = nio.PresenceEvent(PEER, "unavailable", status_msg="lunch")
    assert mapping.presence(away, "acct") == PresenceChanged(
        account_id="acct", handle=PEER, presence=Presence(PresenceKind.AWAY, "lunch")
    )
    assert isinstance(mapping.presence(nio.PresenceEvent(PEER, "dancing"), "acct"), AdapterWarning)


def test_direct_rooms_skip_malformed_entries() -> None:
    content = {PEER: ["!a", 3], "not a user": ["!b"], "@x:example.org": "!c"}
    assert mapping.direct_rooms(content) == {"!a": PEER}


def test_a_redaction_is_a_system_note_naming_the_deleted_event() -> None:
    redaction = nio.Event.parse_event(
        {
            "type": "m.room.redaction",
            "event_id": "$r1",
            "sender": PEER,
            "origin_server_ts": 1_700_000_000_000,
            "redacts": "$e1",
            "content": {"reason": "typo"},
        }
    )
    result = mapping.room_event(redaction, CONTEXT, is_backfill=True)
    assert isinstance(result, MessageReceived)
    assert (result.server_id, result.replaces_server_id, result.kind) == ("$r1", "$e1", MessageKind.SYSTEM)
    assert result.body == f"[message deleted by {PEER}: typo]" and result.sender == PEER and result.is_backfill


def test_a_room_version_11_redaction_names_the_event_in_its_content() -> None:
    source = {"type": "m.room.redaction", "event_id": "$r1", "sender": ME, "content": {"redacts": "$e1"}}
    result = mapping.room_event(nio.Event.parse_event(source), CONTEXT, is_backfill=False)
    assert isinstance(result, MessageReceived)
    assert result.replaces_server_id == "$e1" and result.body == f"[message deleted by {ME}]" and result.is_own_echo


def test_a_redaction_without_a_target_is_a_warning() -> None:
    source = {"type": "m.room.redaction", "event_id": "$r1", "sender": PEER, "content": {}}
    assert isinstance(mapping.room_event(nio.Event.parse_event(source), CONTEXT, is_backfill=False), AdapterWarning)


def test_an_already_redacted_message_is_a_placeholder_and_other_redacted_events_nothing() -> None:
    because = {"type": "m.room.redaction", "event_id": "$r1", "sender": PEER, "redacts": "$e1", "content": {}}
    redacted = event({}, unsigned={"redacted_because": because})
    result = mapping.room_event(redacted, CONTEXT, is_backfill=True)
    assert isinstance(result, MessageReceived)
    assert (result.body, result.kind, result.server_id) == (mapping.REDACTED_BODY, MessageKind.SYSTEM, "$e1")
    assert result.replaces_server_id is None and result.sender == PEER
    reaction = event({}, type="m.reaction", unsigned={"redacted_because": because})
    assert mapping.room_event(reaction, CONTEXT, is_backfill=True) is None
