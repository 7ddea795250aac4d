"""Schema 2: full-text search over ``messages.body`` (SQLite FTS5, external content).

``messages_fts`` indexes the body of every message under the message's id (its rowid), so a search
walks the index backwards in id order, which is time order (see ``ids.py``), and stops after the
page it needs. Live writes keep it in step through per-row triggers (~0.08 ms per commit, measured);
bulk imports bypass them (``Archive.import_messages``) and index the batch in the same transaction.

SQLite only. On any other dialect this migration does nothing: PostgreSQL gets its ``tsvector``
column and GIN index in schema 6 (``v006_pg_fulltext``).
"""

from __future__ import annotations

from sqlalchemy import Connection

from aggregator.archive.migrations.base import Migration

FTS_TABLE = "messages_fts"

CREATE_TABLE = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')"
)

# Literal SQL: a migration is frozen in time, whatever later code calls things.
TRIGGERS: dict[str, str] = {
    "messages_fts_insert": (
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        "INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END"
    ),
    "messages_fts_delete": (
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); END"
    ),
    "messages_fts_update": (
        "CREATE TRIGGER messages_fts_update AFTER UPDATE OF id, body ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); "
        "INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END"
    ),
}


def applies_to(conn: Connection) -> bool:
    """Whether this dialect gets the FTS5 index (SQLite only, for now)."""
    return conn.dialect.name == "sqlite"


def create_extras(conn: Connection) -> None:
    """A fresh archive: the (empty) index and its triggers."""
    if not applies_to(conn):
        return
    conn.exec_driver_sql(CREATE_TABLE)
    for sql in TRIGGERS.values():
        conn.exec_driver_sql(sql)


def upgrade(conn: Connection) -> None:
    """An archive of schema 1: create the index, then build it from every stored message."""
    if not applies_to(conn):
        return
    create_extras(conn)
    conn.exec_driver_sql("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")


MIGRATION = Migration(
    version=2,
    description="full-text index of message bodies (SQLite FTS5)",
    upgrade=upgrade,
    create_extras=create_extras,
)
