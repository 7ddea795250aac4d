"""The open conversation tabs (their persons, in order, and the current one), kept in the window's
QSettings and reopened at the next start once the buddy list has loaded."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings

from aggregator.app.types import PersonId
from ui.conversation import ConversationPane

log = logging.getLogger(__name__)

OPEN_KEY = "conversations/open"
CURRENT_KEY = "conversations/current"


def _ids(value: object) -> list[int]:
    text = value if isinstance(value, str) else ""
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


class TabMemory(QObject):
    def __init__(
        self,
        pane: ConversationPane,
        settings: QSettings,
        open_person: Callable[[PersonId], object],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pane = pane
        self._settings = settings
        self._open_person = open_person
        self._restored = False

    def save(self) -> None:
        tabs = self._pane.tabs()
        self._settings.setValue(OPEN_KEY, ",".join(str(t.person.id) for t in tabs))
        current = self._pane.currentWidget()
        chosen = next((t.person.id for t in tabs if t is current), None)
        self._settings.setValue(CURRENT_KEY, "" if chosen is None else str(chosen))

    def restore(self) -> None:
        """Reopen the remembered tabs (once; persons gone meanwhile are skipped)."""
        if self._restored:
            return
        self._restored = True
        current = _ids(self._settings.value(CURRENT_KEY))
        for person_id in _ids(self._settings.value(OPEN_KEY)):
            if self._open_person(person_id) is None:
                log.info("Person %s of a remembered tab is gone", person_id)
        if current:
            self._open_person(current[0])
