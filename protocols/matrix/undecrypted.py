"""Encrypted events nio cannot decrypt yet: recorded as a placeholder when they arrive, their room key
requested from our other devices, kept (in ``data_dir/undecrypted.json`` across restarts) and retried
after every sync; once the key has arrived the message is emitted again with
``replaces_server_id == server_id``, which tells the core to fill in the placeholder."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from protocols.matrix import lib, mapping
from protocols.matrix.lib import Client, Room
from protocols.matrix.session import Session

log = logging.getLogger(__name__)

#: Encrypted events still waiting for their room key, kept across restarts (in ``data_dir``).
UNDECRYPTED_FILE = "undecrypted.json"
#: At most this many undecryptable events are kept for a retry; the oldest are given up first.
MAX_UNDECRYPTED = 1000


def write_private(path: Path, data: object, account_id: str) -> None:
    """Writes ``data`` as JSON to ``path`` (mode 0600) atomically; a failure is logged, not raised."""
    temporary = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(data, file)
        temporary.replace(path)
    except OSError as exc:
        log.warning("%s: cannot save %s: %s", account_id, path, exc)


class Undecrypted:
    def __init__(self, session: Session, encryption: bool, context: Callable[[Room], mapping.RoomContext]) -> None:
        self._s = session
        self._encryption = encryption
        self._context = context
        # Event id -> (room id, event, is backfill), retried after each sync until the room key arrives;
        # and those whose key is still to be requested from our other devices.
        self._events: dict[str, tuple[str, object, bool]] = {}
        self._dirty = False
        self._key_requests: list[object] = []

    def remember(self, room_id: str, event: object, is_backfill: bool) -> None:
        """Keeps an event nio could not decrypt for a retry, and asks our other devices for its key."""
        event_id = mapping.source_of(event).get("event_id")
        if not isinstance(event_id, str) or event_id in self._events:
            return
        account_id = self._s.account_id
        log.info("%s: cannot decrypt %s in %s yet (session %s)", account_id, event_id, room_id, lib.session_of(event))
        self._events[event_id] = (room_id, event, is_backfill)
        self._dirty = True
        self._key_requests.append(event)
        while len(self._events) > MAX_UNDECRYPTED:
            oldest = next(iter(self._events))
            del self._events[oldest]
            log.warning("%s: gave up waiting for the key of %s", account_id, oldest)

    def retry(self, client: Client) -> None:
        """Decrypts the kept events whose room key has arrived since; each one completes its placeholder
        (a ``MessageReceived`` with ``replaces_server_id == server_id``)."""
        for event_id, (room_id, event, is_backfill) in list(self._events.items()):
            room = client.room(room_id)
            if room is None:
                continue  # not joined (any more): keep it for when we are
            decrypted: object | None
            try:
                decrypted = client.decrypt(event, room_id)
            except lib.NoKeyYet:
                continue  # still no key
            except Exception as exc:  # a corrupt event: nio may raise anything
                log.warning("%s: giving up decrypting %s: %r", self._s.account_id, event_id, exc)
                decrypted = None
            del self._events[event_id]
            self._dirty = True
            log.info("%s: decrypted %s now that its key has arrived", self._s.account_id, event_id)
            if decrypted is not None:
                self._s.emit_or_skip(mapping.decrypted_later(decrypted, self._context(room), is_backfill))

    async def request_keys(self, client: Client) -> None:
        requests, self._key_requests = self._key_requests, []
        for event in requests:
            if await client.request_room_key(event):
                log.info("%s: requested the room key of session %s", self._s.account_id, lib.session_of(event))

    def _path(self) -> Path | None:
        data_dir = self._s.data_dir
        return data_dir / UNDECRYPTED_FILE if data_dir is not None and self._encryption else None

    def load(self) -> None:
        path = self._path()
        if path is None or self._events:
            return
        account_id = self._s.account_id
        try:
            entries = json.loads(path.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("%s: cannot read %s: %s", account_id, path, exc)
            return
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("room_id"), str):
                continue
            try:
                event = lib.undecrypted_from(entry.get("source"))
            except Exception as exc:  # a damaged file: skip the entry
                log.warning("%s: skipping a damaged entry of %s: %r", account_id, path, exc)
                continue
            event_id = mapping.source_of(event).get("event_id")
            if event is not None and isinstance(event_id, str):
                self._events[event_id] = (entry["room_id"], event, entry.get("backfill") is True)

    def save_if_changed(self) -> None:
        if not self._dirty:
            return
        path = self._path()
        self._dirty = False
        if path is None:
            return
        entries = [
            {"room_id": room_id, "source": mapping.source_of(event), "backfill": backfill}
            for room_id, event, backfill in self._events.values()
        ]
        write_private(path, entries, self._s.account_id)
