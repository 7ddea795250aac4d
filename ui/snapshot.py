"""The buddy-list snapshot: what the window last showed, kept in a small file so the next start can
paint it before the core, SQLAlchemy and the protocols are imported.

What it holds, and only that: each person's id, name, sphere, the groups it is shown under, its last
known presence kind and unread count; the open tabs' titles (and persons), which tab was current, the
selected person and the person at the top of the scrolled list. No addresses, no status messages, no
message text, no account details, nothing from the keyring: the file is a picture of the list, not a
log. That keeps it within a policy that disables logging (it records no conversation) and makes a
stolen copy worth no more than a screenshot of the window.

The format is versioned JSON (a 2,000-person list is ~100 KB and decodes in a few ms); a file of
another version, a corrupt or truncated one, or one that does not validate is ignored with one log
line, and the normal start paints the list from the archive instead. Written atomically (temporary
file in the same directory, fsync, rename), readable by the user only.

This module imports neither Qt nor anything of the core: the light start (``ui.instant``) reads it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VERSION = 1
FILE_NAME = "buddy-list-snapshot.json"
SPHERES = ("work", "personal")  # aggregator.api.Sphere's values, in the buddy list's order
MAX_BYTES = 32 * 1024 * 1024  # a snapshot larger than this is not a snapshot


class SnapshotError(ValueError):
    """The bytes are not a snapshot this version can read."""


@dataclass(frozen=True, slots=True)
class SnapshotPerson:
    id: int
    name: str
    sphere: str  # "work" or "personal"
    groups: tuple[str, ...]  # empty: right under the sphere
    presence: str  # aggregator.api.PresenceKind's value, as last known
    unread: int


@dataclass(frozen=True, slots=True)
class SnapshotTab:
    title: str
    person_id: int | None  # None: a room tab


@dataclass(frozen=True, slots=True)
class Snapshot:
    persons: tuple[SnapshotPerson, ...]
    tabs: tuple[SnapshotTab, ...] = ()
    current_tab: int = -1
    selected: int | None = None  # the selected person's id
    top: int | None = None  # the person at the top of the visible list
    written_at: float = 0.0  # time.time() when it was taken


def snapshot_file(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


# ------------------------------------------------------------------------------------------ encode


def encode(snapshot: Snapshot) -> bytes:
    persons = [[p.id, p.name, p.sphere, list(p.groups), p.presence, p.unread] for p in snapshot.persons]
    body = {
        "version": VERSION,
        "written_at": snapshot.written_at,
        "persons": persons,
        "tabs": [[t.title, t.person_id] for t in snapshot.tabs],
        "current_tab": snapshot.current_tab,
        "selected": snapshot.selected,
        "top": snapshot.top,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise SnapshotError(f"{what} is not a whole number")
    return value


def _opt_int(value: Any, what: str) -> int | None:
    return None if value is None else _int(value, what)


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise SnapshotError(f"{what} is not text")
    return value


def _person(item: Any) -> SnapshotPerson:
    if not isinstance(item, list) or len(item) != 6:
        raise SnapshotError("a person is not a list of 6 values")
    pid, name, sphere, groups, presence, unread = item
    if sphere not in SPHERES:
        raise SnapshotError(f"unknown sphere {sphere!r}")
    if not isinstance(groups, list):
        raise SnapshotError("a person's groups are not a list")
    return SnapshotPerson(
        id=_int(pid, "a person id"),
        name=_str(name, "a name"),
        sphere=sphere,
        groups=tuple(_str(g, "a group") for g in groups),
        presence=_str(presence, "a presence"),
        unread=max(0, _int(unread, "an unread count")),
    )


def _tab(item: Any) -> SnapshotTab:
    if not isinstance(item, list) or len(item) != 2:
        raise SnapshotError("a tab is not a list of 2 values")
    return SnapshotTab(title=_str(item[0], "a tab title"), person_id=_opt_int(item[1], "a tab's person"))


def decode(data: bytes) -> Snapshot:
    """The snapshot in ``data``; SnapshotError when it is not one of this version."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise SnapshotError("not a JSON object")
    if body.get("version") != VERSION:
        raise SnapshotError(f"version {body.get('version')!r}, this program reads version {VERSION}")
    persons, tabs = body.get("persons"), body.get("tabs", [])
    if not isinstance(persons, list) or not isinstance(tabs, list):
        raise SnapshotError("persons or tabs are not lists")
    written_at = body.get("written_at", 0.0)
    if not isinstance(written_at, int | float):
        raise SnapshotError("written_at is not a time")
    return Snapshot(
        persons=tuple(_person(p) for p in persons),
        tabs=tuple(_tab(t) for t in tabs),
        current_tab=_int(body.get("current_tab", -1), "current_tab"),
        selected=_opt_int(body.get("selected"), "selected"),
        top=_opt_int(body.get("top"), "top"),
        written_at=float(written_at),
    )


# -------------------------------------------------------------------------------------------- file


def write_snapshot(path: Path, snapshot: Snapshot) -> None:
    """Replace ``path`` with ``snapshot`` atomically: a reader sees the old file or the new one, and a
    crash mid-write leaves the old one. Raises OSError."""
    data = encode(snapshot)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp: mode 0600
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_snapshot(path: Path) -> Snapshot | None:
    """The snapshot at ``path``, or None (missing, unreadable, corrupt, another version: one log line
    says which; the caller starts the normal way)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        log.info("No buddy-list snapshot at %s: starting without one", path)
        return None
    except OSError as exc:
        log.warning("Could not read the buddy-list snapshot %s (%s): starting without it", path, exc)
        return None
    if len(data) > MAX_BYTES:
        log.warning("The buddy-list snapshot %s is larger than %d bytes: starting without it", path, MAX_BYTES)
        return None
    try:
        return decode(data)
    except SnapshotError as exc:
        log.warning("Ignoring the buddy-list snapshot %s (%s): starting without it", path, exc)
        return None


def age_text(snapshot: Snapshot, now: float | None = None) -> str:
    """When the snapshot was taken, for the status line ("as of 14:05")."""
    if not snapshot.written_at:
        return "as last seen"
    taken = time.localtime(snapshot.written_at)
    today = time.localtime(time.time() if now is None else now)
    if taken[:3] == today[:3]:
        return time.strftime("as of %H:%M", taken)
    return time.strftime("as of %Y-%m-%d %H:%M", taken)
