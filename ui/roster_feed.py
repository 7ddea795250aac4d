"""Keeps the RosterModel in step with the core: a first snapshot, then the bus's person events.

Changes are coalesced (a burst of presence updates becomes one fetch of fresh rows, built on the
engine thread) so a busy roster never floods the GUI thread.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal

from aggregator.app.rows import PersonRow
from aggregator.app.types import PersonId
from aggregator.events import ContactPresenceChanged
from aggregator.roster.events import PersonPresenceChanged, PersonRemoved, UnreadChanged
from ui.context import UiContext
from ui.models.roster_model import RosterModel

log = logging.getLogger(__name__)

COALESCE_MS = 40


class RosterFeed(QObject):
    loaded = Signal()
    person_changed = Signal(object)  # PersonRow, after the model has it
    person_gone = Signal(int)
    total_unread = Signal(int)

    def __init__(self, ctx: UiContext, model: RosterModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._model = model
        self._dirty: set[PersonId] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self._flush)
        self._in_flight = False
        self._ready = False
        b = ctx.bridge
        b.person_added.connect(lambda e: self._touch(e.person.id))
        b.person_updated.connect(lambda e: self._touch(e.person.id))
        b.person_presence.connect(self._on_person_presence)
        b.person_removed.connect(self._on_removed)
        b.contact_presence.connect(self._on_contact_presence)
        b.unread_changed.connect(self._on_unread)

    def load(self) -> None:
        self._ctx.bridge.run(self._ctx.app.buddy_list, self._loaded)

    def _loaded(self, result: tuple[list[PersonRow], int] | None, error: BaseException | None) -> None:
        if error is not None or result is None:
            log.error("Could not load the buddy list: %s", error)
            return
        rows, total = result
        self._model.set_persons(rows)
        self._ready = True
        self.total_unread.emit(total)
        self.loaded.emit()
        if self._dirty:
            self._timer.start()

    def _touch(self, person_id: PersonId) -> None:
        self._dirty.add(person_id)
        if self._ready and not self._timer.isActive() and not self._in_flight:
            self._timer.start()

    def _shown(self, person_id: PersonId) -> PersonRow | None:
        """The person's row as shown, when it can be changed in place (none being fetched)."""
        if not self._ready or person_id in self._dirty:
            return None
        return self._model.person(person_id)

    def _put(self, row: PersonRow) -> None:
        self._model.upsert(row)
        self.person_changed.emit(row)

    def _on_contact_presence(self, event: ContactPresenceChanged) -> None:
        """The event names the person and its aggregated presence: the row changes in place."""
        if event.person_id is None:
            return
        row = self._shown(event.person_id)
        if row is None:
            self._touch(event.person_id)
            return
        p = event.presence
        contacts = tuple(
            replace(c, presence=p.kind, status=p.status) if c.ref == event.contact else c for c in row.contacts
        )
        row = replace(row, contacts=contacts)
        if event.person_presence is not None:
            row = replace(row, presence=event.person_presence.kind, status=event.person_presence.status)
        self._put(row)

    def _on_person_presence(self, event: PersonPresenceChanged) -> None:
        row = self._shown(event.person_id)
        if row is None:
            self._touch(event.person_id)
            return
        self._put(replace(row, presence=event.presence.kind, status=event.presence.status, best=event.best))

    def _on_removed(self, event: PersonRemoved) -> None:
        self._dirty.discard(event.person_id)
        self._model.remove(event.person_id)
        self.person_gone.emit(event.person_id)
        if event.merged_into is not None:
            self._touch(event.merged_into)

    def _on_unread(self, event: UnreadChanged) -> None:
        if event.person_id is not None:
            self._model.set_unread(event.person_id, event.person_unread)
        if event.sphere is not None:
            self._model.set_sphere_unread(event.sphere, event.sphere_unread)
        self.total_unread.emit(event.total)

    def _flush(self) -> None:
        if not self._dirty:
            return
        ids, self._dirty = self._dirty, set()
        app = self._ctx.app
        self._in_flight = True
        self._ctx.bridge.run(lambda: app.person_rows(ids), self._apply)

    def _apply(self, result: tuple[list[PersonRow], list[PersonId]] | None, error: BaseException | None) -> None:
        self._in_flight = False
        if error is not None or result is None:
            log.error("Could not refresh the buddy list: %s", error)
        else:
            rows, gone = result
            for row in rows:
                self._model.upsert(row)
                self.person_changed.emit(row)
            for pid in gone:
                self._model.remove(pid)
                self.person_gone.emit(pid)
        if self._dirty:
            self._timer.start()
