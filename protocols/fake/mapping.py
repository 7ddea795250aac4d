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
    RosterItem,
    RosterItemChanged,
    RosterItemRemoved,
    RosterSnapshot,
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
    raise WireError(f"unknown op {op!r}")


def _message(frame: Frame, account_id: AccountId) -> MessageReceived:
    sender, to = handle(frame, "from"), handle(frame, "to")
    echo = wire.flag(frame, "echo")
    kind = _KINDS.get(wire.text(frame, "kind", default="chat"))
    if kind is None:
        raise WireError(f"message: unknown kind {frame['kind']!r}")
    return MessageReceived(
        account_id=account_id,
        conversation=ConversationKey.direct(account_id, to if echo else sender),
        sender=sender,
        body=wire.text(frame, "body"),
        server_id=wire.text(frame, "server_id"),
        timestamp=wire.parse_timestamp(wire.text(frame, "timestamp")),
        kind=kind,
        is_backfill=wire.flag(frame, "offline"),
        is_own_echo=echo,
        idempotency_key=wire.optional_text(frame, "key") if echo else None,
    )
