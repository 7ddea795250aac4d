"""Events the room directory publishes on the bus."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.api import ConversationKey
from aggregator.events import CoreEvent
from aggregator.rooms.records import Room


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomChanged(CoreEvent):
    """A room appeared or changed (joined, left, members, topic, a failed join)."""

    room: Room


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomRemoved(CoreEvent):
    """A room is gone from the directory (the user left it and does not want it any more)."""

    key: ConversationKey
