"""Schema v9: ``contact_requests`` and ``blocked_peers`` (issue 15).

* ``contact_requests`` (id, account_id, kind, handle, inviter, display_name, message, received_at): a
  request or invitation not answered yet, so that one arriving while the window is closed shows at the
  next start. ``kind`` is the ``RequestKind`` value; ``handle`` is the person asking (a contact request,
  an invitation to a direct chat) or the room (an invitation to a room, ``inviter`` the person). One row
  per (account, kind, handle): a repeated request refreshes it.
* ``blocked_peers`` (account_id, handle, blocked_at): the peers the user blocked, whose messages and
  requests the core drops even when the server or the adapter lets one through.

The tables are described here as they are in version 9. A fresh archive gets them from ``create_extras``,
an older one from ``upgrade``: the same ``Table``s. No foreign key to ``accounts``: removing an account
must not fail on them.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Text, UniqueConstraint

from aggregator.archive.migrations.base import Migration
from aggregator.archive.types import UtcTimestamp

_meta = MetaData()
CONTACT_REQUESTS = Table(
    "contact_requests",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("handle", String(512), nullable=False),
    Column("inviter", String(512), nullable=True),
    Column("display_name", String(512), nullable=True),
    Column("message", Text, nullable=False),
    Column("received_at", UtcTimestamp(), nullable=False),
    UniqueConstraint("account_id", "kind", "handle", name="uq_contact_requests_peer"),
)
BLOCKED_PEERS = Table(
    "blocked_peers",
    _meta,
    Column("account_id", String(255), primary_key=True),
    Column("handle", String(512), primary_key=True),
    Column("blocked_at", UtcTimestamp(), nullable=False),
)


def create(conn: Connection) -> None:
    _meta.create_all(conn, tables=[CONTACT_REQUESTS, BLOCKED_PEERS], checkfirst=True)


MIGRATION = Migration(
    version=9,
    description="pending contact requests and invitations; blocked peers",
    upgrade=create,
    create_extras=create,
)
