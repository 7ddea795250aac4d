"""One conversation's timeline: stored messages in id (time) order, loaded backwards a page at a time.

The model never reads the archive itself: ``fetchMore`` emits ``older_wanted(before_id)``; the owner
loads the page on the engine thread and hands it to ``prepend``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from aggregator.archive.records import StoredMessage

Index = QModelIndex | QPersistentModelIndex

MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1


class ConversationModel(QAbstractListModel):
    older_wanted = Signal(object)  # the id to page back from (None: the newest page)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._messages: list[StoredMessage] = []
        self._ids: list[int] = []
        self._has_more = True
        self._loading = False

    # -- Qt's model interface -----------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._messages)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._messages):
            return None
        message = self._messages[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return message.body
        if role == MESSAGE_ROLE:
            return message
        return None

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self._has_more and not self._loading

    def fetchMore(self, parent: Index) -> None:
        if not self.canFetchMore(parent):
            return
        self._loading = True
        self.older_wanted.emit(self._ids[0] if self._ids else None)

    # -- feeding ------------------------------------------------------------------------------------

    @property
    def messages(self) -> list[StoredMessage]:
        return list(self._messages)

    @property
    def loading(self) -> bool:
        return self._loading

    def load_failed(self) -> None:
        self._loading = False

    def prepend(self, older: Sequence[StoredMessage], *, has_more: bool) -> None:
        """A page of older messages (oldest first), all older than what is shown."""
        self._loading = False
        self._has_more = has_more
        first = self._ids[0] if self._ids else None
        fresh = [m for m in older if (first is None or m.id < first)]
        fresh = sorted({m.id: m for m in fresh}.values(), key=lambda m: m.id)
        if not fresh:
            return
        self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
        self._messages[0:0] = fresh
        self._ids[0:0] = [m.id for m in fresh]
        self.endInsertRows()

    def add(self, message: StoredMessage) -> bool:
        """A new (or updated) message; False if it was already shown unchanged."""
        pos = bisect.bisect_left(self._ids, message.id)
        if pos < len(self._ids) and self._ids[pos] == message.id:
            if self._messages[pos] == message:
                return False
            self._messages[pos] = message
            index = self.index(pos, 0)
            self.dataChanged.emit(index, index)
            return True
        if pos == 0 and self._has_more and self._ids:
            return False  # older than the loaded page: it shows up when the user scrolls back
        self.beginInsertRows(QModelIndex(), pos, pos)
        self._messages.insert(pos, message)
        self._ids.insert(pos, message.id)
        self.endInsertRows()
        return True

    def update(self, message: StoredMessage) -> None:
        """A message changed (delivery state, error): replaced if shown."""
        pos = bisect.bisect_left(self._ids, message.id)
        if pos < len(self._ids) and self._ids[pos] == message.id:
            self._messages[pos] = message
            index = self.index(pos, 0)
            self.dataChanged.emit(index, index)
