"""The merged buddy list as a tree: sphere -> group (when the roster has groups) -> person -> contact.

Rooms (group chats) go in a "Rooms" group first in the sphere of their account: sphere -> Rooms -> room.

A person in several groups is shown under each of them (as the core's ``buddy_list`` lists it): one
tree node per group, each with its own contact nodes, all carrying the same ``PersonRow``. The
sphere's count counts the person once; ``person_index`` is its first node.

Fed with ``PersonRow`` values (built on the engine thread). Each node keeps a casefolded filter key,
computed once, so the filter proxy never calls ``data()`` from Python per row.

Drag and drop: a person row can be dragged (``PERSON_MIME``, its id). Dropped on another person (or
one of its contacts) it asks to merge into that person; on a sphere or group header (or between the
persons under one) it asks to move there. The model changes nothing itself: it emits
``drop_requested`` with a ``DropRequest``, and the change goes to the core, whose events come back.
"""

from __future__ import annotations

import bisect
import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from aggregator.api import ConversationKey, PresenceKind, Sphere
from aggregator.app.room_rows import RoomRow
from aggregator.app.rows import ContactRow, PersonRow
from aggregator.app.types import PersonId
from ui.icons import presence_icon

Index = QModelIndex | QPersistentModelIndex

KIND_ROLE = Qt.ItemDataRole.UserRole + 1
PERSON_ID_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
PROTOCOLS_ROLE = Qt.ItemDataRole.UserRole + 4
UNREAD_ROLE = Qt.ItemDataRole.UserRole + 5
PRESENCE_ROLE = Qt.ItemDataRole.UserRole + 6
CONTACT_ROLE = Qt.ItemDataRole.UserRole + 7
ROOM_KEY_ROLE = Qt.ItemDataRole.UserRole + 8
MEMBERS_ROLE = Qt.ItemDataRole.UserRole + 9

SPHERE, GROUP, PERSON, CONTACT, ROOM = "sphere", "group", "person", "contact", "room"


class _RoomsGroup:
    """The payload of a sphere's "Rooms" group: never equal to a roster group's name (a str)."""

    def __str__(self) -> str:
        return "Rooms"


ROOMS_GROUP = _RoomsGroup()
SPHERE_TITLES = {Sphere.WORK: "Work", Sphere.PERSONAL: "Personal"}

PERSON_MIME = "application/x-aggregator-person-ids"

_ids = itertools.count(1)


class DropKind(enum.Enum):
    MERGE = "merge"  # into ``target``
    SPHERE = "sphere"  # right under ``sphere`` (out of the user's groups)
    GROUP = "group"  # into the group ``group`` of ``sphere``


@dataclass(frozen=True, slots=True)
class DropRequest:
    """What a drop of ``persons`` asks for; carried out (after confirming a merge) by the window."""

    persons: tuple[PersonId, ...]
    kind: DropKind
    sphere: Sphere | None = None
    group: str | None = None
    target: PersonId | None = None


_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_SELECTABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_FLAGS: dict[str, Qt.ItemFlag] = {
    PERSON: _SELECTABLE | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled,
    SPHERE: _SELECTABLE | Qt.ItemFlag.ItemIsDropEnabled,
    GROUP: _SELECTABLE | Qt.ItemFlag.ItemIsDropEnabled,
    CONTACT: _SELECTABLE | Qt.ItemFlag.ItemNeverHasChildren,
    ROOM: _SELECTABLE | Qt.ItemFlag.ItemNeverHasChildren,
}


class Node:
    __slots__ = ("children", "id", "key", "kind", "parent", "payload", "sort_key")

    def __init__(self, kind: str, payload: Any, parent: Node | None, sort_key: tuple[Any, ...], key: str = "") -> None:
        self.id = next(_ids)
        self.kind = kind
        self.payload = payload
        self.parent = parent
        self.children: list[Node] = []
        self.sort_key = sort_key
        self.key = key  # casefolded text the filter matches against

    def row(self) -> int:
        assert self.parent is not None
        siblings = self.parent.children
        # Siblings are kept sorted by ``sort_key`` (a sphere holds thousands of persons): a bisection,
        # not a scan; contacts share one key and fall back to the scan (a person has a few).
        at = bisect.bisect_left(siblings, self.sort_key, key=_by_sort_key)
        if at < len(siblings) and siblings[at] is self:
            return at
        return siblings.index(self)


_by_sort_key = attrgetter("sort_key")


def node_flags(node: Node) -> Qt.ItemFlag:
    """``RosterModel.flags`` of the row of ``node`` (for the filter proxy)."""
    return _FLAGS[node.kind]


def _person_key(row: PersonRow) -> str:
    parts = [row.name]
    for c in row.contacts:
        parts += (c.name, c.ref.handle)
    return "\n".join(parts).casefold()


def _person_sort(row: PersonRow) -> tuple[Any, ...]:
    return (1, row.name.casefold(), row.id)


def _room_sort(row: RoomRow) -> tuple[Any, ...]:
    return (row.name.casefold(), row.key.account_id, row.key.handle)


def _room_key(row: RoomRow) -> str:
    return f"{row.name}\n{row.key.handle}\n{row.topic}".casefold()


class RosterModel(QAbstractItemModel):
    drop_requested = Signal(object)  # DropRequest

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = Node("root", None, None, ())
        self._nodes: dict[int, Node] = {}
        self._persons: dict[PersonId, list[Node]] = {}  # every node of the person, one per group
        self._rooms: dict[ConversationKey, Node] = {}
        self._sphere_unread: dict[Sphere, int] = {}
        # Distinct persons per sphere, [all, online]: kept as persons come, change and go, so a sphere's
        # title (asked on every unread change, and by the delegate's size hint) never walks its persons.
        self._tally: dict[Sphere, list[int]] = {}
        for order, sphere in enumerate((Sphere.WORK, Sphere.PERSONAL)):
            node = Node(SPHERE, sphere, self._root, (order,))
            self._root.children.append(node)
            self._nodes[node.id] = node

    # -- Qt's model interface -----------------------------------------------------------------------

    def _node(self, index: Index) -> Node:
        if not index.isValid():
            return self._root
        return self._nodes[index.internalId()]

    def node(self, index: Index) -> Node:
        return self._node(index)

    def child_node(self, row: int, parent: Index) -> Node:
        """The node at ``row`` under ``parent`` (for the filter proxy: no ``data()`` round trip)."""
        return self._node(parent).children[row]

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column != 0 or row < 0:
            return QModelIndex()
        pid = parent.internalId()  # 0: the root (an invalid index); a node's id is never 0
        children = (self._nodes[pid] if pid else self._root).children
        if row >= len(children):
            return QModelIndex()
        return self.createIndex(row, 0, children[row].id)

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node = self._nodes[index.internalId()]
        parent = node.parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(parent.row(), 0, parent.id)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.column() > 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 1

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if not parent.isValid():
            return bool(self._root.children)
        return parent.column() == 0 and bool(self._nodes[parent.internalId()].children)

    def flags(self, index: Index) -> Qt.ItemFlag:
        # Called for every row the tree lays out (11,000 per relayout with 10,000 persons): one lookup.
        if not index.isValid():
            return _NO_FLAGS
        return _FLAGS[self._nodes[index.internalId()].kind]

    # -- drag and drop ------------------------------------------------------------------------------

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [PERSON_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids = list(dict.fromkeys(n.payload.id for i in indexes if i.isValid() and (n := self._node(i)).kind == PERSON))
        data = QMimeData()
        if ids:
            data.setData(PERSON_MIME, QByteArray(",".join(map(str, ids)).encode("ascii")))
        return data

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        return self.drop_request(data, action, row, parent) is not None

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        request = self.drop_request(data, action, row, parent)
        if request is None:
            return False
        self.drop_requested.emit(request)
        return True

    def drop_request(self, data: QMimeData, action: Qt.DropAction, row: int, parent: Index) -> DropRequest | None:
        """What dropping ``data`` on ``parent`` (at ``row`` under it, or on it when ``row`` is -1) asks
        for; None when it asks for nothing (not a person, onto itself, already there)."""
        if action not in (Qt.DropAction.MoveAction, Qt.DropAction.CopyAction) or not data.hasFormat(PERSON_MIME):
            return None
        try:
            raw = bytes(data.data(PERSON_MIME).data()).decode("ascii")
            ids = tuple(int(part) for part in raw.split(","))
        except ValueError:
            return None
        if not ids or any(pid not in self._persons for pid in ids):
            return None
        node = self._node(parent)
        if node.kind == CONTACT:
            node = node.parent or self._root
        rows: list[PersonRow] = [self._persons[pid][0].payload for pid in ids]
        if node.kind == PERSON:
            target: PersonRow = node.payload
            return None if target.id in ids else DropRequest(ids, DropKind.MERGE, target=target.id)
        if node.kind == SPHERE:
            sphere: Sphere = node.payload
            if all(r.sphere is sphere and not r.local_groups for r in rows):
                return None
            return DropRequest(ids, DropKind.SPHERE, sphere=sphere)
        if node.kind == GROUP and node.parent is not None:
            group: str = node.payload
            sphere = node.parent.payload
            if all(r.sphere is sphere and r.local_groups == (group,) for r in rows):
                return None
            return DropRequest(ids, DropKind.GROUP, sphere=sphere, group=group)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._nodes[index.internalId()]
        if role == KIND_ROLE:
            return node.kind
        if node.kind == PERSON:
            return self._person_data(node.payload, role)
        if node.kind == CONTACT:
            return self._contact_data(node.payload, role)
        if node.kind == ROOM:
            return self._room_data(node.payload, role)
        if role == Qt.ItemDataRole.DisplayRole:
            if node.kind == SPHERE:
                return self._sphere_title(node)
            if node.payload is ROOMS_GROUP:
                return f"Rooms  ({len(node.children)})"
            return str(node.payload)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        return None

    def _sphere_title(self, node: Node) -> str:
        title = SPHERE_TITLES[node.payload]
        persons, online = self._tally.get(node.payload, (0, 0))
        text = f"{title}  ({online}/{persons})"
        unread = self._sphere_unread.get(node.payload, 0)
        return f"{text}  · {unread} unread" if unread else text

    def _count(self, row: PersonRow, delta: int) -> None:
        """Counts ``row`` in (1) or out (-1) of its sphere's tally (once per person, not per node)."""
        tally = self._tally.setdefault(row.sphere, [0, 0])
        tally[0] += delta
        if row.presence.is_online:
            tally[1] += delta

    @staticmethod
    def _person_data(row: PersonRow, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return row.name
        if role == Qt.ItemDataRole.DecorationRole:
            return presence_icon(row.presence)
        if role == PERSON_ID_ROLE:
            return row.id
        if role == STATUS_ROLE:
            return row.status
        if role == PROTOCOLS_ROLE:
            return " · ".join(row.protocols)
        if role == UNREAD_ROLE:
            return row.unread
        if role == PRESENCE_ROLE:
            return row.presence.value
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            text = f"{row.name}: {row.presence.value}"
            if row.status:
                text += f" ({row.status})"
            if row.unread:
                text += f", {row.unread} unread"
            return text + "\n" + "\n".join(f"{c.ref.handle} on {c.account}" for c in row.contacts)
        return None

    @staticmethod
    def _contact_data(row: ContactRow, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return row.ref.handle
        if role == Qt.ItemDataRole.DecorationRole:
            return presence_icon(row.presence)
        if role == STATUS_ROLE:
            return row.status
        if role == PROTOCOLS_ROLE:
            return f"{row.protocol}: {row.account}"
        if role == PRESENCE_ROLE:
            return row.presence.value
        if role == CONTACT_ROLE:
            return row.ref
        if role == UNREAD_ROLE:
            return 0
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{row.name} <{row.ref.handle}> on {row.account} ({row.protocol}): {row.presence.value}"
        return None

    @staticmethod
    def _room_data(row: RoomRow, role: int) -> Any:
        count = f"{len(row.members)} member{'s' if len(row.members) != 1 else ''}"
        if role == Qt.ItemDataRole.DisplayRole:
            return row.short_name
        if role == Qt.ItemDataRole.DecorationRole:
            return presence_icon(PresenceKind.AVAILABLE if row.joined else PresenceKind.OFFLINE)
        if role == STATUS_ROLE:
            return row.topic
        if role == PROTOCOLS_ROLE:
            return count if row.joined else "not joined"
        if role == MEMBERS_ROLE:
            return len(row.members)
        if role == ROOM_KEY_ROLE:
            return row.key
        if role == UNREAD_ROLE:
            return row.unread
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            state = f"joined as {row.nick}, {count}" if row.joined else "not joined"
            if row.error:
                state += f" ({row.error})"
            if row.unread:
                state += f", {row.unread} unread"
            text = f"Room {row.name} on {row.account} ({row.protocol}): {state}"
            return text + (f"\nTopic: {row.topic}" if row.topic else "")
        return None

    # -- feeding ------------------------------------------------------------------------------------

    def sphere_index(self, sphere: Sphere) -> QModelIndex:
        for row, node in enumerate(self._root.children):
            if node.payload == sphere:
                return self.createIndex(row, 0, node.id)
        return QModelIndex()

    def person_index(self, person_id: PersonId) -> QModelIndex:
        """The person's first node (under its first group)."""
        found = self.person_indexes(person_id)
        return found[0] if found else QModelIndex()

    def person_indexes(self, person_id: PersonId) -> list[QModelIndex]:
        """Every node of the person: one per group it is shown under."""
        return [self.createIndex(n.row(), 0, n.id) for n in self._persons.get(person_id, [])]

    def person(self, person_id: PersonId) -> PersonRow | None:
        nodes = self._persons.get(person_id)
        return nodes[0].payload if nodes else None

    def persons(self) -> list[PersonRow]:
        return [nodes[0].payload for nodes in self._persons.values()]

    def set_persons(self, rows: Iterable[PersonRow]) -> None:
        self.beginResetModel()
        self._persons.clear()
        self._nodes = {}
        for sphere in self._root.children:
            sphere.children = [c for c in sphere.children if c.payload is ROOMS_GROUP]
            self._register(sphere)
        # One pass, then one sort per sphere and group (not an ordered insert per person: 10,000 of
        # them took ~0.2 s).
        containers: dict[tuple[Sphere, str | None], Node] = {}
        for row in rows:
            names: list[str | None] = [*dict.fromkeys(row.shown_groups())] or [None]
            for name in names:
                parent = containers.get((row.sphere, name))
                if parent is None:
                    parent = (
                        self._sphere_node(row.sphere)
                        if name is None
                        else self._group_node(row.sphere, name, create_silently=True)
                    )
                    containers[(row.sphere, name)] = parent
                parent.children.append(self._make_person(row, parent))
        for parent in [*self._root.children, *containers.values()]:
            parent.children.sort(key=_by_sort_key)
        self._tally.clear()
        for nodes in self._persons.values():
            self._count(nodes[0].payload, 1)
        self.endResetModel()

    def upsert(self, row: PersonRow) -> None:
        nodes = self._persons.get(row.id)
        if not nodes:
            self._insert_person(row)
            return
        old: PersonRow = nodes[0].payload
        same_place = (
            old.sphere == row.sphere
            and old.shown_groups() == row.shown_groups()
            and old.name.casefold() == row.name.casefold()
        )
        if not same_place:
            self.remove(row.id)
            self._insert_person(row)
            return
        self._count(old, -1)
        self._count(row, 1)
        for node in nodes:
            self._update_person(node, old, row)
        self._sphere_changed(row.sphere)

    def _update_person(self, node: Node, old: PersonRow, row: PersonRow) -> None:
        node.payload = row
        node.key = _person_key(row)
        index = self.createIndex(node.row(), 0, node.id)
        if tuple(c.ref for c in old.contacts) != tuple(c.ref for c in row.contacts):
            if node.children:
                self.beginRemoveRows(index, 0, len(node.children) - 1)
                for child in node.children:
                    del self._nodes[child.id]
                node.children = []
                self.endRemoveRows()
            if row.contacts:
                self.beginInsertRows(index, 0, len(row.contacts) - 1)
                node.children = self._contact_nodes(row, node)
                self.endInsertRows()
        else:
            for child, contact in zip(node.children, row.contacts, strict=True):
                child.payload = contact
            if node.children:
                self.dataChanged.emit(self.index(0, 0, index), self.index(len(node.children) - 1, 0, index))
        self.dataChanged.emit(index, index)

    def set_unread(self, person_id: PersonId, unread: int) -> None:
        nodes = self._persons.get(person_id, [])
        if not nodes or nodes[0].payload.unread == unread:
            return
        row = replace(nodes[0].payload, unread=unread)
        for node in nodes:
            node.payload = row
            index = self.createIndex(node.row(), 0, node.id)
            self.dataChanged.emit(index, index, [UNREAD_ROLE, Qt.ItemDataRole.ToolTipRole])

    def set_sphere_unread(self, sphere: Sphere, unread: int) -> None:
        if self._sphere_unread.get(sphere, 0) != unread:
            self._sphere_unread[sphere] = unread
            self._sphere_changed(sphere)

    def remove(self, person_id: PersonId) -> None:
        nodes = self._persons.pop(person_id, [])
        if nodes:
            self._count(nodes[0].payload, -1)
        for node in nodes:
            self._remove_node(node)
        if nodes:
            self._sphere_changed(nodes[0].payload.sphere)

    def _remove_node(self, node: Node) -> None:
        """Take one person node out (and its group, when that was its last person)."""
        parent = node.parent
        assert parent is not None
        parent_index = QModelIndex() if parent is self._root else self.createIndex(parent.row(), 0, parent.id)
        row = node.row()
        self.beginRemoveRows(parent_index, row, row)
        del parent.children[row]
        self._forget(node)
        self.endRemoveRows()
        if parent.kind == GROUP and not parent.children:
            grand = parent.parent
            assert grand is not None
            grow = parent.row()
            self.beginRemoveRows(self.createIndex(grand.row(), 0, grand.id), grow, grow)
            del grand.children[grow]
            del self._nodes[parent.id]
            self.endRemoveRows()

    # -- rooms --------------------------------------------------------------------------------------

    def room(self, key: ConversationKey) -> RoomRow | None:
        node = self._rooms.get(key)
        return None if node is None else node.payload

    def rooms(self) -> list[RoomRow]:
        return [n.payload for n in self._rooms.values()]

    def room_index(self, key: ConversationKey) -> QModelIndex:
        node = self._rooms.get(key)
        return QModelIndex() if node is None else self.createIndex(node.row(), 0, node.id)

    def set_rooms(self, rows: Iterable[RoomRow]) -> None:
        self.beginResetModel()
        for node in self._rooms.values():
            self._forget(node)
        self._rooms.clear()
        for sphere in self._root.children:
            for group in [c for c in sphere.children if c.payload is ROOMS_GROUP]:
                self._nodes.pop(group.id, None)
                sphere.children.remove(group)
        for row in rows:
            group = self._rooms_group(row.sphere, create_silently=True)
            node = self._make_room(row, group)
            bisect.insort(group.children, node, key=lambda n: n.sort_key)
        self.endResetModel()

    def upsert_room(self, row: RoomRow) -> None:
        node = self._rooms.get(row.key)
        if node is not None:
            old: RoomRow = node.payload
            if old.sphere == row.sphere and _room_sort(old) == _room_sort(row):
                node.payload = row
                node.key = _room_key(row)
                index = self.createIndex(node.row(), 0, node.id)
                self.dataChanged.emit(index, index)
                return
            self.remove_room(row.key)
        group = self._rooms_group(row.sphere)
        key = _room_sort(row)
        position = bisect.bisect(group.children, key, key=lambda n: n.sort_key)
        self.beginInsertRows(self.createIndex(group.row(), 0, group.id), position, position)
        group.children.insert(position, self._make_room(row, group))
        self.endInsertRows()
        self._group_changed(group)

    def remove_room(self, key: ConversationKey) -> None:
        node = self._rooms.pop(key, None)
        if node is None:
            return
        group = node.parent
        assert group is not None and group.parent is not None
        row = node.row()
        self.beginRemoveRows(self.createIndex(group.row(), 0, group.id), row, row)
        del group.children[row]
        self._forget(node)
        self.endRemoveRows()
        if group.children:
            self._group_changed(group)
            return
        sphere = group.parent
        grow = group.row()
        self.beginRemoveRows(self.createIndex(sphere.row(), 0, sphere.id), grow, grow)
        del sphere.children[grow]
        del self._nodes[group.id]
        self.endRemoveRows()

    def _rooms_group(self, sphere: Sphere, *, create_silently: bool = False) -> Node:
        parent = self._sphere_node(sphere)
        for child in parent.children:
            if child.payload is ROOMS_GROUP:
                return child
        group = Node(GROUP, ROOMS_GROUP, parent, (-1,))
        self._nodes[group.id] = group
        if not create_silently:
            self.beginInsertRows(self.createIndex(parent.row(), 0, parent.id), 0, 0)
        parent.children.insert(0, group)
        if not create_silently:
            self.endInsertRows()
        return group

    def _make_room(self, row: RoomRow, group: Node) -> Node:
        node = Node(ROOM, row, group, _room_sort(row), _room_key(row))
        self._nodes[node.id] = node
        self._rooms[row.key] = node
        return node

    def _group_changed(self, group: Node) -> None:
        index = self.createIndex(group.row(), 0, group.id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    # -- internals ----------------------------------------------------------------------------------

    def _register(self, node: Node) -> None:
        self._nodes[node.id] = node
        for child in node.children:
            self._register(child)

    def _forget(self, node: Node) -> None:
        self._nodes.pop(node.id, None)
        for child in node.children:
            self._forget(child)

    def _sphere_node(self, sphere: Sphere) -> Node:
        return next(n for n in self._root.children if n.payload == sphere)

    def _sphere_changed(self, sphere: Sphere) -> None:
        index = self.sphere_index(sphere)
        if index.isValid():
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    def _containers(self, row: PersonRow, *, create_silently: bool = False) -> list[Node]:
        """The nodes a person goes under: its sphere, or each of its groups there (created as needed)."""
        groups = row.shown_groups()
        if not groups:
            return [self._sphere_node(row.sphere)]
        return [self._group_node(row.sphere, name, create_silently=create_silently) for name in dict.fromkeys(groups)]

    def _group_node(self, sphere_of: Sphere, name: str, *, create_silently: bool) -> Node:
        sphere = self._sphere_node(sphere_of)
        for child in sphere.children:
            if child.kind == GROUP and child.payload == name:
                return child
        group = Node(GROUP, name, sphere, (0, name.casefold()))
        self._nodes[group.id] = group
        position = bisect.bisect(sphere.children, group.sort_key, key=lambda n: n.sort_key)
        if not create_silently:
            self.beginInsertRows(self.createIndex(sphere.row(), 0, sphere.id), position, position)
        sphere.children.insert(position, group)
        if not create_silently:
            self.endInsertRows()
        return group

    def _contact_nodes(self, row: PersonRow, parent: Node) -> list[Node]:
        nodes = []
        for contact in row.contacts:
            child = Node(CONTACT, contact, parent, ())  # no key: the person's key covers its contacts
            self._nodes[child.id] = child
            nodes.append(child)
        return nodes

    def _make_person(self, row: PersonRow, parent: Node) -> Node:
        node = Node(PERSON, row, parent, _person_sort(row), _person_key(row))
        node.children = self._contact_nodes(row, node)
        self._nodes[node.id] = node
        self._persons.setdefault(row.id, []).append(node)
        return node

    def _insert_person(self, row: PersonRow) -> None:
        key = _person_sort(row)
        self._count(row, 1)
        for parent in self._containers(row):
            position = bisect.bisect(parent.children, key, key=lambda n: n.sort_key)
            parent_index = self.createIndex(parent.row(), 0, parent.id)
            self.beginInsertRows(parent_index, position, position)
            node = self._make_person(row, parent)
            parent.children.insert(position, node)
            self.endInsertRows()
        self._sphere_changed(row.sphere)
