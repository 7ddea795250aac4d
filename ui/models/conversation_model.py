"""One conversation's timeline: stored messages in id (time) order, loaded backwards a page at a time.

The model never reads the archive itself: ``fetchMore`` emits ``older_wanted(before_id)``; the owner
loads the page on the engine thread and hands it to ``prepend``.

Opened at a search hit, the model holds a window in the middle of the timeline (``show_window``):
it pages back as before, and forwards with ``fetch_newer`` -> ``newer_wanted(after_id)`` ->
``append_newer``. Until the newest page is in, live messages are not appended (they would leave a gap);
the inbound ones are counted (``missed``, for "Jump to latest (3 new)").
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from aggregator.app.types import Direction, StoredMessage

Index = QModelIndex | QPersistentModelIndex

MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1


class ConversationModel(QAbstractListModel):
    older_wanted = Signal(object)  # the id to page back from (None: the newest page)
    newer_wanted = Signal(object)  # the id to page forwards from (a window in the middle)
    missed_changed = Signal(int)  # how many new inbound messages are past the end of a window in the middle

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._messages: list[StoredMessage] = []
        self._ids: list[int] = []
        self._has_more = True
        self._loading = False
        self._has_newer = False  # a window in the middle: newer messages are not loaded
        self._loading_newer = False
        self._stale = 0  # answers still to come for pages asked before ``show_window``
        self.paging_newer = False  # True while a newer page is being inserted (not live messages)
        self._missed: set[int] = set()  # ids of new inbound messages not shown (newer than the window)

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
        if self._stale:
            self._stale -= 1  # a page asked for before ``show_window``: the current request is still on
            return
        self._loading = False

    def prepend(self, older: Sequence[StoredMessage], *, has_more: bool) -> None:
        """A page of older messages (oldest first), all older than what is shown."""
        if self._stale:
            self._stale -= 1  # asked for before the window moved: it may not join up with it
            return
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
        if pos == len(self._ids) and self._has_newer:
            if message.direction is Direction.IN and not message.is_backfill and message.id not in self._missed:
                self._missed.add(message.id)
                self.missed_changed.emit(len(self._missed))
            return False  # newer than a window in the middle: it shows up when the user scrolls down
        self.beginInsertRows(QModelIndex(), pos, pos)
        self._messages.insert(pos, message)
        self._ids.insert(pos, message.id)
        self.endInsertRows()
        return True

    def update(self, message: StoredMessage) -> bool:
        """A message changed (delivery state, error): replaced if shown, and ``dataChanged`` for its row
        alone (found by id in O(log n); no other row is touched, nothing is reset). False if it is not
        shown or did not change."""
        row = self.row_of(message.id)
        if row is None or self._messages[row] == message:
            return False
        self._messages[row] = message
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)
        return True

    # -- a window in the middle of the timeline (opened at a search hit) -----------------------------

    @property
    def at_newest(self) -> bool:
        """Whether the newest messages are loaded (live messages are appended)."""
        return not self._has_newer

    @property
    def missed(self) -> int:
        """New inbound messages that came while a window in the middle is shown (not yet scrolled to)."""
        return len(self._missed)

    def _forget_missed(self) -> None:
        """Drop what is shown (or everything, at the newest) from the missed messages."""
        last = self._ids[-1] if self._ids else None
        kept = set() if not self._has_newer else {i for i in self._missed if last is None or i > last}
        if kept != self._missed:
            self._missed = kept
            self.missed_changed.emit(len(kept))

    def show_window(self, messages: Sequence[StoredMessage], *, has_older: bool, has_newer: bool) -> None:
        """Replace what is shown with ``messages`` (oldest first), a stretch of the timeline."""
        self._stale += int(self._loading)  # every page still to come from before is for the old window
        self.beginResetModel()
        unique = sorted({m.id: m for m in messages}.values(), key=lambda m: m.id)
        self._messages = unique
        self._ids = [m.id for m in unique]
        self._has_more = has_older
        self._has_newer = has_newer
        self._loading = False
        self._loading_newer = False
        self.endResetModel()
        self._forget_missed()

    def row_of(self, message_id: int) -> int | None:
        pos = bisect.bisect_left(self._ids, message_id)
        return pos if pos < len(self._ids) and self._ids[pos] == message_id else None

    def can_fetch_newer(self) -> bool:
        return self._has_newer and not self._loading_newer and bool(self._ids)

    def fetch_newer(self) -> None:
        if self.can_fetch_newer():
            self._loading_newer = True
            self.newer_wanted.emit(self._ids[-1])

    def newer_failed(self) -> None:
        self._loading_newer = False

    def append_newer(self, newer: Sequence[StoredMessage], *, has_more: bool, after_id: int) -> None:
        """A page of newer messages (oldest first) that follows ``after_id``; dropped if the window has
        moved since it was asked for."""
        if not self._ids or self._ids[-1] != after_id or not self._loading_newer:
            return
        self._loading_newer = False
        self._has_newer = has_more
        fresh = sorted({m.id: m for m in newer if m.id > after_id}.values(), key=lambda m: m.id)
        if not fresh:
            self._forget_missed()
            return
        first = len(self._messages)
        self.paging_newer = True
        try:
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._messages.extend(fresh)
            self._ids.extend(m.id for m in fresh)
            self.endInsertRows()
        finally:
            self.paging_newer = False
        self._forget_missed()
