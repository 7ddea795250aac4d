"""Schema v4: the user's local groups of persons, and the merges the user confirmed.

* ``persons`` gains ``groups`` (JSON list of the user's own group names; NULL: none);
* ``merge_links`` (contact_a, contact_b, created_at): contact pairs the user merged into one person.
  Merge suggestions for a similar contact name the link. The upgrade records every pair of contacts
  already in one person (only the user merges persons, so each was confirmed), dated at the upgrade.

The tables are described here as they are in version 4 (not imported from the models, which move on).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Connection, ForeignKey, Integer, MetaData, Table, inspect, text

from aggregator.archive.migrations.base import Migration
from aggregator.archive.types import UtcTimestamp, to_micros

_meta = MetaData()
_contacts_stub = Table("contacts", _meta, Column("id", Integer, primary_key=True))
_links = Table(
    "merge_links",
    _meta,
    Column("contact_a", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_b", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UtcTimestamp(), nullable=False),
)


def upgrade(conn: Connection) -> None:
    # Each step checks first: an archive built from later models but stamped v3 must upgrade too.
    _meta.create_all(conn, tables=[_links], checkfirst=True)
    if "groups" not in {c["name"] for c in inspect(conn).get_columns("persons")}:
        conn.execute(text("ALTER TABLE persons ADD COLUMN groups TEXT"))
    conn.execute(
        text(
            "INSERT INTO merge_links (contact_a, contact_b, created_at) "
            "SELECT a.id, b.id, :now FROM contacts a JOIN contacts b "
            "ON a.person_id = b.person_id AND a.id < b.id WHERE a.person_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM merge_links l WHERE l.contact_a = a.id AND l.contact_b = b.id)"
        ),
        {"now": to_micros(datetime.now(UTC))},
    )


MIGRATION = Migration(
    version=4,
    description="local groups of persons, confirmed merge links",
    upgrade=upgrade,
)
