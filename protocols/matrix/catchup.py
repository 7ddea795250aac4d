"""History catch-up: the positions a restart resumes from, the gaps of ``limited`` timelines, and
``fetch_history``.

The sync token is a catch-up position (``SupportsResume``, ``positions.py``): after the events of a
sync, ``reach`` emits ``PositionReached`` with the rooms' newest events and then the token, so the core
stores the token only after those events; before each connect the core hands back what it stored.

Backfill: when a sync's timeline of a room is ``limited`` (more happened than it holds), the gap is
paged back through ``/messages`` from the timeline's ``prev_batch`` down to the newest event seen in the
room before (a position per room, next to the sync token), the previous sync's position, or
``MAX_BACKFILL`` events (a warning), and emitted oldest first as backfill before the timeline.
``fetch_history`` pages back from the room's current end. The core deduplicates by event id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from aggregator.api import AccountError, AdapterEvent, MessageReceived, PositionReached, ResumePosition
from protocols.matrix import lib, mapping, positions
from protocols.matrix.lib import Client, Failure, JoinedRoom, Room
from protocols.matrix.session import Session
from protocols.matrix.undecrypted import Undecrypted

log = logging.getLogger(__name__)

#: Events per ``/messages`` request, and at most this many events backfilled into one gap of a room.
BACKFILL_PAGE = 100
MAX_BACKFILL = 1000


class Positions:
    """Where the next connect resumes: what the core stored (``resume_from``), then what was reached."""

    def __init__(self, session: Session) -> None:
        self._s = session
        self._stored: dict[str, str] = positions.read_legacy(session.data_dir)
        # Room id -> the id of the newest timeline event seen in it, saved with the sync token: a gap in a
        # ``limited`` timeline is backfilled back to it.
        self.last_seen: dict[str, str] = {}
        self._seen_changed: set[str] = set()  # rooms whose newest event moved in the sync being handled

    def resume_from(self, stored: Mapping[str, str]) -> None:
        data_dir = self._s.data_dir
        legacy = positions.read_legacy(data_dir)
        if positions.SYNC_STREAM in stored:
            self._stored = dict(stored)
            if legacy:
                positions.remove_legacy(data_dir)
        else:
            self._stored = {**legacy, **stored}

    def sync_token(self, client: Client) -> str | None:
        """The stored sync token of this login (None: sync afresh); the rooms' newest events with it."""
        self.last_seen = positions.last_seen(self._stored)
        self._seen_changed.clear()
        return positions.sync_token(self._stored, self._s.user_id, client.device_id)

    def seen(self, room_id: str, event_id: str) -> None:
        self.last_seen[room_id] = event_id
        self._seen_changed.add(room_id)

    def reach(self, client: Client, token: str) -> None:
        """Reports the positions this sync reached: the rooms' newest events, then the token (in this
        order, each after the events it covers, so that the core never stores a token ahead of them)."""
        reached = [
            ResumePosition(positions.room_stream(room_id), self.last_seen[room_id])
            for room_id in sorted(self._seen_changed)
            if room_id in self.last_seen
        ]
        self._seen_changed.clear()
        reached.append(
            ResumePosition(positions.SYNC_STREAM, positions.encode_sync(self._s.user_id, client.device_id, token))
        )
        for position in reached:
            self._stored[position.stream] = position.value
            self._s.emit(PositionReached(account_id=self._s.account_id, position=position))


class History:
    """Missed and older events of a room, paged back through ``/messages``."""

    def __init__(
        self,
        session: Session,
        positions: Positions,
        undecrypted: Undecrypted,
        context: Callable[[Room], mapping.RoomContext],
    ) -> None:
        self._s = session
        self._positions = positions
        self._undecrypted = undecrypted
        self._context = context

    async def fill_gap(self, client: Client, room_id: str, info: JoinedRoom, since: str | None) -> list[object]:
        """The events of ``room_id`` that a ``limited`` sync timeline left out, oldest first: paged back
        through ``/messages`` from the timeline's ``prev_batch`` to the newest event seen before, the
        previous sync's position or ``MAX_BACKFILL`` events. A failure is a warning (the gap stays)."""
        known = {mapping.source_of(event).get("event_id") for event in info.timeline.events}
        last_seen = self._positions.last_seen.get(room_id)
        if last_seen is not None and last_seen in known:
            return []
        events: list[object] = []
        token = info.timeline.prev_batch
        try:
            while True:
                reply = await self._s.call(client.room_messages(room_id, start=token, end=since, limit=BACKFILL_PAGE))
                if isinstance(reply, Failure):
                    self._s.warn(f"could not fetch the missed history of {room_id}: {reply.describe()}")
                    break
                for event in reply.chunk:
                    if mapping.source_of(event).get("event_id") == last_seen:
                        return events[::-1]
                    events.append(event)
                if len(events) > MAX_BACKFILL:
                    self._s.warn(
                        f"more than {MAX_BACKFILL} events were missed in {room_id}; the older ones are left out"
                    )
                    return events[:MAX_BACKFILL][::-1]
                if not reply.chunk or not reply.end or reply.end == token:
                    break
                token = reply.end
        except AccountError as exc:
            self._s.warn(f"could not fetch the missed history of {room_id}: {exc}")
        return events[::-1]

    async def fetch(self, client: Client, room: Room, handle: str, after: datetime | None, limit: int) -> int:
        """Emits up to ``limit`` messages of ``room`` (``is_backfill``), oldest first: the newest ones, paged
        back from the room's current end down to ``after`` (exclusive) when given. Returns the count."""
        room_id = room.room_id
        context = self._context(room)
        after_ms = after.timestamp() * 1000 if after is not None else None
        found: list[tuple[object, AdapterEvent]] = []
        count = 0
        token = client.next_batch
        while count < limit:
            reply = await self._s.call(client.room_messages(room_id, start=token, end=None, limit=BACKFILL_PAGE))
            if isinstance(reply, Failure):
                raise self._s.error_reply(f"give the history of {handle}", reply)
            for event in reply.chunk:
                stamp = mapping.source_of(event).get("origin_server_ts")
                if after_ms is not None and isinstance(stamp, int) and stamp <= after_ms:
                    count = limit  # reached ``after``: stop paging
                    break
                mapped = mapping.room_event(event, context, is_backfill=True)
                if mapped is None:
                    continue
                found.append((event, mapped))
                if isinstance(mapped, MessageReceived):
                    count += 1
                    if count >= limit:
                        break
            if not reply.chunk or not reply.end or reply.end == token:
                break
            token = reply.end
        emitted = 0
        for event, mapped in reversed(found):
            if lib.is_undecrypted(event):
                self._undecrypted.remember(room_id, event, True)
            self._s.emit_or_skip(mapped)
            emitted += isinstance(mapped, MessageReceived)
        return emitted
