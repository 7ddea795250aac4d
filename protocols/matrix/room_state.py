"""What a group room's state means for the core: its members, topic and our nick (``RoomMembers``,
``RoomTopic``, ``RoomJoined``), reported when they change, and why we left it (``RoomLeft``).

nio keeps each joined room's state (``MatrixRoom``, typed as ``lib.Room``) up to date from the sync;
``RoomFacts`` remembers
what was reported per room so that a sync reports only the changes. A member is shown by display name
when it has one, else by user id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aggregator.api import AccountId, AdapterEvent, ConversationKey, RoomJoined, RoomMembers, RoomTopic
from protocols.matrix import mapping
from protocols.matrix.lib import Room

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reported:
    """What the core was last told about one room."""

    nick: str | None = None
    members: tuple[str, ...] | None = None
    topic: tuple[str, str | None] | None = None


def shown_name(room: Room, user_id: str) -> str:
    """The member's display name in ``room`` when it has one, else the user id."""
    user = room.users.get(user_id)
    name = getattr(user, "display_name", None)
    return name if isinstance(name, str) and name.strip() else user_id


def joined_members(room: Room) -> tuple[str, ...]:
    """The joined members (not the invited ones), by shown name, sorted case-insensitively."""
    names = [shown_name(room, user_id) for user_id, user in room.users.items() if not getattr(user, "invited", False)]
    return tuple(sorted(names, key=lambda n: (n.casefold(), n)))


def topic_setter(room: Room, events: Iterable[object]) -> str | None:
    """Who set the newest ``m.room.topic`` among ``events`` (state, then timeline), by shown name."""
    sender = None
    for event in events:
        source = mapping.source_of(event)
        if source.get("type") == "m.room.topic" and source.get("state_key") == "":
            found = source.get("sender")
            sender = found if isinstance(found, str) else sender
    return shown_name(room, sender) if sender is not None else None


def leave_reason(events: Iterable[object], own_user_id: str) -> str:
    """Why we are out of a room, from our own newest membership event: "" when we left ourselves."""
    reason = ""
    for event in events:
        source = mapping.source_of(event)
        if source.get("type") != "m.room.member" or source.get("state_key") != own_user_id:
            continue
        content = source.get("content")
        membership = content.get("membership") if isinstance(content, Mapping) else None
        sender = source.get("sender")
        why = content.get("reason") if isinstance(content, Mapping) else None
        if sender == own_user_id or membership not in ("leave", "ban"):
            reason = ""
            continue
        verb = "banned" if membership == "ban" else "removed from the room"
        reason = f"{verb} by {sender}" + (f": {why}" if isinstance(why, str) and why.strip() else "")
    return reason


class RoomFacts:
    """Per joined group room, what was last reported; ``changes`` gives the events for what is new."""

    def __init__(self, account_id: AccountId, own_user_id: str) -> None:
        self._account_id = account_id
        self._own = own_user_id
        self._reported: dict[str, Reported] = {}

    def clear(self) -> None:
        self._reported.clear()

    def forget(self, room_id: str) -> None:
        self._reported.pop(room_id, None)

    def changes(self, room: Room, conversation: ConversationKey, events: Iterable[object]) -> list[AdapterEvent]:
        """``RoomJoined`` (first time, or our nick changed), ``RoomMembers`` and ``RoomTopic`` as needed.
        ``events``: the sync's state and timeline events of the room, oldest first."""
        before = self._reported.get(room.room_id, Reported())
        out: list[AdapterEvent] = []
        nick = shown_name(room, self._own)
        if nick != before.nick:
            out.append(RoomJoined(account_id=self._account_id, conversation=conversation, nick=nick))
        members = joined_members(room)
        if members != before.members:
            out.append(RoomMembers(account_id=self._account_id, conversation=conversation, members=members))
        topic_text = room.topic if isinstance(room.topic, str) else ""
        set_by = topic_setter(room, events)
        if set_by is None and before.topic is not None and before.topic[0] == topic_text:
            set_by = before.topic[1]  # the same topic, set earlier: keep who set it
        topic = (topic_text, set_by)
        if topic != before.topic and (before.topic is not None or topic_text):
            out.append(
                RoomTopic(account_id=self._account_id, conversation=conversation, topic=topic_text, set_by=set_by)
            )
        self._reported[room.room_id] = Reported(nick, members, topic)
        return out
