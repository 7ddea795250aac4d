"""Where the account's message archives (XEP-0313) were last read up to, kept in the account's data dir.

One small JSON file, ``mam-positions.json``: for each archive (our own bare JID, or a room's JID) the
archive id (RSM id = XEP-0359 stanza-id) of the newest message seen and its archive time. It is
written atomically (a temporary file in the same directory, fsync, ``os.replace``), at most every
``SAVE_DELAY`` seconds while messages arrive, and at once after a backfill page and on disconnect.
Without a data dir (tests) the positions live in memory only, for the life of the adapter.

A lost or unreadable file only costs a larger catch-up: the next connect falls back to the bounded
first-sync window and the core drops what it already has (same server ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "mam-positions.json"
FILE_VERSION = 1
SAVE_DELAY = 1.0


@dataclass(frozen=True, slots=True)
class Position:
    archive_id: str
    stamp: datetime | None


class PositionStore:
    def __init__(self, data_dir: Path | None) -> None:
        self.path = data_dir / FILE_NAME if data_dir is not None else None
        self._positions: dict[str, Position] = {}
        self._dirty = False
        self._timer: asyncio.TimerHandle | None = None
        self._load()

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            for archive, entry in dict(data.get("archives", {})).items():
                stamp = entry.get("stamp")
                self._positions[str(archive)] = Position(
                    str(entry["id"]), datetime.fromisoformat(stamp) if stamp else None
                )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring the unreadable archive positions in %s: %s", self.path, exc)
            self._positions.clear()

    def get(self, archive: str) -> Position | None:
        return self._positions.get(archive)

    def set(self, archive: str, archive_id: str, stamp: datetime | None, *, save_now: bool = False) -> None:
        self._positions[archive] = Position(archive_id, stamp)
        self._dirty = True
        if save_now:
            self.save()
        elif self._timer is None and self.path is not None:
            with contextlib.suppress(RuntimeError):  # no running loop: saved on the next save()
                self._timer = asyncio.get_running_loop().call_later(SAVE_DELAY, self.save)

    def save(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._dirty or self.path is None:
            return
        data = {
            "version": FILE_VERSION,
            "archives": {
                archive: {"id": p.archive_id, "stamp": p.stamp.isoformat() if p.stamp else None}
                for archive, p in self._positions.items()
            },
        }
        try:
            fd, tmp = tempfile.mkstemp(prefix=".mam-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("could not save the archive positions to %s: %s", self.path, exc)
            return
        self._dirty = False
