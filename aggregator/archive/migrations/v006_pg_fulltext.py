"""Schema v6: full-text search on PostgreSQL, a generated ``tsvector`` column and its GIN index.

``messages.body_tsv`` is ``to_tsvector('simple', body)``, generated and stored, so every insert (live or
bulk import) indexes itself; the GIN index ``ix_messages_body_tsv`` answers ``body_tsv @@ tsquery`` and
the search walks the primary key newest first (measured on PostgreSQL 15: ORDER BY id DESC LIMIT stays
fast). The 'simple' configuration lower-cases but neither stems nor strips accents (FTS5 here does
strip them: ``remove_diacritics 2``), so on PostgreSQL "cafe" does not find "café".

A no-op on SQLite, which has its FTS5 index since schema 2.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect

from aggregator.archive.migrations.base import Migration

TSV_COLUMN = "body_tsv"
TSV_INDEX = "ix_messages_body_tsv"


def applies_to(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def create_extras(conn: Connection) -> None:
    if not applies_to(conn):
        return
    if TSV_COLUMN not in {c["name"] for c in inspect(conn).get_columns("messages")}:
        conn.exec_driver_sql(
            "ALTER TABLE messages ADD COLUMN body_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED"
        )
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_messages_body_tsv ON messages USING gin (body_tsv)")


MIGRATION = Migration(
    version=6,
    description="full-text index of message bodies on PostgreSQL (tsvector + GIN)",
    upgrade=create_extras,
    create_extras=create_extras,
)
