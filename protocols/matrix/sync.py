"""The ``/sync`` loop: the first sync (full state) before ``connect`` returns, then a long-poll loop whose
every reply is handed to the features, in an order that keeps positions behind the events they cover.
A failed sync ends the loop with one ``ConnectionLost``. The option ``timeline_limit`` sets how many
events per room a sync returns at most (the server's default otherwise)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable

from aggregator.api import ConfigurationError, ConnectionLost
from protocols.matrix import lib, mapping
from protocols.matrix.catchup import History, Positions
from protocols.matrix.devices import Devices
from protocols.matrix.direct import DirectChats
from protocols.matrix.ignored import EVENT_TYPE as IGNORED_LIST
from protocols.matrix.ignored import IgnoredUsers
from protocols.matrix.lib import Client, Failure
from protocols.matrix.rooms import Rooms
from protocols.matrix.session import TRANSPORT_ERRORS, Session
from protocols.matrix.timeline import Timelines
from protocols.matrix.undecrypted import Undecrypted

log = logging.getLogger(__name__)

#: How long the server may hold a ``/sync`` long-poll open (milliseconds).
SYNC_TIMEOUT_MS = 30_000


def sync_filter(timeline_limit: str) -> dict[str, object] | None:
    """The sync filter of the option ``timeline_limit`` (None: the server's default)."""
    timeline_limit = timeline_limit.strip()
    if not timeline_limit:
        return None
    if not timeline_limit.isdigit() or int(timeline_limit) < 1:
        raise ConfigurationError(f"timeline_limit must be a positive number, not {timeline_limit!r}")
    return {"room": {"timeline": {"limit": int(timeline_limit)}}}


class Syncer:
    def __init__(
        self,
        session: Session,
        *,
        positions: Positions,
        history: History,
        direct: DirectChats,
        rooms: Rooms,
        timelines: Timelines,
        undecrypted: Undecrypted,
        devices: Devices,
        ignored: IgnoredUsers,
    ) -> None:
        self._s = session
        self._positions = positions
        self._history = history
        self._direct = direct
        self._rooms = rooms
        self._timelines = timelines
        self._undecrypted = undecrypted
        self._devices = devices
        self._ignored = ignored
        self._filter = sync_filter(session.settings.options.get("timeline_limit", ""))
        self.presence_state = "online"

    async def first(self, client: Client) -> None:
        since = self._positions.sync_token(client)
        reply = await client.sync(
            timeout=0, since=since, full_state=True, set_presence=self.presence_state, sync_filter=self._filter
        )
        if isinstance(reply, Failure) and since is not None:
            log.info("%s: the stored sync token was refused (%s); syncing afresh", self._s.account_id, reply.message)
            since = None
            reply = await client.sync(
                timeout=0, full_state=True, set_presence=self.presence_state, sync_filter=self._filter
            )
        if isinstance(reply, Failure):
            raise self._s.error_reply("sync", reply)
        # Without a stored token, the timeline of the first sync is history the user may have seen elsewhere.
        await self._after_sync(client, reply, history=since is None, since=since)
        self._direct.snapshot()
        self._devices.report()

    async def loop(self, client: Client) -> None:
        reason = ""
        try:
            while True:
                since = client.next_batch
                reply = await client.sync(
                    timeout=SYNC_TIMEOUT_MS, set_presence=self.presence_state, sync_filter=self._filter
                )
                if isinstance(reply, Failure):
                    reason = f"{self._s.homeserver} refused to sync: {reply.describe()}"
                    break
                await self._after_sync(client, reply, history=False, since=since)
        except asyncio.CancelledError:
            raise
        except TRANSPORT_ERRORS as exc:
            reason = f"connection to {self._s.homeserver} lost: {self._s.transport_error(exc)}"
        except Exception as exc:  # nio raises LocalProtocolError, EncryptionError, ... from inside sync()
            log.exception("%s: the sync loop failed", self._s.account_id)
            reason = f"the sync with {self._s.homeserver} failed: {exc!r}"
        if self._s.connected:  # not a disconnect() of ours
            self._s.connected = False
            log.info("%s: %s", self._s.account_id, reason)
            self._s.emit(ConnectionLost(account_id=self._s.account_id, reason=reason, retryable=True))

    async def _after_sync(self, client: Client, reply: lib.Sync, *, history: bool, since: str | None) -> None:
        gaps: dict[str, list[object]] = {}
        if not history:
            for room_id, info in reply.rooms.join.items():
                if info.timeline.limited and info.timeline.prev_batch:
                    gaps[room_id] = await self._history.fill_gap(client, room_id, info, since)
        for event in reply.account_data_events:
            if getattr(event, "type", None) == "m.direct":
                self._direct.m_direct = mapping.direct_rooms(getattr(event, "content", None))
            elif getattr(event, "type", None) == IGNORED_LIST:
                self._ignored.from_sync(getattr(event, "content", None))
        for room_id, invited in reply.rooms.invite.items():
            self._guard(room_id, functools.partial(self._direct.on_invite, client, room_id, invited))
        for room_id, info in reply.rooms.join.items():
            joined = functools.partial(
                self._timelines.on_joined_room, client, room_id, info, history, gaps.get(room_id, [])
            )
            self._guard(room_id, joined)
        for room_id, left in reply.rooms.leave.items():
            self._guard(room_id, functools.partial(self._on_left, room_id, left))
        for event in reply.presence_events:
            user_id = getattr(event, "user_id", None)
            if user_id != self._s.user_id and user_id not in self._ignored:
                self._s.emit_or_skip(mapping.presence(event, self._s.account_id))
        if reply.rooms.join:
            self._direct.rooms_seen()
        if client.encrypted:
            self._devices.track_changed(client, lib.changed_devices(reply))
            self._undecrypted.retry(client)
            self._undecrypted.save_if_changed()  # before anything awaits (a disconnect may cancel us there)
        self._positions.reach(client, reply.next_batch)  # after every event of this sync, before any await
        await asyncio.sleep(0)  # let the core take the new messages before the key upkeep and the next sync
        if client.encrypted:
            await self._devices.housekeeping(client)
            if self._s.connected:  # the first sync reports after its roster snapshot
                self._devices.report()

    def _on_left(self, room_id: str, info: object) -> None:
        self._direct.left(room_id)
        self._rooms.on_left(room_id, info)

    def _guard(self, room_id: str, handler: Callable[[], None]) -> None:
        try:
            handler()
        except Exception as exc:  # whatever the server sends, the adapter keeps running
            log.exception("%s: could not handle a sync update for %s", self._s.account_id, room_id)
            self._s.warn(f"could not handle an update for {room_id}: {exc!r}")
