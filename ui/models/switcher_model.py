"""The quick switcher's list: persons and rooms matching what was typed, open conversations first.

A person matches when the typed text (casefolded, spaces collapsed) is a prefix of its name or of a
word in it, a substring of its name or of one of its addresses, or (fuzzy) its letters appear in
the name in order. Open conversations come first (in tab order), then the better matches, then
persons with unread messages, then by name. A room matches by its name and address the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from aggregator.api import ConversationKey, PresenceKind
from aggregator.app.room_rows import RoomRow
from aggregator.app.rows import PersonRow
from ui.icons import presence_icon

Index = QModelIndex | QPersistentModelIndex

PERSON_ID_ROLE = Qt.ItemDataRole.UserRole + 1
OPEN_ROLE = Qt.ItemDataRole.UserRole + 2
ROOM_KEY_ROLE = Qt.ItemDataRole.UserRole + 3

#: How well a person matches (lower is better); None: no match.
NAME_PREFIX, WORD_PREFIX, NAME_SUBSTRING, ADDRESS_SUBSTRING, FUZZY = range(5)


def _subsequence(needle: str, text: str) -> bool:
    found = iter(text)
    return all(ch in found for ch in needle)


def match_rank(person: PersonRow, needle: str) -> int | None:
    """How ``person`` matches ``needle`` (already casefolded and collapsed); None when it does not."""
    if not needle:
        return NAME_PREFIX
    name = person.name.casefold()
    if name.startswith(needle):
        return NAME_PREFIX
    if any(word.startswith(needle) for word in name.split()):
        return WORD_PREFIX
    if needle in name:
        return NAME_SUBSTRING
    if any(needle in c.ref.handle.casefold() or needle in c.name.casefold() for c in person.contacts):
        return ADDRESS_SUBSTRING
    if _subsequence(needle.replace(" ", ""), name):
        return FUZZY
    return None


def room_rank(room: RoomRow, needle: str) -> int | None:
    """How ``room`` matches ``needle`` (its short name as a name, its address as an address)."""
    if not needle:
        return NAME_PREFIX
    name = room.short_name.casefold()
    if name.lstrip("#!").startswith(needle.lstrip("#!")):
        return NAME_PREFIX
    if needle in name:
        return NAME_SUBSTRING
    if needle in room.name.casefold():
        return ADDRESS_SUBSTRING
    return FUZZY if _subsequence(needle.replace(" ", ""), name) else None


@dataclass(frozen=True, slots=True)
class _Row:
    person: PersonRow | None
    is_open: bool
    room: RoomRow | None = None


class SwitcherModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._persons: list[PersonRow] = []
        self._open: list[int] = []
        self._rooms: list[RoomRow] = []
        self._open_rooms: list[ConversationKey] = []
        self._rows: list[_Row] = []
        self._needle = ""

    def set_persons(
        self,
        persons: Iterable[PersonRow],
        open_ids: Sequence[int] = (),
        rooms: Iterable[RoomRow] = (),
        open_rooms: Sequence[ConversationKey] = (),
    ) -> None:
        self._persons = list(persons)
        self._open = list(open_ids)
        self._rooms = list(rooms)
        self._open_rooms = list(open_rooms)
        self._refilter()

    def set_text(self, text: str) -> None:
        needle = " ".join(text.split()).casefold()
        if needle != self._needle:
            self._needle = needle
            self._refilter()

    def _refilter(self) -> None:
        ranked: list[tuple[tuple[int, int, int, str, int], _Row]] = []
        for person in self._persons:
            rank = match_rank(person, self._needle)
            if rank is None:
                continue
            is_open = person.id in self._open
            tab = self._open.index(person.id) if is_open else len(self._open)
            key = (tab, rank, -person.unread, person.name.casefold(), person.id)
            ranked.append((key, _Row(person, is_open)))
        opened = len(self._open) + len(self._open_rooms)
        for room in self._rooms:
            rank = room_rank(room, self._needle)
            if rank is None:
                continue
            is_open = room.key in self._open_rooms
            tab = len(self._open) + self._open_rooms.index(room.key) if is_open else opened
            key = (tab, rank, -room.unread, room.short_name.casefold(), 0)
            ranked.append((key, _Row(None, is_open, room)))
        ranked.sort(key=lambda pair: pair[0])
        self.beginResetModel()
        self._rows = [row for _key, row in ranked]
        self.endResetModel()

    def person_id(self, row: int) -> int | None:
        person = self._rows[row].person if 0 <= row < len(self._rows) else None
        return None if person is None else person.id

    def room_key(self, row: int) -> ConversationKey | None:
        room = self._rows[row].room if 0 <= row < len(self._rows) else None
        return None if room is None else room.key

    # -- Qt -----------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.parent().isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        person = row.person
        if person is None:
            return self._room_data(row, role)
        if role == Qt.ItemDataRole.DisplayRole:
            text = person.name
            if person.unread:
                text += f" ({person.unread} unread)"
            if row.is_open:
                text += ", open"
            # Two persons may share a name: the address and the sphere tell them apart.
            return f"{text}   \u2014 {person.best.handle} \u00b7 {person.sphere.value.capitalize()}"
        if role == Qt.ItemDataRole.DecorationRole:
            return presence_icon(person.presence)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(f"{c.ref.handle} ({c.protocol}: {c.account})" for c in person.contacts)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            addresses = ", ".join(c.ref.handle for c in person.contacts)
            return f"{person.presence.value}; {addresses}"
        if role == Qt.ItemDataRole.FontRole and row.is_open:
            font = QFont()
            font.setBold(True)
            return font
        if role == PERSON_ID_ROLE:
            return person.id
        if role == OPEN_ROLE:
            return row.is_open
        return None

    def _room_data(self, row: _Row, role: int) -> object:
        room = row.room
        assert room is not None
        if role == Qt.ItemDataRole.DisplayRole:
            text = room.short_name
            if room.unread:
                text += f" ({room.unread} unread)"
            if row.is_open:
                text += ", open"
            return f"{text}   \u2014 room {room.name} on {room.account}"
        if role == Qt.ItemDataRole.DecorationRole:
            return presence_icon(PresenceKind.AVAILABLE if room.joined else PresenceKind.OFFLINE)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Room {room.name} on {room.account} ({room.protocol})"
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return f"room, {'joined' if room.joined else 'not joined'}; {room.name}"
        if role == Qt.ItemDataRole.FontRole and row.is_open:
            font = QFont()
            font.setBold(True)
            return font
        if role == ROOM_KEY_ROLE:
            return room.key
        if role == OPEN_ROLE:
            return row.is_open
        return None
