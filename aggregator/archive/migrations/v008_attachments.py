"""Schema v8: ``attachments``, the files linked to messages (issue 16).

* ``attachments`` (id, message_id, name, size, mime_type, sha256, remote_url, local_path, state, reason,
  created_at, updated_at): one row per file a message carried. ``state`` is an
  ``aggregator.files.model.AttachmentState`` value (stored code). ``name`` is the safe local name (the
  peer's name made safe), searchable with ``file:NAME``. Several rows may share one ``sha256`` (the same
  file received twice is stored once on disk); retention deletes a stored file when its last row goes.

No foreign key to ``messages``: message ids are allocated by the archive and deleted in batches by
retention, which deletes the attachments of the messages it deletes in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, Index, Integer, MetaData, String, Table, Text

from aggregator.archive.migrations.base import Migration
from aggregator.archive.types import UtcTimestamp

_meta = MetaData()
ATTACHMENTS = Table(
    "attachments",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("size", BigInteger, nullable=True),
    Column("mime_type", String(255), nullable=False),
    Column("sha256", String(64), nullable=True),
    Column("remote_url", Text, nullable=True),
    Column("local_path", Text, nullable=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("updated_at", UtcTimestamp(), nullable=False),
    Index("ix_attachments_message_id", "message_id"),
    Index("ix_attachments_sha256", "sha256"),
)


def create(conn: Connection) -> None:
    _meta.create_all(conn, tables=[ATTACHMENTS], checkfirst=True)


MIGRATION = Migration(
    version=8,
    description="attachments: the files linked to messages",
    upgrade=create,
    create_extras=create,
)
