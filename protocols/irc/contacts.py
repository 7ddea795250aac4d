"""IRC contacts and blocking, both client-side (IRC keeps neither): the nicks the user added and the nicks
they ignore, kept in the account's data directory (``CONTACTS_FILE``, JSON) like the adapter's other
protocol state, so they survive restarts; without a data directory they last as long as the adapter.

Presence of contacts: ``MONITOR`` when the server announces it (the server then pushes 730/731 as they come
and go), else ``ISON`` asked every ``ISON_INTERVAL`` seconds (option ``ison_interval``), reported as changes
only. Handles are casefolded nicks (the core's ``normalize_handle``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from aggregator.api import Presence, PresenceKind

log = logging.getLogger(__name__)

CONTACTS_FILE = "irc-contacts.json"
#: Seconds between two ISON polls where the server has no MONITOR.
ISON_INTERVAL = 60.0


class ContactList:
    """The added and the ignored nicks (casefolded), and which contacts are online as far as we know."""

    def __init__(self, data_dir: Path | None, account_id: str) -> None:
        self._path = data_dir / CONTACTS_FILE if data_dir is not None else None
        self._account_id = account_id
        self.contacts: dict[str, str | None] = {}  # handle -> the name the user gave, if any
        self.ignored: set[str] = set()
        self.online: set[str] = set()
        self._load()

    # ------------------------------------------------------------------------------------ edits

    def add(self, handle: str, name: str | None) -> None:
        self.contacts[handle] = name or self.contacts.get(handle)
        self._save()

    def remove(self, handle: str) -> bool:
        """Drops ``handle``; False if it was no contact."""
        self.online.discard(handle)
        if self.contacts.pop(handle, False) is False:
            return False
        self._save()
        return True

    def ignore(self, handle: str, ignore: bool) -> None:
        if ignore:
            self.ignored.add(handle)
        else:
            self.ignored.discard(handle)
        self._save()

    # --------------------------------------------------------------------------------- presence

    def reset_presence(self) -> None:
        self.online.clear()

    def came_online(self, handles: Iterable[str]) -> list[tuple[str, Presence]]:
        changes = []
        for handle in handles:
            if handle in self.contacts and handle not in self.online:
                self.online.add(handle)
                changes.append((handle, Presence(PresenceKind.AVAILABLE)))
        return changes

    def went_offline(self, handles: Iterable[str]) -> list[tuple[str, Presence]]:
        changes = []
        for handle in handles:
            if handle in self.online:
                self.online.discard(handle)
                changes.append((handle, Presence.offline()))
        return changes

    def ison_reply(self, handles: Iterable[str]) -> list[tuple[str, Presence]]:
        """An ISON answer names every contact online: the others are offline."""
        now = set(handles)
        return [*self.came_online(now), *self.went_offline(self.online - now)]

    # ------------------------------------------------------------------------------ persistence

    def _load(self) -> None:
        if self._path is None:
            return
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("%s: cannot read %s: %s", self._account_id, self._path, exc)
            return
        contacts = data.get("contacts") if isinstance(data, dict) else None
        ignored = data.get("ignored") if isinstance(data, dict) else None
        if isinstance(contacts, dict):
            self.contacts = {str(handle): name if isinstance(name, str) else None for handle, name in contacts.items()}
        if isinstance(ignored, list):
            self.ignored = {str(handle) for handle in ignored}

    def _save(self) -> None:
        if self._path is None:
            return
        data = {"contacts": self.contacts, "ignored": sorted(self.ignored)}
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            temporary.replace(self._path)
        except OSError as exc:
            log.warning("%s: cannot write %s: %s", self._account_id, self._path, exc)
