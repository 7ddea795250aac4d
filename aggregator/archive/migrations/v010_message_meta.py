"""Schema v10: what conversations now carry besides text (issue 17).

* ``message_meta`` (message_id, reply_to, styles, retracted_at, retracted_by): one row for a message
  that has any of these. ``reply_to`` is the server id of the message it replies to (XEP-0461,
  ``m.in_reply_to``, ``+draft/reply``); ``styles`` its formatting as JSON (``aggregator.api.StyleSpan``
  list over the plain body, which stays the searchable text); ``retracted_at``/``retracted_by`` mark a
  message its sender retracted (XEP-0424, a Matrix redaction): hidden in the conversation, kept flagged
  while the policy requires logging, purged otherwise.
* ``reactions`` (id, message_id, account_id, sender, emoji, server_id, at): who reacted with what
  (XEP-0444, ``m.reaction``, ``+draft/react``); one row per (message, sender, emoji). ``server_id`` is the
  reaction's own id where the protocol has one (a Matrix event id, which a redaction names).

Edits are rows with ``edit_of`` (schema v1): every version is kept. No foreign keys: retention deletes
these rows with their messages.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

from aggregator.archive.migrations.base import Migration
from aggregator.archive.types import UtcTimestamp

_meta = MetaData()
MESSAGE_META = Table(
    "message_meta",
    _meta,
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("reply_to", String(512), nullable=True),
    Column("styles", Text, nullable=True),
    Column("retracted_at", UtcTimestamp(), nullable=True),
    Column("retracted_by", String(512), nullable=True),
)
REACTIONS = Table(
    "reactions",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", BigInteger, nullable=False),
    Column("account_id", String(255), nullable=False),
    Column("sender", String(512), nullable=False),
    Column("emoji", String(64), nullable=False),
    Column("server_id", String(512), nullable=True),
    Column("at", UtcTimestamp(), nullable=False),
    UniqueConstraint("message_id", "sender", "emoji", name="uq_reactions_message_sender_emoji"),
    Index("ix_reactions_server_id", "server_id"),
)


def create(conn: Connection) -> None:
    _meta.create_all(conn, tables=[MESSAGE_META, REACTIONS], checkfirst=True)


MIGRATION = Migration(
    version=10,
    description="replies, formatting, retractions and reactions",
    upgrade=create,
    create_extras=create,
)
