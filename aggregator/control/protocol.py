"""Wire format of the control socket: one JSON object per line, one request per connection."""

from __future__ import annotations

import json
from typing import Any

from aggregator.archive import StoredMessage

MAX_REQUEST = 1 << 20


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    value = json.loads(line)
    if not isinstance(value, dict):
        raise ValueError("a request must be a JSON object")
    return value


def message_json(m: StoredMessage) -> dict[str, Any]:
    """The public JSON shape of a message (``history --json`` and the control socket)."""
    return {
        "id": m.id,
        "account": m.account_id,
        "conversation": m.conversation.handle,
        "conversation_kind": m.conversation.kind.name.lower(),
        "direction": m.direction.label,
        "sender": m.sender,
        "sender_name": m.sender_name,
        "body": m.body,
        "kind": m.kind.name.lower(),
        "sent_at": m.sent_at.isoformat().replace("+00:00", "Z"),
        "received_at": m.received_at.isoformat().replace("+00:00", "Z"),
        "state": m.state.name.lower(),
        "server_id": m.server_id,
        "error": m.error or None,
        "edit_of": m.edit_of,
        "backfill": m.is_backfill,
    }
