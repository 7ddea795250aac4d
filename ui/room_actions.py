"""Rooms in the main window: the buddy list's rooms (fed by ``RoomFeed``), opening a room's tab, the
"Rooms" menu (Join room…, Leave room) and the buddy list's context menu on a room."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QModelIndex, QObject, QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QStackedWidget, QTabWidget, QTreeView, QWidget

from aggregator.api import ConversationKey
from aggregator.app.room_rows import RoomRow
from ui.context import UiContext
from ui.join_room_dialog import JoinRoomDialog
from ui.models.roster_model import KIND_ROLE, ROOM, ROOM_KEY_ROLE, RosterModel
from ui.room_feed import RoomFeed
from ui.room_tab import RoomTab, close_room, open_room, room_tab, update_room


class RoomHost(Protocol):
    """What of the main window the rooms use (the window itself; named here so that this module does
    not import ``ui.main_window``, which imports it)."""

    @property
    def model(self) -> RosterModel: ...
    @property
    def tree(self) -> QTreeView: ...
    @property
    def conversations(self) -> QTabWidget: ...
    @property
    def right(self) -> QStackedWidget: ...
    def menuBar(self) -> QMenuBar: ...
    def window(self) -> QWidget: ...


class RoomActions(QObject):
    def __init__(self, ctx: UiContext, window: RoomHost, parent: QObject) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._window = window
        self.dialog: JoinRoomDialog | None = None
        self.feed = RoomFeed(ctx, window.model, self)
        self.feed.room_changed.connect(lambda row: update_room(window.conversations, row))
        self.feed.room_gone.connect(lambda key: close_room(window.conversations, key))

        menu = window.menuBar().addMenu("&Rooms")
        self.join_action = QAction("&Join room…", self)
        self.join_action.setShortcut(QKeySequence("Ctrl+J"))
        self.join_action.triggered.connect(self.show_join_dialog)
        menu.addAction(self.join_action)
        self.leave_action = QAction("&Leave room", self)
        self.leave_action.triggered.connect(self._leave_current)
        menu.addAction(self.leave_action)
        window.conversations.currentChanged.connect(self._update_actions)
        self._update_actions()

        window.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        window.tree.customContextMenuRequested.connect(self._context_menu)
        self.feed.load()

    def open_index(self, index: QModelIndex) -> bool:
        """Opens the room of a buddy-list row; False if the row is not a room."""
        key = index.data(ROOM_KEY_ROLE) if index.data(KIND_ROLE) == ROOM else None
        if not isinstance(key, ConversationKey):
            return False
        self.open(key)
        return True

    def open(self, key: ConversationKey) -> RoomTab | None:
        row = self._window.model.room(key)
        return None if row is None else self.open_row(row)

    def open_row(self, row: RoomRow) -> RoomTab:
        tab = open_room(self._ctx, self._window.conversations, row)
        self._window.right.setCurrentWidget(self._window.conversations)
        return tab

    def show_join_dialog(self) -> JoinRoomDialog:
        if self.dialog is None:
            self.dialog = JoinRoomDialog(self._ctx, self._window.window())
            self.dialog.joined.connect(self.open_row)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def _current_room(self) -> RoomTab | None:
        tab = self._window.conversations.currentWidget()
        return tab if isinstance(tab, RoomTab) else None

    def _update_actions(self, *_args: object) -> None:
        self.leave_action.setEnabled(self._current_room() is not None)

    def _leave_current(self) -> None:
        tab = self._current_room()
        if tab is not None:
            tab.leave()

    def _context_menu(self, pos: QPoint) -> None:
        tree = self._window.tree
        index = tree.indexAt(pos)
        if not index.isValid() or index.data(KIND_ROLE) != ROOM:
            return
        key = index.data(ROOM_KEY_ROLE)
        if not isinstance(key, ConversationKey):
            return
        menu = QMenu(tree)
        menu.setAccessibleName("Room actions")
        menu.addAction("&Open", lambda: self.open(key))
        menu.addAction("&Leave room", lambda: self._leave(key))
        menu.exec(tree.viewport().mapToGlobal(pos))

    def _leave(self, key: ConversationKey) -> None:
        tab = room_tab(self._window.conversations, key) or self.open(key)
        if tab is not None:
            tab.leave()
