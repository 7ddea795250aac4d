from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.api import ConversationKey, MessageState, Sphere
from aggregator.archive import Archive, Direction
from aggregator.archive.database import ArchiveError


def _archive(tmp_path: Path, opener: Callable[[], Archive] | None = None) -> Archive:
    a = Archive.open(path=tmp_path / "archive.sqlite3") if opener is None else opener()
    a.upsert_account("fake:alice@x", "fake", "alice@x", "", Sphere.WORK)
    return a


def _store(a: Archive, conv: int, body: str, at: datetime, server_id: str | None = None) -> int | None:
    row = a.insert_message(
        conversation_id=conv,
        account_id="fake:alice@x",
        direction=Direction.IN,
        sender="bob@x",
        body=body,
        sent_at=at,
        state=MessageState.RECEIVED,
        server_id=server_id,
    )
    return None if row is None else row.id


def test_archive_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    a = _archive(tmp_path)
    a.close()
    path = tmp_path / "archive.sqlite3"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_duplicate_server_id_is_stored_once(tmp_path: Path, open_archive: Callable[[], Archive]) -> None:
    a = _archive(tmp_path, open_archive)
    conv = a.conversation_id(ConversationKey.direct("fake:alice@x", "bob@x"))
    assert conv is not None
    now = datetime.now(UTC)
    assert _store(a, conv, "hi", now, "s-1") is not None
    assert _store(a, conv, "hi", now, "s-1") is None
    assert [m.body for m in a.history([conv])] == ["hi"]
    a.close()


def test_history_is_in_time_order_even_when_old_messages_arrive_late(
    tmp_path: Path, open_archive: Callable[[], Archive]
) -> None:
    a = _archive(tmp_path, open_archive)
    conv = a.conversation_id(ConversationKey.direct("fake:alice@x", "bob@x"))
    assert conv is not None
    now = datetime.now(UTC)
    _store(a, conv, "today", now, "s-3")
    _store(a, conv, "last week", now - timedelta(days=7), "s-1")  # backfilled after
    _store(a, conv, "yesterday", now - timedelta(days=1), "s-2")
    assert [m.body for m in a.history([conv])] == ["last week", "yesterday", "today"]
    assert [m.body for m in a.history([conv], limit=2)] == ["yesterday", "today"]
    a.close()


def test_naive_timestamps_are_refused(tmp_path: Path) -> None:
    a = _archive(tmp_path)
    conv = a.conversation_id(ConversationKey.direct("fake:alice@x", "bob@x"))
    assert conv is not None
    with pytest.raises(Exception, match="naive"):
        _store(a, conv, "x", datetime.now(), "s-1")
    a.close()


def test_times_round_trip_in_utc(tmp_path: Path, open_archive: Callable[[], Archive]) -> None:
    a = _archive(tmp_path, open_archive)
    conv = a.conversation_id(ConversationKey.direct("fake:alice@x", "bob@x"))
    assert conv is not None
    at = datetime(2021, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    _store(a, conv, "x", at, "s-1")
    (m,) = a.history([conv])
    assert m.sent_at == at and m.sent_at.tzinfo is not None
    a.close()


def test_an_archive_from_a_newer_client_is_refused_with_a_reason(tmp_path: Path) -> None:
    _archive(tmp_path).close()
    with sqlite3.connect(tmp_path / "archive.sqlite3") as raw:
        raw.execute("UPDATE aggregator_meta SET value='999' WHERE key='schema_version'")
    with pytest.raises(ArchiveError, match="newer version"):
        Archive.open(path=tmp_path / "archive.sqlite3")


def test_a_file_that_is_not_a_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArchiveError, match="cannot be opened"):
        Archive.open(path=path)


def test_message_ids_are_the_sqlite_rowid_so_rowid_order_is_time_order(tmp_path: Path) -> None:
    """Full-text search walks rowids backwards for 'newest first'; backfill must not break that."""
    a = _archive(tmp_path)
    conv = a.conversation_id(ConversationKey.direct("fake:alice@x", "bob@x"))
    assert conv is not None
    now = datetime.now(UTC)
    _store(a, conv, "new", now, "s-2")
    _store(a, conv, "old", now - timedelta(days=30), "s-1")
    a.close()
    with sqlite3.connect(tmp_path / "archive.sqlite3") as raw:
        rows = raw.execute("SELECT rowid, id, body FROM messages ORDER BY rowid").fetchall()
    assert [r[2] for r in rows] == ["old", "new"]
    assert all(r[0] == r[1] for r in rows)
