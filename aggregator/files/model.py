"""The attachment record: one file linked to one message, and the states it goes through."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class AttachmentState(enum.StrEnum):
    """Where a file stands. Stored code: keep the values."""

    OFFERED = "offered"  # announced by the peer (or by us), nothing fetched yet
    TRANSFERRING = "transferring"
    QUARANTINED = "quarantined"  # on disk, held until a scanner says clean (or because it cannot)
    CLEAN = "clean"  # may be opened
    INFECTED = "infected"  # the scanner found something; stays quarantined
    BLOCKED = "blocked"  # refused by a rule (extension, size, transfers denied); never fetched
    FAILED = "failed"  # the transfer did not complete

    @property
    def openable(self) -> bool:
        return self is AttachmentState.CLEAN


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """One file. ``name`` is already safe for the local file system (see ``names.safe_file_name``)."""

    name: str
    size: int | None
    mime_type: str
    state: AttachmentState
    sha256: str | None = None
    remote_url: str | None = None
    local_path: Path | None = None
    reason: str = ""  # why it is blocked, held, infected or failed, in words a person understands
