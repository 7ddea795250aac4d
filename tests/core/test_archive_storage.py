"""The archive on a disk that fills up, and an archive an older client left with its full-text trigger
dropped: the archive stays usable, says what is wrong in one line, and repairs itself at open."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg.errors
import pytest
from sqlalchemy.exc import OperationalError

from aggregator.api import ConversationKey, MessageKind, MessageState, Sphere
from aggregator.archive import Archive, Direction, NewMessage
from aggregator.archive.storage import ArchiveStorageError, StorageState, storage_problem
from aggregator.archive.types import to_micros
from aggregator.search import SearchService
from tests.small_disk import SmallDisk, small_disk

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "xmpp:alice@example.org"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    with small_disk(tmp_path / "disk", "8m") as mounted:
        yield mounted


def _conversation(archive: Archive) -> int:
    archive.upsert_account(ACCOUNT, "xmpp", "alice@example.org", "Work", Sphere.WORK)
    conv = archive.conversation_id(ConversationKey.direct(ACCOUNT, "bob@example.org"))
    assert conv is not None
    return conv


def _insert(archive: Archive, conv: int, body: str, n: int) -> int:
    stored = archive.insert_message(
        conversation_id=conv,
        account_id=ACCOUNT,
        direction=Direction.IN,
        sender="bob@example.org",
        body=body,
        sent_at=T0 + timedelta(seconds=n),
        state=MessageState.RECEIVED,
        server_id=f"s{n}",
    )
    assert stored is not None
    return stored.id


def _bodies(archive: Archive, query: str) -> list[str]:
    return [h.message.body for h in SearchService(archive).search(query, now=T0 + timedelta(days=1), tz=UTC)]


def test_after_a_full_disk_the_same_archive_stores_again(disk: SmallDisk) -> None:
    archive = Archive.open(path=disk.root / "archive.sqlite3")
    states: list[StorageState] = []
    archive.storage.add_listener(states.append)
    try:
        conv = _conversation(archive)
        _insert(archive, conv, "zeppelin before", 0)
        disk.fill()
        with pytest.raises(ArchiveStorageError, match=r"^the disk holding the archive \(.*\) is full$"):
            for n in range(1, 500):
                _insert(archive, conv, f"zeppelin while full {n} " + "x" * 6000, n)
        assert states == [StorageState(writable=False, reason=states[0].reason)]
        assert archive.count_messages() >= 1  # reads still work

        disk.free()
        ids = [_insert(archive, conv, f"zeppelin after {n}", 1000 + n) for n in range(3)]
        assert states[-1] == StorageState(writable=True)
        assert [archive.get(i) is not None for i in ids] == [True, True, True]
        assert sorted(b for b in _bodies(archive, "zeppelin after")) == [f"zeppelin after {n}" for n in range(3)]
    finally:
        archive.close()


def test_an_import_on_a_full_disk_keeps_the_fulltext_trigger(disk: SmallDisk) -> None:
    path = disk.root / "archive.sqlite3"
    archive = Archive.open(path=path)
    try:
        conv = _conversation(archive)
        rows = [
            NewMessage(
                conversation_id=conv,
                account_id=ACCOUNT,
                direction=Direction.IN,
                sender="bob@example.org",
                body=f"imported zeppelin {n} " + "y" * 500,
                sent_at=T0 - timedelta(days=1, seconds=-n),
                state=MessageState.RECEIVED,
                server_id=f"i{n}",
                is_backfill=True,
            )
            for n in range(4_000)
        ]
        disk.fill(leave=256 * 1024)
        with pytest.raises(ArchiveStorageError, match="is full"):
            archive.import_messages(rows)
        disk.free()
        assert _triggers(path) == {"messages_fts_insert", "messages_fts_delete", "messages_fts_update"}
        # The next import works, and live messages after it are indexed.
        result = archive.import_messages(rows)
        assert result.inserted + result.duplicates == len(rows)
        _insert(archive, conv, "zeppelin live", 1)
        assert _bodies(archive, "zeppelin live") == ["zeppelin live"]
        assert len(_bodies(archive, '"imported zeppelin 3999"')) == 1
    finally:
        archive.close()


def _triggers(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    finally:
        db.close()


def _damage(path: Path, trigger: str) -> None:
    """What an older client left behind: the trigger gone, then a message stored without it."""
    db = sqlite3.connect(path)
    try:
        db.execute(f"DROP TRIGGER {trigger}")
        conv = db.execute("SELECT id FROM conversations").fetchone()[0]
        db.execute(
            "INSERT INTO messages (id, conversation_id, account_id, direction, kind, sender, body, sent_at, "
            "received_at, state, error, is_backfill) VALUES (?, ?, ?, ?, ?, 'bob@example.org', ?, ?, ?, ?, '', 0)",
            (
                1 << 60,
                conv,
                ACCOUNT,
                int(Direction.IN),
                int(MessageKind.CHAT),
                "unindexed zeppelin",
                to_micros(T0),
                to_micros(T0),
                int(MessageState.RECEIVED),
            ),
        )
        if trigger == "messages_fts_delete":
            db.execute("DELETE FROM messages WHERE body = 'zeppelin gone'")
        db.commit()
    finally:
        db.close()


@pytest.mark.parametrize("trigger", ["messages_fts_insert", "messages_fts_delete"])
def test_open_repairs_a_missing_trigger_and_indexes_what_it_missed(tmp_path: Path, trigger: str) -> None:
    path = tmp_path / "archive.sqlite3"
    archive = Archive.open(path=path)
    conv = _conversation(archive)
    _insert(archive, conv, "indexed zeppelin", 0)
    _insert(archive, conv, "zeppelin gone", 1)
    archive.close()
    _damage(path, trigger)

    archive = Archive.open(path=path)
    try:
        assert _triggers(path) == {"messages_fts_insert", "messages_fts_delete", "messages_fts_update"}
        if trigger == "messages_fts_insert":
            expected = ["unindexed zeppelin", "zeppelin gone", "indexed zeppelin"]
        else:  # the deleted message is gone from the index too
            expected = ["unindexed zeppelin", "indexed zeppelin"]
        assert _bodies(archive, "zeppelin") == expected
        _insert(archive, conv, "live zeppelin", 2)
        assert _bodies(archive, "live") == ["live zeppelin"]
    finally:
        archive.close()


def test_opening_an_archive_on_a_full_disk_says_so_in_one_line(disk: SmallDisk) -> None:
    path = disk.root / "archive.sqlite3"
    archive = Archive.open(path=path)
    _insert(archive, _conversation(archive), "zeppelin", 0)
    archive.close()  # the WAL and its index are gone: opening again needs room for them
    disk.fill()
    with pytest.raises(ArchiveStorageError) as raised:
        Archive.open(path=path)
    assert str(raised.value) in (
        f"the disk holding the archive ({path}) is full",
        f"the archive ({path}) cannot be used: disk I/O error (is its disk full or failing?)",
    )
    disk.free()
    archive = Archive.open(path=path)
    try:
        assert _bodies(archive, "zeppelin") == ["zeppelin"]
    finally:
        archive.close()


def test_a_full_postgresql_disk_is_a_storage_problem_too() -> None:
    full = psycopg.errors.DiskFull('could not extend file "base/16384/2619": No space left on device')
    wrapped = OperationalError("INSERT ...", {}, full)
    assert storage_problem(wrapped, "postgresql://db") == (
        "the archive's database (postgresql://db) could not be written: "
        'could not extend file "base/16384/2619": No space left on device'
    )
    assert storage_problem(OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x")), "a") is None
