"""The open conversation tabs (persons' and rooms', in order, and the current one), kept in the window's
QSettings and reopened at the next start once the buddy list and the rooms have loaded."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSettings

from aggregator.api import ConversationKey
from aggregator.app.types import PersonId
from ui.conversation import ConversationPane, ConversationTab
from ui.room_tab import RoomTab

log = logging.getLogger(__name__)

TABS_KEY = "conversations/tabs"  # JSON: [{"person": 12}, {"room": [account_id, address]}, ...]
CURRENT_TAB_KEY = "conversations/current_tab"  # its index in that list ("" for none)
# The person tabs alone, as earlier versions kept them: read when TABS_KEY is not there yet.
OPEN_KEY = "conversations/open"
CURRENT_KEY = "conversations/current"

#: What the pane waits for before reopening tabs.
PERSONS, ROOMS = "persons", "rooms"

Entry = tuple[str, Any]  # ("person", PersonId) or ("room", ConversationKey)


def _ids(value: object) -> list[int]:
    text = value if isinstance(value, str) else ""
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


def _entries(text: object) -> list[Entry]:
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        data = None
    found: list[Entry] = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("person"), int):
            found.append(("person", item["person"]))
        room = item.get("room")
        if isinstance(room, list) and len(room) == 2 and all(isinstance(p, str) for p in room):
            found.append(("room", ConversationKey.room(room[0], room[1])))
    return found


class TabMemory(QObject):
    def __init__(
        self,
        pane: ConversationPane,
        settings: QSettings,
        open_person: Callable[[PersonId], object],
        open_room: Callable[[ConversationKey], object] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pane = pane
        self._settings = settings
        self._open_person = open_person
        self._open_room = open_room
        self._waiting = {PERSONS} | ({ROOMS} if open_room is not None else set())
        self._restored = False

    def save(self) -> None:
        entries: list[dict[str, Any]] = []
        current_index: int | None = None
        current = self._pane.currentWidget()
        for i in range(self._pane.count()):
            tab = self._pane.widget(i)
            if isinstance(tab, ConversationTab):
                entries.append({"person": tab.person.id})
            elif isinstance(tab, RoomTab):
                entries.append({"room": [tab.key.account_id, tab.key.handle]})
            else:
                continue
            if tab is current:
                current_index = len(entries) - 1
        self._settings.setValue(TABS_KEY, json.dumps(entries))
        self._settings.setValue(CURRENT_TAB_KEY, "" if current_index is None else str(current_index))
        self._settings.remove(OPEN_KEY)
        self._settings.remove(CURRENT_KEY)

    def loaded(self, part: str) -> None:
        """``part`` (PERSONS, ROOMS) has loaded; the tabs reopen once everything they need has."""
        self._waiting.discard(part)
        if not self._waiting:
            self.restore()

    def _remembered(self) -> tuple[list[Entry], int | None]:
        if self._settings.contains(TABS_KEY):
            entries = _entries(self._settings.value(TABS_KEY))
            index = _ids(self._settings.value(CURRENT_TAB_KEY))
            return entries, index[0] if index and index[0] < len(entries) else None
        entries = [("person", pid) for pid in _ids(self._settings.value(OPEN_KEY))]
        current = _ids(self._settings.value(CURRENT_KEY))
        chosen = ("person", current[0]) if current else None
        return entries, entries.index(chosen) if chosen in entries else None

    def restore(self) -> None:
        """Reopen the remembered tabs (once; persons and rooms gone meanwhile are skipped)."""
        if self._restored:
            return
        self._restored = True
        # Tabs the user opened before everything loaded (a double-click on the painted list, a
        # notification) come after the remembered ones, and the one they looked at stays in front.
        opened_first = [w for i in range(self._pane.count()) if (w := self._pane.widget(i)) is not None]
        looking_at = self._pane.currentWidget()
        entries, current = self._remembered()
        for entry in entries:
            if self._open(entry) is None:
                log.info("The %s of a remembered tab is gone", entry[0])
        if current is not None:
            self._open(entries[current])
        bar = self._pane.tabBar()
        for widget in opened_first:
            bar.moveTab(self._pane.indexOf(widget), self._pane.count() - 1)
        if looking_at is not None:
            self._pane.setCurrentWidget(looking_at)

    def _open(self, entry: Entry) -> object:
        kind, value = entry
        if kind == "person":
            return self._open_person(value)
        return None if self._open_room is None else self._open_room(value)
