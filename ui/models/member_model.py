"""The members of a room (their nicks), sorted; our own nick in bold and marked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

Index = QModelIndex | QPersistentModelIndex


class MemberModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._nicks: list[str] = []
        self._own: str | None = None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._nicks)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._nicks):
            return None
        nick = self._nicks[index.row()]
        own = nick == self._own
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{nick} (you)" if own else nick
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{nick}, that is you" if own else nick
        if role == Qt.ItemDataRole.FontRole and own:
            font = QFont()
            font.setBold(True)
            return font
        return None

    @property
    def nicks(self) -> list[str]:
        return list(self._nicks)

    def set_members(self, members: Iterable[str], own: str | None) -> None:
        nicks = sorted(set(members), key=lambda n: (n.casefold(), n))
        if nicks == self._nicks and own == self._own:
            return
        self.beginResetModel()
        self._nicks = nicks
        self._own = own
        self.endResetModel()
