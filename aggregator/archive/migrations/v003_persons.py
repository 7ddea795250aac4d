"""Schema v3: persons (metacontacts), contact aliases and roster groups, merge rejections, read markers.

* ``persons`` (id, alias, sphere, created_at): one human;
* ``contacts`` gains ``alias``, ``groups`` (JSON list), ``person_id``, ``position`` and ``in_roster``;
* ``merge_rejections`` (contact_a, contact_b): suggestions the user turned down;
* ``conversations.last_read_id``: inbound messages above it are unread. Upgraded archives start with
  everything read (the user saw their history before; a badge of thousands helps nobody).

Contacts without a person (and direct conversations without a contact) are given one by the roster
service when it loads, so the upgrade itself only changes the schema and the read markers.
The tables are described here as they are in version 3 (not imported from the models, which move on).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    inspect,
    text,
)

from aggregator.archive.migrations.base import Migration
from aggregator.archive.types import UtcTimestamp

_meta = MetaData()
_contacts_stub = Table("contacts", _meta, Column("id", Integer, primary_key=True))
_persons = Table(
    "persons",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("alias", String(512), nullable=True),
    Column("sphere", String(16), nullable=False),
    Column("created_at", UtcTimestamp(), nullable=False),
)
_rejections = Table(
    "merge_rejections",
    _meta,
    Column("contact_a", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_b", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UtcTimestamp(), nullable=False),
)

_CONTACT_COLUMNS = (
    "alias VARCHAR(512)",
    "groups TEXT",
    "person_id INTEGER REFERENCES persons (id)",
    "position INTEGER",
    "in_roster BOOLEAN",
)


def upgrade(conn: Connection) -> None:
    # Each step checks first: an archive built from later models but stamped v2 must upgrade too.
    insp = inspect(conn)
    _meta.create_all(conn, tables=[_persons, _rejections], checkfirst=True)
    have = {c["name"] for c in insp.get_columns("contacts")}
    for column in _CONTACT_COLUMNS:
        if column.split()[0] not in have:
            conn.execute(text(f"ALTER TABLE contacts ADD COLUMN {column}"))
    if "ix_contacts_person" not in {i["name"] for i in insp.get_indexes("contacts")}:
        conn.execute(text("CREATE INDEX ix_contacts_person ON contacts (person_id, position)"))
    if "last_read_id" not in {c["name"] for c in insp.get_columns("conversations")}:
        big = BigInteger().compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE conversations ADD COLUMN last_read_id {big}"))
    conn.execute(
        text(
            "UPDATE conversations SET last_read_id = "
            "(SELECT max(m.id) FROM messages m WHERE m.conversation_id = conversations.id)"
        )
    )


MIGRATION = Migration(
    version=3,
    description="persons, contact aliases and groups, merge rejections, read markers",
    upgrade=upgrade,
)
