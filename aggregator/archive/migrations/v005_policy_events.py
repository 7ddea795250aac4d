"""Schema v5: ``policy_events``, every decision of the organisation's policy that stopped, held or warned
about something (what, which rule, when), for ``aggregator policy log`` and the administrator.

* ``policy_events`` (id, at, action, verdict, rule, reason, account_id, conversation, content, ref):
  ``content`` keeps what was held (an inbound message from outside the allowed domains), ``ref`` its
  server id, so that a message replayed from the server's history is recorded once.

The table is described here as it is in version 5 (not imported from elsewhere, which moves on). A fresh
archive gets it from ``create_extras``, an older one from ``upgrade``: the same ``Table``.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Index, Integer, MetaData, String, Table, Text

from aggregator.archive.migrations.base import Migration
from aggregator.archive.types import UtcTimestamp

_meta = MetaData()
POLICY_EVENTS = Table(
    "policy_events",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcTimestamp(), nullable=False),
    Column("action", String(64), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("rule", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("account_id", String(255), nullable=True),
    Column("conversation", String(512), nullable=True),
    Column("content", Text, nullable=True),
    Column("ref", String(512), nullable=True),
    Index("ix_policy_events_at", "at"),
    Index("ix_policy_events_ref", "account_id", "ref"),
)


def create(conn: Connection) -> None:
    _meta.create_all(conn, tables=[POLICY_EVENTS], checkfirst=True)


MIGRATION = Migration(
    version=5,
    description="policy events: denials and warnings of the organisation's policy",
    upgrade=create,
    create_extras=create,
)
