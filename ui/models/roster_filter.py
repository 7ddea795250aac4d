"""Type-to-filter over the buddy list: a person matches on its name or any contact's name or address,
a room on its address or topic.

Matches against the keys the model precomputed (casefolded); never calls ``data()`` per row.

Fast on large lists (``bench/ui.py``: 10,000 persons): a person's key already holds its contacts' names
and addresses, so Qt's recursive filtering (which would descend into every rejected person's contacts,
three Python calls per contact) is off; a sphere or group shows when a person under it matches, which
this class works out itself. A new needle re-filters as one layout change (``invalidate``) rather than
Qt's row-by-row removals, each of which the tree view handles on its own.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt

from ui.models.roster_model import CONTACT, GROUP, PERSON, ROOM, SPHERE, Node, RosterModel, node_flags

Index = QModelIndex | QPersistentModelIndex


def _any_match(node: Node, needle: str) -> bool:
    for child in node.children:
        if child.kind in (PERSON, ROOM):
            if needle in child.key:
                return True
        elif child.kind == GROUP and _any_match(child, needle):
            return True
    return False


class RosterFilter(QSortFilterProxyModel):
    def __init__(self, model: RosterModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._needle = ""
        # The node behind the proxy index asked last, as (row, internal id, node): a relayout asks each
        # row's flags twice, then whether it has children. Forgotten on every change of the rows.
        self._last: tuple[int, int, Node] | None = None
        self.setRecursiveFilteringEnabled(False)
        self.setAutoAcceptChildRows(False)  # a sphere that shows does not show all its persons
        self.setSourceModel(model)
        # Without recursive filtering Qt does not look at a hidden sphere or group again when a person
        # under it appears or changes; do it here (only while filtering).
        model.rowsInserted.connect(lambda parent, _first, _last: self._recheck(parent))
        model.dataChanged.connect(lambda top_left, _bottom_right, _roles=(): self._recheck(top_left.parent()))
        model.rowsRemoved.connect(lambda _parent, _first, _last: self._refilter_if_filtering())
        for source in (self, model):  # (rows the proxy hides change without a signal of its own)
            for changing in (
                source.layoutAboutToBeChanged,
                source.modelAboutToBeReset,
                source.rowsAboutToBeInserted,
                source.rowsAboutToBeRemoved,
                source.rowsAboutToBeMoved,
            ):
                changing.connect(self._forget_last)

    @property
    def needle(self) -> str:
        return self._needle

    def set_text(self, text: str) -> None:
        needle = " ".join(text.split()).casefold()
        if needle != self._needle:
            self._needle = needle
            self.invalidate()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        needle = self._needle
        if not needle:
            return True
        node = self._model.child_node(source_row, source_parent)
        kind = node.kind
        if kind in (PERSON, ROOM):
            return needle in node.key
        if kind == CONTACT:
            return True  # its person matched (a person's key covers its contacts)
        return _any_match(node, needle)  # a sphere or group: shown when a person under it matches

    # -- what the tree asks of every row it lays out (10,000 after a clear) ----------------------------
    # Each answer here is one call into Python where Qt's own answer makes several (mapToSource calls
    # the model's ``index``, then its ``flags``; ``hasChildren`` builds the row's child mapping:
    # rowCount, columnCount, filterAcceptsRow per contact).

    def _forget_last(self, *_args: object) -> None:
        self._last = None

    def _node_at(self, index: Index) -> Node:
        last = self._last
        row, internal = index.row(), index.internalId()
        if last is not None and last[0] == row and last[1] == internal:
            return last[2]
        node = self._model.node(self.mapToSource(index))
        self._last = (row, internal, node)
        return node

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return super().flags(index)
        return node_flags(self._node_at(index))

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        # A person's contacts always show with it (its key covers theirs): its node answers.
        if parent.isValid() and parent.column() == 0:
            node = self._node_at(parent)
            if node.kind in (PERSON, CONTACT, ROOM):
                return bool(node.children)
        return super().hasChildren(parent)

    def containers(self) -> Iterator[QModelIndex]:
        """The proxy indexes of the spheres and groups shown (to expand them), without visiting persons."""
        for sphere in range(self._model.rowCount()):
            sphere_index = self._model.index(sphere, 0)
            shown = self.mapFromSource(sphere_index)
            if not shown.isValid():
                continue
            yield shown
            for row, child in enumerate(self._model.node(sphere_index).children):
                if child.kind != GROUP:
                    break  # groups sort before persons
                group = self.mapFromSource(self._model.index(row, 0, sphere_index))
                if group.isValid():
                    yield group

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

    # -- model changes while filtering ----------------------------------------------------------------

    def _recheck(self, source_parent: QModelIndex) -> None:
        """A person appeared or changed under ``source_parent``: if that sphere or group is hidden,
        it may have to show now."""
        if not self._needle or not source_parent.isValid():
            return
        if self._model.node(source_parent).kind not in (SPHERE, GROUP):
            return
        if not self.mapFromSource(source_parent).isValid():
            self._refilter_rows()

    def _refilter_if_filtering(self) -> None:
        """A person went: a sphere or group may now have no match left."""
        if self._needle:
            self._refilter_rows()

    def _refilter_rows(self) -> None:
        self.beginFilterChange()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
