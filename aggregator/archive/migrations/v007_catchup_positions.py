"""Schema v7: ``catchup_positions``, where each account's catch-up resumes (issue 13).

* ``catchup_positions`` (account_id, stream, value, updated_at), one row per (account, stream): an
  adapter's opaque resume position for one of its streams (an XMPP message archive, the Matrix sync
  token, an IRC target's last-seen marker). A position is written in the same transaction as the
  message it came with, or, when it came alone, after every earlier event of that account was handled;
  so a stored position never claims a message that is not in the archive.

The table is described here as it is in version 7 (not imported from elsewhere, which moves on). A fresh
archive gets it from ``create_extras``, an older one from ``upgrade``: the same ``Table``. There is no
foreign key to ``accounts``: a position without its account is harmless, and removing an account must
not fail on it.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, MetaData, String, Table, Text

from aggregator.archive.migrations.base import Migration
from aggregator.archive.types import UtcTimestamp

_meta = MetaData()
CATCHUP_POSITIONS = Table(
    "catchup_positions",
    _meta,
    Column("account_id", String(255), primary_key=True),
    Column("stream", String(512), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcTimestamp(), nullable=False),
)


def create(conn: Connection) -> None:
    _meta.create_all(conn, tables=[CATCHUP_POSITIONS], checkfirst=True)


MIGRATION = Migration(
    version=7,
    description="catch-up positions, stored with the messages they cover",
    upgrade=create,
    create_extras=create,
)
