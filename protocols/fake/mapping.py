"""Translates server frames into adapter events. Malformed frames raise ``WireError``."""

from __future__ import annotations

from aggregator.api import (
    AccountId,
    AdapterEvent,
    ConfigurationError,
    ConversationKey,
    MessageKind,
    MessageReceived,
    Presence,
    PresenceChanged,
    PresenceKind,
    RoomJoined,
    RoomLeft,
    RoomMembers,
    RoomTopic,
    RosterItem,
    RosterItemChanged,
    RosterItemRemoved,
    RosterSnapshot,
    TimestampPrecision,
    TypingChanged,
)
from protocols.fake import wire
from protocols.fake.addresses import normalize_address
from protocols.fake.wire import Frame, WireError

_KINDS = {"chat": MessageKind.CHAT, "action": MessageKind.ACTION, "notice": MessageKind.NOTICE}
KIND_NAMES = {kind: name for name, kind in _KINDS.items()}


def handle(frame: Frame, key: str) -> str:
    """The normalised handle in ``frame[key]``."""
    value = wire.text(frame, key)
    try:
        return normalize_address(value)
    except ConfigurationError as exc:
        raise WireError(f"{frame['op']}: {key}: {exc}") from None


def _roster_item(value: object) -> RosterItem:
    if not isinstance(value, dict):
        raise WireError("roster: an item is not an object")
    name = wire.optional_text(value, "name")
    return RosterItem(handle=handle(value | {"op": "roster"}, "handle"), name=name)


def to_event(frame: Frame, account_id: AccountId) -> AdapterEvent:
    """The event a pushed frame means (not ``ack``/``error``, which answer requests)."""
    op = frame["op"]
    if op == "message":
        return _message(frame, account_id)
    if op == "presence":
        kind = wire.text(frame, "kind")
        try:
            presence = Presence(PresenceKind(kind), wire.text(frame, "status", default=""))
        except ValueError:
            raise WireError(f"presence: unknown kind {kind!r}") from None
        return PresenceChanged(account_id=account_id, handle=handle(frame, "from"), presence=presence)
    if op == "roster":
        items = frame.get("items")
        if not isinstance(items, list):
            raise WireError("roster: 'items' is not a list")
        return RosterSnapshot(account_id=account_id, items=tuple(_roster_item(item) for item in items))
    if op == "roster_item":
        return RosterItemChanged(account_id=account_id, item=_roster_item(frame))
    if op == "roster_remove":
        return RosterItemRemoved(account_id=account_id, handle=handle(frame, "handle"))
    if op == "typing":
        peer = handle(frame, "from")
        conversation = ConversationKey.direct(account_id, peer)
        return TypingChanged(
            account_id=account_id, conversation=conversation, handle=peer, typing=wire.flag(frame, "typing")
        )
    if op in ("room_joined", "room_left", "room_members", "room_topic"):
        return _room_event(frame, account_id)
    raise WireError(f"unknown op {op!r}")


def _room_event(frame: Frame, account_id: AccountId) -> AdapterEvent:
    op = frame["op"]
    room = ConversationKey.room(account_id, handle(frame, "room"))
    if op == "room_joined":
        return RoomJoined(account_id=account_id, conversation=room, nick=wire.text(frame, "nick"))
    if op == "room_left":
        return RoomLeft(account_id=account_id, conversation=room, reason=wire.text(frame, "reason", default=""))
    if op == "room_members":
        members = frame.get("members")
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise WireError("room_members: 'members' is not a list of nicks")
        return RoomMembers(account_id=account_id, conversation=room, members=tuple(members))
    return RoomTopic(
        account_id=account_id,
        conversation=room,
        topic=wire.text(frame, "topic", default=""),
        set_by=wire.optional_text(frame, "by"),
    )


def _message(frame: Frame, account_id: AccountId) -> MessageReceived:
    sender, to = handle(frame, "from"), handle(frame, "to")
    echo = wire.flag(frame, "echo")
    kind = _KINDS.get(wire.text(frame, "kind", default="chat"))
    if kind is None:
        raise WireError(f"message: unknown kind {frame['kind']!r}")
    if frame.get("room") is not None:
        conversation = ConversationKey.room(account_id, handle(frame, "room"))
    else:
        conversation = ConversationKey.direct(account_id, to if echo else sender)
    stamp = wire.text(frame, "timestamp")
    return MessageReceived(
        account_id=account_id,
        conversation=conversation,
        sender=sender,
        body=wire.text(frame, "body"),
        server_id=wire.text(frame, "server_id"),
        timestamp=wire.parse_timestamp(stamp),
        # ISO 8601 without a fraction of a second: the server stamped it in whole seconds
        timestamp_precision=TimestampPrecision.EXACT if "." in stamp else TimestampPrecision.SECOND,
        kind=kind,
        is_backfill=wire.flag(frame, "offline"),
        is_own_echo=echo,
        idempotency_key=wire.optional_text(frame, "key") if echo else None,
        sender_name=wire.optional_text(frame, "nick"),
    )
