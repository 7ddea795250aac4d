"""The public JSON shapes of the application layer's values (the CLI's ``--json`` and the control socket)."""

from __future__ import annotations

from typing import Any

from aggregator.archive.records import StoredMessage


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
