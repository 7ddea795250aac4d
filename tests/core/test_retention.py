"""Retention: old messages deleted per scope, the full-text index in step, the space reclaimed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.api import ConversationKey, MessageState, Sphere
from aggregator.archive import Archive, Direction, NewMessage, retention
from aggregator.search import SearchService

NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def archive(open_archive: Callable[[], Archive]) -> Iterator[Archive]:
    made = open_archive()
    made.upsert_account("x:work", "x", "w@x", "Work", Sphere.WORK)
    made.upsert_account("x:home", "x", "h@x", "Home", Sphere.PERSONAL)
    messages = []
    for account in ("x:work", "x:home"):
        for peer in ("bob", "carol"):
            conv = made.conversation_id(ConversationKey.direct(account, peer))
            assert conv is not None
            for day in range(0, 400, 4):
                messages.append(
                    NewMessage(
                        conversation_id=conv,
                        account_id=account,
                        direction=Direction.IN,
                        sender=peer,
                        body=f"day {day} zebra {'old' if day >= 100 else 'recent'} " + "padding " * 40,
                        sent_at=NOW - timedelta(days=day, hours=1),
                        state=MessageState.RECEIVED,
                        server_id=f"{peer}-{day}",
                    )
                )
    made.import_messages(messages)
    yield made
    made.close()


def test_dry_run_counts_and_deletes_nothing(archive: Archive) -> None:
    found = retention.plan(archive, retention.RetentionScope(days=100, now=NOW))
    assert found.messages == 4 * 75 and found.conversations == 4
    assert found.oldest is not None and found.newest is not None
    assert found.oldest.date().isoformat() == "2023-05-01" and found.newest == NOW - timedelta(days=100, hours=1)
    assert archive.count_messages() == 400


def test_delete_per_sphere_keeps_the_index_consistent(archive: Archive) -> None:
    done = retention.apply(archive, retention.RetentionScope(days=100, sphere=Sphere.WORK, now=NOW))
    assert done.deleted == 150 and done.conversations == 2
    rows = archive.read_rows("SELECT account_id, count(*) FROM messages GROUP BY 1 ORDER BY 1")
    assert rows == [("x:home", 200), ("x:work", 50)]
    search = SearchService(archive)
    assert {h.message.account_id for h in search.search("old", limit=1000)} == {"x:home"}
    assert len(search.search("zebra", limit=1000)) == 250
    if archive.dialect == "postgresql":
        # the tsvector is a generated column of the row itself: it goes with the row
        ((indexed,),) = archive.read_rows(
            "SELECT count(*) FROM messages WHERE body_tsv @@ to_tsquery('simple', 'zebra')"
        )
        assert indexed == 250
        return
    # the index holds exactly the remaining rows: FTS5's own consistency check
    archive._connection.exec_driver_sql("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
    archive._connection.commit()
    ((indexed,),) = archive.read_rows("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zebra'")
    assert indexed == 250


def test_delete_per_account_and_nothing_outside_it(archive: Archive) -> None:
    done = retention.apply(archive, retention.RetentionScope(days=0, account_ids=("x:home",), now=NOW))
    assert done.deleted == 200
    assert archive.read_rows("SELECT DISTINCT account_id FROM messages") == [("x:work",)]
    # conversations are kept, only their messages go
    ((convs,),) = archive.read_rows("SELECT count(*) FROM conversations")
    assert convs == 4


def test_space_is_reclaimed_first_by_vacuum_then_incrementally(archive: Archive, tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    first = retention.apply(archive, retention.RetentionScope(days=200, now=NOW))
    if archive.dialect == "postgresql":
        # no compaction on PostgreSQL: autovacuum (or the administrator) reclaims the space
        assert first.deleted == 4 * 50 and first.compaction == "" and first.reclaimed_bytes == 0
        assert len(SearchService(archive).search("zebra", limit=1000)) == 4 * 50
        return
    assert first.deleted == 4 * 50 and first.compaction == "vacuum" and first.reclaimed_bytes > 0
    assert archive.read_rows("PRAGMA auto_vacuum") == [(2,)]
    archive.read_rows("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    second = retention.apply(archive, retention.RetentionScope(days=50, now=NOW))
    assert second.deleted == 4 * 37 and second.compaction == "incremental_vacuum" and second.reclaimed_bytes > 0
    archive.read_rows("PRAGMA wal_checkpoint(TRUNCATE)")
    assert path.stat().st_size < size
    assert len(SearchService(archive).search("zebra", limit=1000)) == 4 * 13


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="days"):
        retention.RetentionScope(days=-1)
