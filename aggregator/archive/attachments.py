"""The ``attachments`` table (schema v8): which files messages carried, and where each one stands.

The file services get an ``AttachmentTable`` and never a connection; each call is one archive
transaction (see ``policy_events.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update

from aggregator.archive.migrations.v008_attachments import ATTACHMENTS as _A
from aggregator.archive.models import MessageRow
from aggregator.files.model import Attachment, AttachmentState

if TYPE_CHECKING:
    from aggregator.archive.store import Archive


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    id: int
    message_id: int
    attachment: Attachment


def _values(attachment: Attachment) -> dict[str, Any]:
    return {
        "name": attachment.name,
        "size": attachment.size,
        "mime_type": attachment.mime_type,
        "sha256": attachment.sha256,
        "remote_url": attachment.remote_url,
        "local_path": str(attachment.local_path) if attachment.local_path is not None else None,
        "state": attachment.state.value,
        "reason": attachment.reason,
    }


def _row(row: Any) -> StoredAttachment:
    return StoredAttachment(
        id=row.id,
        message_id=row.message_id,
        attachment=Attachment(
            name=row.name,
            size=row.size,
            mime_type=row.mime_type,
            state=AttachmentState(row.state),
            sha256=row.sha256,
            remote_url=row.remote_url,
            local_path=Path(row.local_path) if row.local_path else None,
            reason=row.reason or "",
        ),
    )


class AttachmentTable:
    def __init__(self, archive: Archive) -> None:
        self._archive = archive

    def add(self, message_id: int, attachment: Attachment) -> int:
        now = datetime.now(UTC)
        with self._archive._writing() as conn:
            result = conn.execute(
                _A.insert().values(message_id=message_id, created_at=now, updated_at=now, **_values(attachment))
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def update(self, attachment_id: int, attachment: Attachment) -> None:
        with self._archive._writing() as conn:
            conn.execute(
                update(_A).where(_A.c.id == attachment_id).values(updated_at=datetime.now(UTC), **_values(attachment))
            )

    def get(self, attachment_id: int) -> StoredAttachment | None:
        with self._archive._reading() as conn:
            row = conn.execute(select(_A).where(_A.c.id == attachment_id)).first()
        return _row(row) if row is not None else None

    def for_messages(self, message_ids: Sequence[int]) -> dict[int, list[StoredAttachment]]:
        """The attachments of each message that has any (one query per 500 ids)."""
        found: dict[int, list[StoredAttachment]] = {}
        ids = list(message_ids)
        with self._archive._reading() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(
                    select(_A).where(_A.c.message_id.in_(ids[start : start + 500])).order_by(_A.c.id)
                ).all()
                for row in rows:
                    found.setdefault(row.message_id, []).append(_row(row))
        return found

    def newest(
        self,
        *,
        limit: int = 100,
        message_ids: Sequence[int] | None = None,
        conversation_ids: Sequence[int] | None = None,
        name: str | None = None,
    ) -> list[StoredAttachment]:
        """The newest attachments, newest first; ``name``: a part of the file name, any case;
        ``conversation_ids``: only files of messages in these conversations."""
        query = select(_A).order_by(_A.c.id.desc()).limit(limit)
        if message_ids is not None:
            query = query.where(_A.c.message_id.in_(list(message_ids)))
        if conversation_ids is not None:
            in_conversations = select(MessageRow.id).where(MessageRow.conversation_id.in_(list(conversation_ids)))
            query = query.where(_A.c.message_id.in_(in_conversations))
        if name:
            query = query.where(func.lower(_A.c.name).contains(name.lower(), autoescape=True))
        with self._archive._reading() as conn:
            return [_row(r) for r in conn.execute(query).all()]

    def message_ids_with_files(self, *, name: str | None = None) -> set[int]:
        """The messages that carried a file (whose name contains ``name``): ``has:file``, ``file:NAME``."""
        query = select(_A.c.message_id).distinct()
        if name:
            query = query.where(func.lower(_A.c.name).contains(name.lower(), autoescape=True))
        with self._archive._reading() as conn:
            return {int(r[0]) for r in conn.execute(query).all()}

    def delete_for_messages(self, message_ids: Sequence[int]) -> list[str]:
        """Delete the attachments of these messages; returns the hashes no remaining row refers to, whose
        stored files the caller deletes."""
        ids = list(message_ids)
        if not ids:
            return []
        with self._archive._writing() as conn:
            hashes = {
                str(r[0])
                for r in conn.execute(select(_A.c.sha256).where(_A.c.message_id.in_(ids), _A.c.sha256.is_not(None)))
            }
            conn.execute(delete(_A).where(_A.c.message_id.in_(ids)))
            still = {
                str(r[0]) for r in conn.execute(select(_A.c.sha256).where(_A.c.sha256.in_(sorted(hashes))).distinct())
            }
        return sorted(hashes - still)
