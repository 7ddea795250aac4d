"""Catch-up positions of the XMPP adapter: where each message archive (XEP-0313) is read up to.

A position names one archive (our own bare JID, or a room's JID: the ``ResumePosition.stream``) and
holds the archive id (RSM id = XEP-0359 stanza-id) of the newest message handed to the core and its
archive time. With no id (an archive that was empty at the first sync) the time alone says where to
start. The core stores a position together with the message it came with and hands the stored ones
back before each connect (``SupportsResume``); the adapter keeps no position file of its own.

``mam-positions.json`` in the account's data dir is what earlier versions wrote (at emit time, which
could run ahead of the archive): it is read once as a fallback for archives the core has no position
for, and removed when the core hands over a position of the own archive.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aggregator.api import ResumePosition

log = logging.getLogger(__name__)

LEGACY_FILE = "mam-positions.json"


@dataclass(frozen=True, slots=True)
class Position:
    archive_id: str | None
    stamp: datetime | None

    def encode(self) -> str:
        return json.dumps({"id": self.archive_id, "stamp": self.stamp.isoformat() if self.stamp else None})

    def resume(self, archive: str) -> ResumePosition:
        return ResumePosition(stream=archive, value=self.encode())


def decode(value: str) -> Position | None:
    """The position in ``value`` (as ``Position.encode`` wrote it), or None when unreadable."""
    try:
        data = json.loads(value)
        archive_id, stamp = data.get("id"), data.get("stamp")
        position = Position(str(archive_id) if archive_id else None, datetime.fromisoformat(stamp) if stamp else None)
    except (ValueError, TypeError, AttributeError):
        return None
    return position if position.archive_id or position.stamp else None


def decode_all(positions: Mapping[str, str]) -> dict[str, Position]:
    """The readable positions among ``positions`` (archive -> encoded value); others are left out."""
    found: dict[str, Position] = {}
    for archive, value in positions.items():
        position = decode(value)
        if position is None:
            log.warning("ignoring the unreadable catch-up position of %s", archive)
        else:
            found[archive] = position
    return found


def read_legacy(data_dir: Path | None) -> dict[str, Position]:
    """The positions an earlier version kept in ``data_dir`` (empty when there are none or unreadable)."""
    if data_dir is None:
        return {}
    path = data_dir / LEGACY_FILE
    if not path.exists():
        return {}
    try:
        archives = json.loads(path.read_text(encoding="utf-8")).get("archives", {})
        return {
            str(archive): Position(
                str(entry["id"]), datetime.fromisoformat(entry["stamp"]) if entry.get("stamp") else None
            )
            for archive, entry in dict(archives).items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("ignoring the unreadable archive positions in %s: %s", path, exc)
        return {}


def remove_legacy(data_dir: Path | None) -> None:
    if data_dir is not None:
        with contextlib.suppress(OSError):
            (data_dir / LEGACY_FILE).unlink(missing_ok=True)
