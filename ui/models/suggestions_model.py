"""The core's merge suggestions as a list: each row names both persons, the reason and their contacts.

Updated in place (rows removed and inserted, never a reset), so the selection survives a refresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from aggregator.app.person_commands import SuggestionRow
from ui.models.roster_model import SPHERE_TITLES

Index = QModelIndex | QPersistentModelIndex

SUGGESTION_ROLE = Qt.ItemDataRole.UserRole + 1

Key = tuple[int, int]


def suggestion_text(row: SuggestionRow) -> str:
    """Both persons (with their sphere: the names are often the same), the reason, their contacts."""
    first = f"{row.person_name} ({SPHERE_TITLES[row.person_sphere]})"
    second = f"{row.other_name} ({SPHERE_TITLES[row.other_sphere]})"
    lines = [f"{first}  and  {second}: {row.reason}"]
    lines += [f"    {row.person_name}: {c}" for c in row.person_contacts]
    lines += [f"    {row.other_name}: {c}" for c in row.other_contacts]
    return "\n".join(lines)


class SuggestionsModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[SuggestionRow] = []

    @property
    def rows(self) -> list[SuggestionRow]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return suggestion_text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Merge {row.other_name} into {row.person_name}? ({row.reason})"
        if role == SUGGESTION_ROLE:
            return row
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def row_of(self, key: Key) -> int:
        return next((i for i, r in enumerate(self._rows) if r.key == key), -1)

    def remove(self, key: Key) -> None:
        i = self.row_of(key)
        if i >= 0:
            self.beginRemoveRows(QModelIndex(), i, i)
            del self._rows[i]
            self.endRemoveRows()

    def set_rows(self, rows: Sequence[SuggestionRow]) -> None:
        """Become ``rows`` (sorted by key): gone rows removed, new ones inserted, changed ones updated."""
        new = sorted(rows, key=lambda r: r.key)
        keys = {r.key for r in new}
        for i in range(len(self._rows) - 1, -1, -1):
            if self._rows[i].key not in keys:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()
        for i, row in enumerate(new):
            if i < len(self._rows) and self._rows[i].key == row.key:
                if self._rows[i] != row:
                    self._rows[i] = row
                    index = self.index(i, 0)
                    self.dataChanged.emit(index, index)
                continue
            self.beginInsertRows(QModelIndex(), i, i)
            self._rows.insert(i, row)
            self.endInsertRows()
