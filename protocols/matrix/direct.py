"""Direct chats, which are Matrix's contacts.

A room is a direct chat with a peer when ``m.direct`` says so, or when it is an unnamed room of exactly
two members; everything else is a room. Sending to a peer without a direct chat creates one
(``is_direct``, peer invited, recorded in ``m.direct``). Invitations to direct chats are reported as
``SubscriptionRequested`` and joined only when the user accepts (``answer_subscription``) or writes to the
inviter (sending to a peer whose direct-chat invitation is pending joins that room instead of starting a
second one); invitations to other rooms as a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from urllib.parse import quote

from aggregator.api import (
    AccountError,
    ConversationKey,
    RosterItem,
    RosterItemChanged,
    RosterSnapshot,
    SubscriptionRequested,
)
from protocols.matrix import mapping
from protocols.matrix.addresses import normalize_address
from protocols.matrix.lib import Client, Failure, InvitedRoom, Room
from protocols.matrix.session import Session

log = logging.getLogger(__name__)

#: Seconds to wait for a newly created room to show up in the sync (needed before encrypting into it).
ROOM_SEEN_TIMEOUT = 10.0


def display_name(room: Room, user_id: str) -> str | None:
    user = room.users.get(user_id)
    name = getattr(user, "display_name", None)
    return name if isinstance(name, str) and name and name != user_id else None


class DirectChats:
    """Which rooms are direct chats with whom, the roster they make, and pending invitations."""

    def __init__(self, session: Session, track_devices: Callable[[str], None]) -> None:
        self._s = session
        self._track_devices = track_devices
        self._lock = asyncio.Lock()
        self.reset()

    def reset(self) -> None:
        self.direct: dict[str, str] = {}  # room id -> peer, for rooms known to be direct chats
        self.by_peer: dict[str, str] = {}  # peer -> the room id messages to them go to
        self.m_direct: dict[str, str] = {}  # room id -> peer, from m.direct account data
        self.invites: dict[str, set[str]] = {}  # inviter -> room ids of pending direct-chat invites
        self._announced_invites: set[str] = set()
        self.roster: set[str] = set()
        self.room_seen = asyncio.Event()

    # ------------------------------------------------------------------------------ from the sync

    def conversation_for(self, room: Room) -> ConversationKey:
        account_id, room_id = self._s.account_id, room.room_id
        peer = self.direct.get(room_id) or self.m_direct.get(room_id)
        if peer is None and room.is_group:
            others = [user for user in room.users if user != self._s.user_id]
            if len(others) == 1:
                with contextlib.suppress(mapping.MalformedEvent):
                    peer = mapping.user_handle(others[0])
        if peer is None:
            return ConversationKey.room(account_id, room_id)
        self.remember(room_id, peer)
        return ConversationKey.direct(account_id, peer)

    def remember(self, room_id: str, peer: str) -> None:
        self.direct[room_id] = peer
        self.by_peer.setdefault(peer, room_id)
        if peer not in self.roster:
            self.roster.add(peer)
            self._track_devices(peer)
            if self._s.connected:  # after the first sync's snapshot
                self._s.emit(RosterItemChanged(account_id=self._s.account_id, item=self.roster_item(peer)))

    def roster_item(self, peer: str) -> RosterItem:
        name = None
        client = self._s.client
        room = client.room(self.by_peer.get(peer, "")) if client is not None else None
        if room is not None:
            name = display_name(room, peer)
        return RosterItem(handle=peer, name=name)

    def snapshot(self) -> None:
        self._s.emit(
            RosterSnapshot(
                account_id=self._s.account_id, items=tuple(self.roster_item(peer) for peer in sorted(self.roster))
            )
        )

    def joined(self, room_id: str) -> None:
        """We are in ``room_id`` now: no invitation to it is pending."""
        for invited in self.invites.values():
            invited.discard(room_id)

    def left(self, room_id: str) -> None:
        peer = self.direct.pop(room_id, None)
        if peer is not None and self.by_peer.get(peer) == room_id:
            del self.by_peer[peer]

    def on_invite(self, client: Client, room_id: str, info: InvitedRoom) -> None:
        if room_id in self._announced_invites:
            return
        self._announced_invites.add(room_id)
        inviter, is_direct = None, False
        for event in info.invite_state:
            source = mapping.source_of(event)
            if source.get("type") == "m.room.member" and source.get("state_key") == self._s.user_id:
                content = source.get("content")
                inviter = source.get("sender")
                is_direct = isinstance(content, dict) and content.get("is_direct") is True
        try:
            handle = mapping.user_handle(inviter)
        except mapping.MalformedEvent:
            self._s.warn(f"an invitation to {room_id} from an unknown sender")
            return
        room = client.room(room_id) or client.invited_room(room_id)
        if is_direct or (room is not None and room.is_group and room.member_count <= 2):
            log.info("%s: %s invited you to the direct chat %s", self._s.account_id, handle, room_id)
            self.invites.setdefault(handle, set()).add(room_id)
            self._s.emit(
                SubscriptionRequested(
                    account_id=self._s.account_id,
                    handle=handle,
                    message=f"{handle} wants to chat with you (a Matrix direct chat invitation)",
                )
            )
        else:
            name = room.display_name if room is not None else room_id
            self._s.warn(f"{handle} invited you to the room {name} ({room_id}); join it to take part")

    def rooms_seen(self) -> None:
        """A sync brought joined rooms: wake those waiting for a new room to show up."""
        self.room_seen.set()
        self.room_seen = asyncio.Event()

    # --------------------------------------------------------------------------------- requests

    def known_room(self, peer_handle: str) -> str | None:
        return self.by_peer.get(normalize_address(peer_handle))

    async def room_of(self, peer: str) -> str:
        """The room of the direct chat with ``peer``: a known one, one in ``m.direct``, or a new one."""
        async with self._lock:
            client = self._s.require_client()
            room_id = self.by_peer.get(peer)
            if room_id is not None:
                return room_id
            # Writing to someone who invited us to a direct chat accepts that invitation (as other
            # clients do) rather than starting a second chat next to it.
            room_id = await self.accept_invites(peer)
            if room_id is None:
                room_id = await self._from_server(peer)
            if room_id is None:
                room_id = await self._create(peer)
            self.remember(room_id, peer)
            self.by_peer[peer] = room_id
            if client.encrypted and not client.has_room(room_id):
                await self._wait_for_room(room_id)
            return room_id

    async def accept_invites(self, peer: str) -> str | None:
        """Joins the pending direct-chat invitations from ``peer``; the room messages then go to, if any."""
        client = self._s.require_client()
        joined: str | None = None
        for room_id in sorted(self.invites.pop(peer, set())):
            reply = await self._s.call(client.join(room_id))
            if isinstance(reply, Failure):
                raise self._s.error_reply(f"let you join the direct chat with {peer}", reply)
            log.info("%s: joined the direct chat %s with %s", self._s.account_id, room_id, peer)
            self.remember(room_id, peer)
            self.by_peer[peer] = room_id
            await self._record(room_id, peer)
            joined = room_id
        return joined

    async def reject_invites(self, peer: str) -> None:
        client = self._s.require_client()
        for room_id in sorted(self.invites.pop(peer, set())):
            await self._s.call(client.room_leave(room_id))

    async def leave_all(self, peer: str) -> None:
        client = self._s.require_client()
        for room_id in [room_id for room_id, other in self.direct.items() if other == peer]:
            await self._s.call(client.room_leave(room_id))

    async def _from_server(self, peer: str) -> str | None:
        """A room ``m.direct`` names for ``peer`` (another client of ours may have made it) that we are in."""
        client = self._s.require_client()
        rooms = await self._s.call(client.list_direct_rooms())
        if rooms is None:
            return None
        user_id = self._s.user_id
        for room_id, other in mapping.direct_rooms(rooms).items():
            if other != peer:
                continue
            ids = await self._s.call(client.joined_members(room_id))
            if ids is not None and user_id in ids and ids <= {user_id, peer}:
                return room_id
        return None

    async def _create(self, peer: str) -> str:
        client = self._s.require_client()
        initial_state: list[dict[str, object]] = []
        if client.encrypted and self._s.settings.options.get("encrypt_new_chats", "false") == "true":
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        reply = await self._s.call(client.create_direct_room(peer, initial_state))
        if isinstance(reply, Failure):
            raise self._s.error_reply(f"start a direct chat with {peer}", reply)
        log.info("%s: created the direct chat %s with %s", self._s.account_id, reply, peer)
        await self._record(reply, peer)
        return reply

    async def _record(self, room_id: str, peer: str) -> None:
        """Adds ``room_id`` to our ``m.direct`` account data (as other clients do), best effort."""
        client = self._s.require_client()
        try:
            current = await self._s.call(client.list_direct_rooms()) or {}
            listed = current.get(peer, [])
            rooms = [r for r in (listed if isinstance(listed, list) else []) if isinstance(r, str) and r != room_id]
            content = dict(current) | {peer: [room_id, *rooms]}
            path = f"/_matrix/client/v3/user/{quote(self._s.user_id, safe='')}/account_data/m.direct"
            status = await self._s.call(client.put_json(path, content))
            if status != 200:
                self._s.warn(f"could not record the direct chat with {peer} in m.direct (HTTP {status})")
        except AccountError as exc:
            self._s.warn(f"could not record the direct chat with {peer} in m.direct: {exc}")

    async def _wait_for_room(self, room_id: str) -> None:
        client = self._s.require_client()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ROOM_SEEN_TIMEOUT):
                while not client.has_room(room_id):
                    await self.room_seen.wait()
