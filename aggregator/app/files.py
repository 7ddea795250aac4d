"""Files as commands of the application layer: list, fetch, save; and as control-socket requests
(``files.list`` with optional ``with`` and ``limit``, ``files.fetch`` and ``files.save`` with ``id`` and
``output``), so ``aggregator files`` works while an instance runs. Sending a file is ``send`` with
``file`` (``aggregator send ACCOUNT TO --file PATH [TEXT]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aggregator.api import ConfigurationError, ConversationKey, UnsupportedError
from aggregator.archive.attachments import StoredAttachment as StoredAttachment
from aggregator.archive.records import Direction as Direction
from aggregator.files.model import AttachmentState as AttachmentState

if TYPE_CHECKING:
    from aggregator.core import Core
    from aggregator.files.service import FileService

OPS = frozenset({"files.list", "files.fetch", "files.save"})


@dataclass(frozen=True, slots=True)
class FileRow:
    """One file as the window's list and ``aggregator files`` show it."""

    stored: StoredAttachment
    conversation: ConversationKey
    direction: Direction
    sender: str
    sent_at: datetime


def size_text(size: int | None) -> str:
    """A file's size as a person reads it ("1.4 KB", "50.0 MB")."""
    if size is None:
        return "unknown size"
    if size < 1024:
        return f"{size} bytes"
    value, units = size / 1024, ["KB", "MB", "GB"]
    while value >= 1024 and len(units) > 1:
        value /= 1024
        units.pop(0)
    return f"{value:.1f} {units[0]}"


def service(core: Core) -> FileService:
    if core.files is None:
        raise UnsupportedError("this profile has no file service")
    return core.files


def rows(core: Core, *, with_handle: str | None = None, limit: int = 100) -> list[FileRow]:
    """The newest files, newest first; ``with_handle``: only in conversations with that address."""
    files = service(core)
    conversation_ids: list[int] | None = None
    if with_handle:
        conversation_ids = core.archive.conversations_with(with_handle.strip())
        if not conversation_ids:
            return []
    found: list[FileRow] = []
    for stored in files.newest(limit=limit, conversation_ids=conversation_ids):
        message = core.archive.get(stored.message_id)
        if message is None:
            continue
        found.append(FileRow(stored, message.conversation, message.direction, message.sender, message.sent_at))
    return found


def row_json(row: FileRow) -> dict[str, Any]:
    a = row.stored.attachment
    return {
        "id": row.stored.id,
        "message_id": row.stored.message_id,
        "account": row.conversation.account_id,
        "conversation": row.conversation.handle,
        "direction": row.direction.label,
        "sender": row.sender,
        "sent_at": row.sent_at.isoformat().replace("+00:00", "Z"),
        "name": a.name,
        "size": a.size,
        "mime_type": a.mime_type,
        "sha256": a.sha256,
        "state": a.state.value,
        "reason": a.reason or None,
        "url": a.remote_url,
    }


async def run(core: Core, request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    files = service(core)
    if op == "files.list":
        limit = int(request.get("limit", 100))
        if limit < 1:
            raise ConfigurationError("the limit must be at least 1")
        found = rows(core, with_handle=request.get("with") or None, limit=limit)
        return {"ok": True, "files": [row_json(r) for r in found]}
    attachment_id = int(request["id"])
    if op == "files.fetch":
        stored = await files.fetch(attachment_id)
        return {"ok": True, "state": stored.attachment.state.value, "reason": stored.attachment.reason or None}
    output = Path(str(request["output"]))  # the CLI sends an absolute path
    saved = await files.save(attachment_id, output)
    return {"ok": True, "path": str(saved)}
