"""The archive's errors: it cannot be opened or is damaged, or its storage failed (a full disk)."""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy.exc import DBAPIError

from aggregator.api import AggregatorError


class ArchiveError(AggregatorError):
    """The archive could not be opened or is damaged."""


# SQLite's primary result codes (an extended code keeps the primary one in its low byte).
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
# PostgreSQL's SQLSTATEs: insufficient resources, disk full, I/O error.
_PG_DISK_FULL = {"53000", "53100", "58030"}
_OS_STORAGE = {errno.ENOSPC, errno.EDQUOT, errno.EIO}


class ArchiveStorageError(ArchiveError):
    """A write to the archive failed because its storage failed (disk full, I/O error); nothing was stored.

    Try again later: the archive is usable again as soon as the storage is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def storage_problem(exc: BaseException, where: str) -> str | None:
    """The one-line reason when ``exc`` says the archive's storage failed, else None."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        text = str(orig)
        if primary == _SQLITE_FULL or "database or disk is full" in text:
            return f"the disk holding the archive ({where}) is full"
        if primary == _SQLITE_IOERR or "disk I/O error" in text:
            return f"the archive ({where}) cannot be used: disk I/O error (is its disk full or failing?)"
        return None
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate in _PG_DISK_FULL:
        return f"the archive's database ({where}) could not be written: {str(orig).strip().splitlines()[0]}"
    if isinstance(orig, OSError) and orig.errno in _OS_STORAGE:
        return f"the archive ({where}) could not be written: {orig.strerror}"
    return None
