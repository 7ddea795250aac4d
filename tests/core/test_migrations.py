"""Every stored archive of an earlier schema version opens, is backed up, and upgrades to the
schema a fresh archive has, with its messages intact."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from aggregator.archive import Archive
from aggregator.archive.migrations import LATEST_VERSION, MIGRATIONS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "archives"
STORED = sorted(FIXTURES.glob("v*.sqlite3"), key=lambda p: int(p.stem[1:]))


def _schema(engine: Engine) -> dict[str, object]:
    insp = inspect(engine)
    shape: dict[str, object] = {}
    for table in sorted(insp.get_table_names()):
        shape[table] = (
            sorted((c["name"], str(c["type"]), bool(c["nullable"])) for c in insp.get_columns(table)),
            sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)),
        )
    return shape


def _sqlite_objects(engine: Engine) -> list[tuple[str, str, str, str | None]]:
    """Every object in ``sqlite_master``, which also lists what inspect() does not describe: the FTS5
    table (and its shadow tables) and the triggers. The SQL text is compared for triggers and virtual
    tables only: a table grown by ALTER TABLE has different text from a fresh CREATE TABLE."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return sorted(
        (t, n, tbl, sql if t == "trigger" or (sql or "").upper().startswith("CREATE VIRTUAL") else None)
        for t, n, tbl, sql in rows
    )


def test_there_is_a_stored_archive_of_every_released_version() -> None:
    versions = [int(p.stem[1:]) for p in STORED]
    assert versions == list(range(1, LATEST_VERSION + 1)), (
        "store an archive of the current version before changing the schema: "
        "python -m tests.fixtures.archives.make_fixture"
    )


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(2, LATEST_VERSION + 1))


@pytest.mark.parametrize("stored", STORED, ids=[p.stem for p in STORED])
def test_a_stored_archive_upgrades_to_the_fresh_schema(stored: Path, tmp_path: Path) -> None:
    old = tmp_path / "archive.sqlite3"
    shutil.copyfile(stored, old)
    with sqlite3.connect(old) as raw:
        before = raw.execute("SELECT id, body FROM messages ORDER BY id").fetchall()
    upgraded = Archive.open(path=old)
    fresh = Archive.open(path=tmp_path / "fresh.sqlite3")
    try:
        assert _schema(upgraded._engine) == _schema(fresh._engine)
        assert _sqlite_objects(upgraded._engine) == _sqlite_objects(fresh._engine)
        with upgraded._engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT value FROM aggregator_meta WHERE key='schema_version'").scalar()
            after = conn.exec_driver_sql("SELECT id, body FROM messages ORDER BY id").fetchall()
        assert int(version or 0) == LATEST_VERSION
        assert [tuple(r) for r in after] == before
        assert upgraded.pending_outbound("xmpp:alice@example.org")  # the queued message survived
        with upgraded._engine.connect() as conn:
            # The full-text index covers the messages stored before the upgrade, and agrees with them.
            conn.exec_driver_sql("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
            found = conn.exec_driver_sql("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'hello'").fetchall()
        assert sorted(r[0] for r in found) == [i for i, body in before if "hello" in body]
    finally:
        upgraded.close()
        fresh.close()
    backups = list(tmp_path.glob("archive.sqlite3.schema-v*.bak"))
    if int(stored.stem[1:]) < LATEST_VERSION:
        assert len(backups) == 1
        with sqlite3.connect(backups[0]) as raw:
            assert raw.execute("SELECT count(*) FROM messages").fetchone()[0] == len(before)
    else:
        assert backups == []
