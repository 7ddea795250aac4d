"""Group rooms: what each sync changed in a joined group room (``room_state``): ``RoomJoined`` the first
time (and when our display name changes), ``RoomMembers`` and ``RoomTopic``; leaving one is ``RoomLeft``,
with the reason when we were kicked or banned. ``join`` takes a room id or an alias and answers with the
room id."""

from __future__ import annotations

import logging

from aggregator.api import ConfigurationError, ConversationKey, RoomLeft
from protocols.matrix import room_state
from protocols.matrix.addresses import is_room_id, normalize_handle
from protocols.matrix.lib import Failure, Room
from protocols.matrix.session import Session

log = logging.getLogger(__name__)


class Rooms:
    def __init__(self, session: Session) -> None:
        self._s = session
        self.reset()

    def reset(self) -> None:
        self._announced: set[str] = set()
        self._facts = room_state.RoomFacts(self._s.account_id, self._s.user_id)

    def on_group_room(self, room: Room, conversation: ConversationKey, events: list[object]) -> None:
        """A sync's state and timeline events of a joined group room: the changes they make."""
        self._announced.add(room.room_id)
        for change in self._facts.changes(room, conversation, events):
            self._s.emit(change)

    def on_left(self, room_id: str, info: object) -> None:
        self._facts.forget(room_id)
        if room_id not in self._announced:
            return
        self._announced.discard(room_id)
        events = [*getattr(info, "state", []), *getattr(getattr(info, "timeline", None), "events", [])]
        self._s.emit(
            RoomLeft(
                account_id=self._s.account_id,
                conversation=ConversationKey.room(self._s.account_id, room_id),
                reason=room_state.leave_reason(events, self._s.user_id),
            )
        )

    async def join(self, room: str) -> ConversationKey:
        client = self._s.require_client()
        reply = await self._s.call(client.join(normalize_handle(room)))
        if isinstance(reply, Failure):
            raise self._s.error_reply(f"let you join {room}", reply)
        return ConversationKey.room(self._s.account_id, reply)

    async def leave(self, room: ConversationKey) -> None:
        client = self._s.require_client()
        reply = await self._s.call(client.room_leave(await self._room_id(room.handle)))
        if isinstance(reply, Failure):
            raise self._s.error_reply(f"let you leave {room.handle}", reply)

    async def set_topic(self, room: ConversationKey, topic: str) -> None:
        client = self._s.require_client()
        room_id = await self._room_id(room.handle)
        reply = await self._s.call(client.room_put_state(room_id, "m.room.topic", {"topic": topic}))
        if isinstance(reply, Failure):
            raise self._s.error_reply(f"set the topic of {room.handle}", reply)

    async def _room_id(self, handle: str) -> str:
        """The room id of a room id or alias (``#name:server``, asked of the homeserver)."""
        address = normalize_handle(handle)
        if not address.startswith("#"):
            if not is_room_id(address):
                raise ConfigurationError(f"{handle!r} is not a room id or alias")
            return address
        reply = await self._s.call(self._s.require_client().room_resolve_alias(address))
        if isinstance(reply, Failure):
            raise self._s.error_reply(f"find the room {address}", reply)
        return reply
