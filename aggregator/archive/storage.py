"""When the archive cannot be written (a full disk, an I/O error): the error, and who is told.

A full disk is not a bug in the client: the archive rolls the failed write back, raises
``ArchiveStorageError`` naming the problem in one line, and tells its ``StorageHealth`` listeners
once when writes start failing and once when a write succeeds again. The caller decides what to
do with the write (the account supervisor keeps the event and tries it again; a command fails).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from aggregator.archive.database import ArchiveError

log = logging.getLogger(__name__)

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
            return f"the archive ({where}) could not be written: disk I/O error (is its disk full or failing?)"
        return None
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate in _PG_DISK_FULL:
        return f"the archive's database ({where}) could not be written: {str(orig).strip().splitlines()[0]}"
    if isinstance(orig, OSError) and orig.errno in _OS_STORAGE:
        return f"the archive ({where}) could not be written: {orig.strerror}"
    return None


@dataclass(frozen=True, slots=True)
class StorageState:
    """Whether the archive takes writes; ``reason`` says why not (empty when it does)."""

    writable: bool
    reason: str = ""


StorageListener = Callable[[StorageState], None]


class StorageHealth:
    """Tracks whether the archive's writes succeed; listeners hear each change, once."""

    def __init__(self) -> None:
        self._problem: str | None = None
        self._listeners: list[StorageListener] = []

    def add_listener(self, listener: StorageListener) -> None:
        self._listeners.append(listener)

    @property
    def problem(self) -> str | None:
        """Why the last write failed, while no write has succeeded since; else None."""
        return self._problem

    def failed(self, reason: str) -> None:
        if self._problem is not None:
            self._problem = reason
            return
        self._problem = reason
        self._tell(StorageState(writable=False, reason=reason))

    def succeeded(self) -> None:
        if self._problem is None:
            return
        self._problem = None
        self._tell(StorageState(writable=True))

    def _tell(self, state: StorageState) -> None:
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:
                log.exception("A storage listener failed on %s", state)
