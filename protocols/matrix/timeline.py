"""What a sync brings for one joined room: its timeline (and the gap before it) as messages, typing
notices and read receipts. Edits (``m.replace``) and redactions are recorded, never applied (see
``mapping``); events nio could not decrypt are placeholders kept for a retry (``undecrypted.py``)."""

from __future__ import annotations

import logging

from aggregator.api import ConversationKind, TypingChanged
from protocols.matrix import lib, mapping
from protocols.matrix.catchup import Positions
from protocols.matrix.direct import DirectChats, display_name
from protocols.matrix.ignored import IgnoredUsers
from protocols.matrix.lib import Client, JoinedRoom, Room
from protocols.matrix.rooms import Rooms
from protocols.matrix.session import Session
from protocols.matrix.undecrypted import Undecrypted

log = logging.getLogger(__name__)


class Timelines:
    def __init__(
        self,
        session: Session,
        direct: DirectChats,
        rooms: Rooms,
        positions: Positions,
        undecrypted: Undecrypted,
        ignored: IgnoredUsers,
    ) -> None:
        self._s = session
        self._direct = direct
        self._rooms = rooms
        self._positions = positions
        self._undecrypted = undecrypted
        self._ignored = ignored
        self._typing: dict[str, frozenset[str]] = {}

    def reset(self) -> None:
        self._typing = {}

    def context(self, room: Room) -> mapping.RoomContext:
        return mapping.RoomContext(
            account_id=self._s.account_id,
            own_user_id=self._s.user_id,
            conversation=self._direct.conversation_for(room),
            display_name=lambda user_id: display_name(room, user_id),
        )

    def on_joined_room(self, client: Client, room_id: str, info: JoinedRoom, history: bool, gap: list[object]) -> None:
        room = client.room(room_id)
        if room is None:
            return
        self._direct.joined(room_id)
        context = self.context(room)
        conversation = context.conversation
        if conversation.kind is ConversationKind.ROOM:
            self._rooms.on_group_room(room, conversation, [*info.state, *info.timeline.events])
        for event in gap:
            if mapping.source_of(event).get("sender") in self._ignored:
                continue
            if lib.is_undecrypted(event):
                self._undecrypted.remember(room_id, event, True)
            self._s.emit_or_skip(mapping.room_event(event, context, is_backfill=True))
        for event in info.timeline.events:
            if mapping.source_of(event).get("sender") in self._ignored:
                continue  # a blocked user's (the server drops them too, but not in a sync under way)
            if lib.is_undecrypted(event):
                self._undecrypted.remember(room_id, event, history)
            self._s.emit_or_skip(mapping.room_event(event, context, is_backfill=history))
        newest = mapping.source_of(info.timeline.events[-1]).get("event_id") if info.timeline.events else None
        if isinstance(newest, str):
            self._positions.seen(room_id, newest)
        for event in info.ephemeral:
            if lib.is_typing_notice(event):
                now, changes = mapping.typing(event, context, self._typing.get(room_id, frozenset()))
                self._typing[room_id] = now
                for change in changes:
                    if not (isinstance(change, TypingChanged) and change.handle in self._ignored.users):
                        self._s.emit(change)
            elif lib.is_receipts(event):
                for change in mapping.read_receipts(event, context):
                    self._s.emit(change)
