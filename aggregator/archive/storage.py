"""When the archive cannot be written (a full disk, an I/O error): the error, and who is told.

A full disk is not a bug in the client: the archive rolls the failed write back, raises
``ArchiveStorageError`` naming the problem in one line, and tells its ``StorageHealth`` listeners
once when writes start failing and once when a write succeeds again. The caller decides what to
do with the write (the account supervisor keeps the event and tries it again; a command fails).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from aggregator.archive.errors import ArchiveStorageError, storage_problem

log = logging.getLogger(__name__)

__all__ = ["ArchiveStorageError", "StorageHealth", "StorageListener", "StorageState", "storage_problem"]


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
