"""Translates matrix-nio events into adapter events.

nio is untyped: an event is an opaque ``object`` here, read only through the event's raw
``source`` dict (after nio decrypted it) and checked field by field. Malformed events become an
``AdapterWarning``; events the aggregator has no use for map to ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import nio

from aggregator.api import (
    AccountId,
    AdapterEvent,
    AdapterWarning,
    ConfigurationError,
    ConversationKey,
    ConversationKind,
    MessageKind,
    MessageReceived,
    MessageState,
    MessageStateChanged,
    Presence,
    PresenceChanged,
    PresenceKind,
    TrustLevel,
    TypingChanged,
)
from protocols.matrix import files
from protocols.matrix.addresses import normalize_address

#: Body recorded for an encrypted message this device has no key for (yet).
UNDECRYPTABLE_BODY = "[unable to decrypt]"
#: Body recorded for a message first seen after it was redacted (its content is gone).
REDACTED_BODY = "[deleted message]"
#: Redacted events that stand for a message (and so get a placeholder); others are skipped.
_REDACTED_SHOWN = ("m.room.message", "m.room.encrypted")

_KINDS = {"m.text": MessageKind.CHAT, "m.notice": MessageKind.NOTICE, "m.emote": MessageKind.ACTION}
_MSGTYPES = {kind: msgtype for msgtype, kind in _KINDS.items()}
#: Message types shown as a one-line placeholder when they carry no usable file (``files.offer_from_content``).
_ATTACHMENTS = {"m.image": "image", "m.file": "file", "m.audio": "audio", "m.video": "video", "m.location": "location"}
#: Message types that are protocol steps rather than something to show.
_HIDDEN_MSGTYPES = ("m.key.verification.",)

_PRESENCE_IN = {
    "online": PresenceKind.AVAILABLE,
    "unavailable": PresenceKind.AWAY,
    "offline": PresenceKind.OFFLINE,
    "busy": PresenceKind.BUSY,  # MSC3026, sent by some servers
}
#: What our own presence kind becomes on the wire (Matrix has only three states).
PRESENCE_OUT = {
    PresenceKind.AVAILABLE: "online",
    PresenceKind.AWAY: "unavailable",
    PresenceKind.EXTENDED_AWAY: "unavailable",
    PresenceKind.BUSY: "unavailable",
    PresenceKind.INVISIBLE: "offline",
    PresenceKind.OFFLINE: "offline",
}


class MalformedEvent(Exception):
    """A field of an event is missing or has the wrong type."""


@dataclass(frozen=True, slots=True)
class RoomContext:
    """What the mapping needs to know about the room an event arrived in."""

    account_id: AccountId
    own_user_id: str
    conversation: ConversationKey
    display_name: Callable[[str], str | None]


def message_content(body: str, kind: MessageKind) -> dict[str, object]:
    """The ``m.room.message`` content for an outgoing message."""
    return {"msgtype": _MSGTYPES.get(kind, "m.text"), "body": body}


def timestamp(milliseconds: object) -> datetime | None:
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int) or milliseconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(milliseconds / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(mapping: Mapping[str, object], key: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str):
        raise MalformedEvent(f"'{key}' is missing or not a string")
    return value


def _object(mapping: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = mapping.get(key)
    if not isinstance(value, dict):
        return {}
    return value


def user_handle(user_id: object) -> str:
    """A user id from the server in normal form; ``MalformedEvent`` if it is not one."""
    if not isinstance(user_id, str):
        raise MalformedEvent("a user id is not a string")
    try:
        return normalize_address(user_id)
    except ConfigurationError as exc:
        raise MalformedEvent(str(exc)) from None


def source_of(event: object) -> Mapping[str, object]:
    source = getattr(event, "source", None)
    return source if isinstance(source, dict) else {}


def room_event(event: object, context: RoomContext, *, is_backfill: bool) -> AdapterEvent | None:
    """The adapter event for one timeline event of a joined room, or ``None`` if it means nothing here."""
    if isinstance(event, nio.MegolmEvent):  # nio could not decrypt it
        return _undecryptable(event, context, is_backfill=is_backfill)
    source = source_of(event)
    convert = _message
    if isinstance(event, nio.RedactedEvent):
        if source.get("type") not in _REDACTED_SHOWN:
            return None  # a redacted state event, reaction, redaction, ...: nothing the user saw
        convert = _redacted
    elif isinstance(event, nio.RedactionEvent) or source.get("type") == "m.room.redaction":
        convert = _redaction  # also a ``BadEvent`` one: room version 11 moved ``redacts`` into the content
    elif isinstance(event, nio.BadEvent | nio.UnknownBadEvent):
        # nio's schema is stricter than what is needed here (e.g. a ``formatted_body`` that is not a string):
        # a message whose ``msgtype`` and ``body`` are fine is still kept, as its plain body.
        if source.get("type") != "m.room.message":
            return None  # a malformed state or other event: nothing the user would see
    elif not isinstance(event, nio.RoomMessage):
        return None
    try:
        return convert(source, context, is_backfill=is_backfill)
    except MalformedEvent as exc:
        event_id = source.get("event_id")
        return _warning(context, f"a malformed message {event_id!s} in {context.conversation.handle}: {exc}")


def _message(source: Mapping[str, object], context: RoomContext, *, is_backfill: bool) -> MessageReceived | None:
    content = _object(source, "content")
    relates = _object(content, "m.relates_to")
    replaces: str | None = None
    if relates.get("rel_type") == "m.replace":
        replaces = _text(relates, "event_id")
        new_content = _object(content, "m.new_content")
        content = new_content or content
    msgtype = _text(content, "msgtype")
    body = _text(content, "body")
    kind = _KINDS.get(msgtype)
    offer = files.offer_from_content(content)
    if offer is not None:
        kind, body = MessageKind.CHAT, offer.name  # the file's name: what the row shows and search finds
    elif kind is None:
        label = _ATTACHMENTS.get(msgtype)
        if msgtype.startswith(_HIDDEN_MSGTYPES):
            return None  # a verification handshake: its body is only a fallback for clients without it
        # Another type: its ``body`` is the text to show, as the spec asks of clients that do not know it.
        kind, body = MessageKind.CHAT, f"[{label}] {body}" if label is not None else body
    sender = user_handle(source.get("sender"))
    own = sender == context.own_user_id
    unsigned = _object(source, "unsigned")
    transaction_id = unsigned.get("transaction_id")
    return MessageReceived(
        account_id=context.account_id,
        conversation=context.conversation,
        sender=sender,
        body=body,
        server_id=_text(source, "event_id"),
        timestamp=timestamp(source.get("origin_server_ts")),
        kind=kind,
        is_backfill=is_backfill,
        is_own_echo=own,
        idempotency_key=transaction_id if own and isinstance(transaction_id, str) else None,
        sender_name=context.display_name(sender),
        replaces_server_id=replaces,
        files=(offer,) if offer is not None else (),
    )


def _redaction(source: Mapping[str, object], context: RoomContext, *, is_backfill: bool) -> MessageReceived:
    """An ``m.room.redaction``: a ``SYSTEM`` note that names the deleted event in ``replaces_server_id``.

    The core stores it as a row of its own whose ``edit_of`` is the deleted message (or none, when that
    message is older than the archive); the deleted message's row keeps its text. The archive is the
    user's own record: a redaction marks a message as deleted, it does not erase what was received.
    Which event the redaction deletes is not checked (it may be a reaction or a state event, which the
    archive does not hold: then the note stands alone)."""
    content = _object(source, "content")
    redacts = source.get("redacts")
    if not isinstance(redacts, str):  # room version 11 and later
        redacts = _text(content, "redacts")
    sender = user_handle(source.get("sender"))
    reason = content.get("reason")
    body = f"[message deleted by {sender}"
    body += f": {reason}]" if isinstance(reason, str) and reason.strip() else "]"
    return MessageReceived(
        account_id=context.account_id,
        conversation=context.conversation,
        sender=sender,
        body=body,
        server_id=_text(source, "event_id"),
        timestamp=timestamp(source.get("origin_server_ts")),
        kind=MessageKind.SYSTEM,
        is_backfill=is_backfill,
        is_own_echo=sender == context.own_user_id,
        sender_name=context.display_name(sender),
        replaces_server_id=redacts,
    )


def _redacted(source: Mapping[str, object], context: RoomContext, *, is_backfill: bool) -> MessageReceived:
    """A message seen for the first time after it was redacted (``unsigned.redacted_because``): its content
    is gone, so a ``SYSTEM`` placeholder stands in for it, under its own event id (so that it is stored
    once, and a later redaction event links to it)."""
    sender = user_handle(source.get("sender"))
    return MessageReceived(
        account_id=context.account_id,
        conversation=context.conversation,
        sender=sender,
        body=REDACTED_BODY,
        server_id=_text(source, "event_id"),
        timestamp=timestamp(source.get("origin_server_ts")),
        kind=MessageKind.SYSTEM,
        is_backfill=is_backfill,
        is_own_echo=sender == context.own_user_id,
        sender_name=context.display_name(sender),
    )


def decrypted_later(event: object, context: RoomContext, is_backfill: bool) -> AdapterEvent | None:
    """The message of an event that could not be decrypted when it arrived and now can: it names itself
    in ``replaces_server_id`` so that the core fills in the "unable to decrypt" placeholder it stored.

    A late-decrypted edit fills in its own placeholder with the new text (the link to the message it
    edits is not made then)."""
    mapped = room_event(event, context, is_backfill=is_backfill)
    if not isinstance(mapped, MessageReceived) or mapped.server_id is None:
        return mapped  # a warning (malformed), or nothing the user would see
    return replace(mapped, replaces_server_id=mapped.server_id)


def _undecryptable(event: object, context: RoomContext, *, is_backfill: bool) -> AdapterEvent:
    source = source_of(event)
    try:
        sender = user_handle(source.get("sender"))
        return MessageReceived(
            account_id=context.account_id,
            conversation=context.conversation,
            sender=sender,
            body=UNDECRYPTABLE_BODY,
            server_id=_text(source, "event_id"),
            timestamp=timestamp(source.get("origin_server_ts")),
            kind=MessageKind.SYSTEM,
            is_backfill=is_backfill,
            is_own_echo=sender == context.own_user_id,
            sender_name=context.display_name(sender),
        )
    except MalformedEvent as exc:
        return _warning(context, f"a malformed encrypted event in {context.conversation.handle}: {exc}")


def presence(event: object, account_id: AccountId) -> AdapterEvent | None:
    """``PresenceChanged`` for a ``nio.PresenceEvent``; unknown states become a warning."""
    try:
        handle = user_handle(getattr(event, "user_id", None))
    except MalformedEvent as exc:
        return AdapterWarning(account_id=account_id, message=f"a malformed presence event: {exc}")
    state = getattr(event, "presence", None)
    kind = _PRESENCE_IN.get(state) if isinstance(state, str) else None
    if kind is None:
        return AdapterWarning(account_id=account_id, message=f"unknown presence {state!r} of {handle}")
    status = getattr(event, "status_msg", None)
    return PresenceChanged(
        account_id=account_id, handle=handle, presence=Presence(kind, status if isinstance(status, str) else "")
    )


def typing(event: object, context: RoomContext, before: frozenset[str]) -> tuple[frozenset[str], list[AdapterEvent]]:
    """The users typing now (from a ``nio.TypingNoticeEvent``) and a ``TypingChanged`` per change."""
    users = getattr(event, "users", None)
    now: set[str] = set()
    for user in users if isinstance(users, list) else []:
        try:
            handle = user_handle(user)
        except MalformedEvent:
            continue
        if handle != context.own_user_id:
            now.add(handle)
    changes: list[AdapterEvent] = []
    for handle, is_typing in [(h, True) for h in sorted(now - before)] + [(h, False) for h in sorted(before - now)]:
        changes.append(
            TypingChanged(
                account_id=context.account_id, conversation=context.conversation, handle=handle, typing=is_typing
            )
        )
    return frozenset(now), changes


def read_receipts(event: object, context: RoomContext) -> list[AdapterEvent]:
    """``MessageStateChanged(READ)`` for each read receipt a peer sent in a direct chat."""
    if context.conversation.kind is not ConversationKind.DIRECT:
        return []  # one member's receipt does not make a room message "read"
    result: list[AdapterEvent] = []
    receipts = getattr(event, "receipts", None)
    for receipt in receipts if isinstance(receipts, list) else []:
        user_id, event_id = getattr(receipt, "user_id", None), getattr(receipt, "event_id", None)
        if getattr(receipt, "receipt_type", None) != "m.read" or not isinstance(event_id, str):
            continue
        try:
            if user_handle(user_id) == context.own_user_id:
                continue
        except MalformedEvent:
            continue
        result.append(
            MessageStateChanged(
                account_id=context.account_id,
                conversation=context.conversation,
                state=MessageState.READ,
                remote_id=event_id,
            )
        )
    return result


def device_trust(devices: Iterable[object]) -> tuple[TrustLevel, int, int]:
    """(trust, devices, verified devices) of a user's active (not deleted) ``nio.OlmDevice``s.

    No device: ``NONE``; any blacklisted: ``BLOCKED``; else by how many are verified (an ignored device
    counts as unverified)."""
    active = [d for d in devices if not getattr(d, "deleted", False)]
    verified = sum(1 for d in active if getattr(d, "verified", False) is True)
    if not active:
        trust = TrustLevel.NONE
    elif any(getattr(d, "blacklisted", False) is True for d in active):
        trust = TrustLevel.BLOCKED
    elif verified == len(active):
        trust = TrustLevel.VERIFIED
    elif verified:
        trust = TrustLevel.PARTLY_VERIFIED
    else:
        trust = TrustLevel.UNVERIFIED
    return trust, len(active), verified


def direct_rooms(content: object) -> dict[str, str]:
    """room id -> peer user id from the content of ``m.direct`` account data (malformed entries skipped)."""
    result: dict[str, str] = {}
    if not isinstance(content, dict):
        return result
    for user_id, rooms in content.items():
        try:
            peer = user_handle(user_id)
        except MalformedEvent:
            continue
        for room_id in rooms if isinstance(rooms, list) else []:
            if isinstance(room_id, str):
                result[room_id] = peer
    return result


def _warning(context: RoomContext, message: str) -> AdapterWarning:
    return AdapterWarning(account_id=context.account_id, message=message)
