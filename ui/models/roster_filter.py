"""Type-to-filter over the buddy list: a person matches on its name or any contact's name or address,
a room on its address or topic.

Matches against the keys the model precomputed (casefolded); never calls ``data()`` per row.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel

from ui.models.roster_model import CONTACT, PERSON, ROOM, RosterModel

Index = QModelIndex | QPersistentModelIndex


class RosterFilter(QSortFilterProxyModel):
    def __init__(self, model: RosterModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._needle = ""
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setSourceModel(model)

    @property
    def needle(self) -> str:
        return self._needle

    def set_text(self, text: str) -> None:
        needle = " ".join(text.split()).casefold()
        if needle != self._needle:
            self.beginFilterChange()
            self._needle = needle
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._needle:
            return True
        node = self._model.child_node(source_row, source_parent)
        if node.kind in (PERSON, CONTACT, ROOM):
            return self._needle in node.key
        return False  # spheres and groups show when a person under them matches

    def first_person(self, parent: QModelIndex | None = None) -> QModelIndex:
        """The first person row shown (a proxy index), depth first; invalid when none."""
        parent = parent or QModelIndex()
        for row in range(self.rowCount(parent)):
            index = self.index(row, 0, parent)
            kind = self._model.node(self.mapToSource(index)).kind
            if kind == PERSON:
                return index
            if kind not in (CONTACT, ROOM):
                found = self.first_person(index)
                if found.isValid():
                    return found
        return QModelIndex()
