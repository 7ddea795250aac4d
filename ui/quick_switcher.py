"""Ctrl+K: a small popup to jump to a person or a room. Type part of a name or address, Up/Down to choose,
Enter opens the conversation, Escape closes. Open conversations are listed first. An address that
matches nobody offers "Message alice@example.org…" (Enter too): ``address_chosen``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import ConversationKey
from aggregator.app.room_rows import RoomRow
from aggregator.app.rows import PersonRow
from ui.addresses import looks_like_address
from ui.models.switcher_model import SwitcherModel

_MOVES = {
    Qt.Key.Key_Up: -1,
    Qt.Key.Key_Down: 1,
    Qt.Key.Key_PageUp: -8,
    Qt.Key.Key_PageDown: 8,
}


class QuickSwitcher(QDialog):
    chosen = Signal(int)  # the person to open
    address_chosen = Signal(str)  # an address nobody has: write to it
    room_chosen = Signal(object)  # ConversationKey: the room to open

    def __init__(
        self,
        persons: Iterable[PersonRow],
        open_ids: Sequence[int],
        parent: QWidget | None = None,
        *,
        rooms: Iterable[RoomRow] = (),
        open_rooms: Sequence[ConversationKey] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Go to a person or room")
        self.setAccessibleName("Go to a person or room")
        self.setModal(True)
        self.model = SwitcherModel(self)
        self.model.set_persons(persons, open_ids, rooms, open_rooms)

        self.filter = QLineEdit()
        self.filter.setAccessibleName("Find a person")
        self.filter.setPlaceholderText("Name or address; Enter opens, Escape closes")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_changed)
        self.filter.installEventFilter(self)

        self.list = QListView()
        self.list.setAccessibleName("Persons")
        self.list.setModel(self.model)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setUniformItemSizes(True)
        self.list.activated.connect(self._activated)

        self.empty = QLabel("Nobody matches.")
        self.empty.setAccessibleName("Nobody matches")
        self.empty.hide()
        self.message = QPushButton()
        self.message.setAutoDefault(False)
        self.message.hide()
        self.message.clicked.connect(self._message)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.message)
        self.resize(420, 360)
        self._select_first()

    def _filter_changed(self, text: str) -> None:
        self.model.set_text(text)
        self._select_first()

    def _select_first(self) -> None:
        has_rows = self.model.rowCount() > 0
        address = self.new_address()
        self.empty.setVisible(not has_rows and address is None)
        self.message.setVisible(address is not None)
        if address is not None:
            self.message.setText(f"Message {address}…")
            self.message.setAccessibleName(f"Message {address}")
        if has_rows:
            self.list.setCurrentIndex(self.model.index(0, 0))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.filter and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            step = _MOVES.get(Qt.Key(event.key()))
            if step is not None:
                self._move(step)
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self.new_address() is not None:
                    self._message()
                else:
                    self._activated(self.list.currentIndex())
                return True
        return super().eventFilter(watched, event)

    def _move(self, step: int) -> None:
        count = self.model.rowCount()
        if not count:
            return
        current = self.list.currentIndex().row()
        row = min(max(current + step, 0), count - 1) if current >= 0 else 0
        self.list.setCurrentIndex(self.model.index(row, 0))

    def _activated(self, index: QModelIndex) -> None:
        person_id = self.model.person_id(index.row()) if index.isValid() else None
        room = self.model.room_key(index.row()) if index.isValid() else None
        if person_id is None and room is None:
            return
        self.accept()
        if person_id is not None:
            self.chosen.emit(person_id)
        else:
            self.room_chosen.emit(room)

    def new_address(self) -> str | None:
        """The typed text, when it is an address and matches nobody."""
        text = self.filter.text().strip()
        if self.model.rowCount() > 0 or not looks_like_address(text):
            return None
        return text

    def _message(self) -> None:
        address = self.new_address()
        if address is None:
            return
        self.accept()
        self.address_chosen.emit(address)
