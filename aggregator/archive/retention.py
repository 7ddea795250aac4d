"""Retention: delete the messages older than N days, everywhere, per sphere or per account.

Message ids are time-ordered (``ms << 12 | seq``), so "older than the cutoff" is ``id < id_floor(cutoff)``,
a range of the primary key. Deletes go in batches of ``BATCH`` ids, each its own transaction, so a big
purge never holds the write lock for long (a running client keeps logging between batches) and an
interrupted run keeps what it did. The full-text index stays in step through its delete trigger
(schema v2: ``messages_fts_delete`` removes each row's terms); PostgreSQL's tsvector lives in the row.

Space: SQLite keeps freed pages inside the file for reuse. After a purge that freed at least
``VACUUM_THRESHOLD`` of the file, the file is compacted: the first time with ``VACUUM`` (which also
switches the file to ``auto_vacuum=INCREMENTAL``; a full rewrite, seconds per GB, needing as much free
disk as the archive), afterwards with the cheap ``PRAGMA incremental_vacuum``, which moves the pages at the end of the
file into the free ones and truncates it (no rewrite of the whole file). PostgreSQL: its autovacuum
reclaims space; nothing is done here.

Conversation rows are kept (the roster, read markers and names refer to them), only their messages go.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregator.api import Sphere
from aggregator.archive.attachments import AttachmentTable
from aggregator.archive.ids import datetime_ms, id_floor
from aggregator.archive.store import Archive
from aggregator.archive.types import from_micros

log = logging.getLogger(__name__)

BATCH = 5_000

#: Deletes the stored files with these SHA-256 hashes (``aggregator.files.store.FileStore.delete_contents``).
ReleaseFiles = Callable[[Sequence[str]], None]
#: Compact the file when the free pages are at least this share of it.
VACUUM_THRESHOLD = 0.1


@dataclass(frozen=True, slots=True)
class RetentionScope:
    """What a retention run covers: messages older than ``days`` days, optionally of one sphere or
    of some accounts (ids). ``now`` fixes the clock (tests, the scheduled policy)."""

    days: int
    sphere: Sphere | None = None
    account_ids: tuple[str, ...] | None = None
    now: datetime | None = None

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError("days must be 0 or more")

    @property
    def cutoff(self) -> datetime:
        return (self.now or datetime.now(UTC)) - timedelta(days=self.days)


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    messages: int
    conversations: int
    oldest: datetime | None
    newest: datetime | None
    cutoff: datetime


@dataclass(frozen=True, slots=True)
class RetentionResult:
    deleted: int
    conversations: int
    oldest: datetime | None
    newest: datetime | None
    cutoff: datetime
    #: Bytes the archive file shrank by (SQLite; 0 on PostgreSQL or when nothing was compacted).
    reclaimed_bytes: int
    #: "vacuum", "incremental_vacuum" or "" (nothing compacted).
    compaction: str


def _where(archive: Archive, scope: RetentionScope) -> tuple[str, list[object]]:
    conds = ["id < ?"]
    params: list[object] = [id_floor(max(datetime_ms(scope.cutoff), 0))]
    accounts: set[str] | None = None if scope.account_ids is None else set(scope.account_ids)
    if scope.sphere is not None:
        in_sphere = {
            str(r[0]) for r in archive.read_rows("SELECT id FROM accounts WHERE sphere = ?", (scope.sphere.value,))
        }
        accounts = in_sphere if accounts is None else accounts & in_sphere
    if accounts is not None:
        if not accounts:
            conds.append("0 = 1")
        else:
            ordered = sorted(accounts)
            conds.append(f"account_id IN ({', '.join('?' * len(ordered))})")
            params.extend(ordered)
    return " AND ".join(conds), params


def plan(archive: Archive, scope: RetentionScope) -> RetentionPlan:
    """What ``apply`` would delete (the dry run): how many messages, in how many conversations, from when to when."""
    where, params = _where(archive, scope)
    ((n, convs, lo, hi),) = archive.read_rows(
        f"SELECT count(*), count(DISTINCT conversation_id), min(sent_at), max(sent_at) FROM messages WHERE {where}",  # noqa: S608
        params,
    )
    return RetentionPlan(
        messages=int(n),
        conversations=int(convs),
        oldest=None if lo is None else from_micros(int(lo)),
        newest=None if hi is None else from_micros(int(hi)),
        cutoff=scope.cutoff,
    )


def apply(
    archive: Archive, scope: RetentionScope, *, compact: bool = True, release_files: ReleaseFiles | None = None
) -> RetentionResult:
    """Delete what ``plan`` counts, in batches; then reclaim the space (see the module docstring).
    ``release_files`` gets the hashes of stored files no remaining message refers to (to delete them)."""
    found = plan(archive, scope)
    deleted = 0
    while True:
        step = delete_batch(archive, scope, release_files=release_files)
        if not step:
            break
        deleted += step
    reclaimed, how = (0, "")
    if compact and deleted:
        reclaimed, how = compact_space(archive)
    log.info(
        "Retention: deleted %d messages older than %s (%s)", deleted, found.cutoff.isoformat(), how or "no compaction"
    )
    return RetentionResult(
        deleted=deleted,
        conversations=found.conversations,
        oldest=found.oldest,
        newest=found.newest,
        cutoff=found.cutoff,
        reclaimed_bytes=reclaimed,
        compaction=how,
    )


def delete_batch(
    archive: Archive, scope: RetentionScope, limit: int = BATCH, *, release_files: ReleaseFiles | None = None
) -> int:
    """Delete at most ``limit`` of the messages ``scope`` covers (one transaction); returns how many.

    Their attachments go first (a crash in between leaves messages without files, which the next run
    deletes, never file records without messages). A caller on the engine loop (the scheduled job)
    yields between batches, so logging goes on."""
    where, params = _where(archive, scope)
    ids = [int(r[0]) for r in archive.read_rows(f"SELECT id FROM messages WHERE {where} LIMIT {int(limit)}", params)]  # noqa: S608
    if ids:
        orphans = AttachmentTable(archive).delete_for_messages(ids)
        archive._execute_write(
            f"DELETE FROM messages WHERE id IN ({', '.join('?' * len(ids))})",  # noqa: S608
            ids,
        )
        if orphans and release_files is not None:
            release_files(orphans)
    return len(ids)


def compact_space(archive: Archive, *, rewrite: bool = True) -> tuple[int, str]:
    """Give freed space back (SQLite only): bytes reclaimed and how. ``rewrite=False`` never runs the
    full ``VACUUM`` (seconds per GB), only the cheap incremental one where the file allows it."""
    if archive.dialect != "sqlite":
        return 0, ""
    if not rewrite and _pragma(archive, "auto_vacuum") != 2:
        return 0, ""
    return _compact(archive)


def _pragma(archive: Archive, name: str) -> int:
    ((value,),) = archive.read_rows(f"PRAGMA {name}")
    return int(value)


def _compact(archive: Archive) -> tuple[int, str]:
    page_size = _pragma(archive, "page_size")
    before = _pragma(archive, "page_count")
    free = _pragma(archive, "freelist_count")
    if not before or free / before < VACUUM_THRESHOLD:
        return 0, ""
    raw = archive._connection.connection.dbapi_connection
    assert raw is not None
    archive._connection.commit()
    if _pragma(archive, "auto_vacuum") == 2:  # INCREMENTAL: truncate the free pages, no rewrite
        how = "incremental_vacuum"
        cur = raw.cursor()
        try:
            cur.execute("PRAGMA incremental_vacuum")
            cur.fetchall()
        finally:
            cur.close()
    else:
        how = "vacuum"
        cur = raw.cursor()
        try:
            cur.execute("PRAGMA auto_vacuum = INCREMENTAL")  # takes effect with this VACUUM
            cur.execute("VACUUM")
        finally:
            cur.close()
    archive._connection.commit()
    after = _pragma(archive, "page_count")
    return max(0, before - after) * page_size, how
