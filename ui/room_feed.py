"""Keeps the buddy list's rooms in step with the core's room directory: a first snapshot, then the
bus's ``RoomChanged`` / ``RoomRemoved`` (each turned into a fresh ``RoomRow`` on the engine thread)."""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from aggregator.api import ConversationKey
from aggregator.app.room_rows import RoomRow
from aggregator.rooms.events import RoomChanged, RoomRemoved
from aggregator.roster.events import UnreadChanged
from ui.context import UiContext
from ui.models.roster_model import RosterModel

log = logging.getLogger(__name__)


class RoomFeed(QObject):
    room_changed = Signal(object)  # RoomRow, after the model has it
    room_gone = Signal(object)  # ConversationKey
    loaded = Signal()  # the first snapshot is in the buddy list (or could not be read)

    def __init__(self, ctx: UiContext, model: RosterModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._model = model
        self._ready = False
        self._early: list[RoomChanged | RoomRemoved] = []
        ctx.bridge.room_changed.connect(self._on_changed)
        ctx.bridge.room_removed.connect(self._on_removed)
        ctx.bridge.unread_changed.connect(self._on_unread)

    def load(self) -> None:
        self._ctx.bridge.run(self._ctx.app.all_rooms, self._loaded)

    def _loaded(self, rows: list[RoomRow] | None, error: BaseException | None) -> None:
        if error is not None or rows is None:
            log.error("Could not load the rooms: %s", error)
            self.loaded.emit()
            return
        self._model.set_rooms(rows)
        self._ready = True
        early, self._early = self._early, []
        for event in early:
            self._on_changed(event) if isinstance(event, RoomChanged) else self._on_removed(event)
        self.loaded.emit()

    def _on_changed(self, event: RoomChanged) -> None:
        if not self._ready:
            self._early.append(event)
            return
        app = self._ctx.app
        self._ctx.bridge.run(lambda: app.room_row(event.room), self._apply)

    def _apply(self, row: RoomRow | None, error: BaseException | None) -> None:
        if error is not None or row is None:
            log.error("Could not show a room: %s", error)
            return
        self._model.upsert_room(row)
        self.room_changed.emit(row)

    def _on_unread(self, event: UnreadChanged) -> None:
        key = event.conversation
        if not self._ready or key is None or event.person_id is not None:
            return  # a person's conversation: the roster feed's business
        row = self._model.room(key)
        if row is not None and row.unread != event.conversation_unread:
            self._apply(replace(row, unread=event.conversation_unread), None)

    def _on_removed(self, event: RoomRemoved) -> None:
        if not self._ready:
            self._early.append(event)
            return
        # Through the engine thread too, so a removal never overtakes a change published before it.
        self._ctx.bridge.run(lambda: event.key, self._gone)

    def _gone(self, key: ConversationKey | None, error: BaseException | None) -> None:
        if key is not None:
            self._model.remove_room(key)
            self.room_gone.emit(key)
