"""Direct chats, which are Matrix's contacts.

A room is a direct chat with a peer when ``m.direct`` says so, or when it is an unnamed room of exactly
two members; everything else is a room. Adding a contact, or sending to a peer without a direct chat,
creates one (``is_direct``, peer invited, recorded in ``m.direct``, end-to-end encrypted unless the
account's ``encrypt_new_chats`` is off). Invitations are reported as soon as a sync brings them (the first
sync of a connection brings those that came while we were away): to a direct chat as
``SubscriptionRequested`` (``DIRECT_INVITE``), joined only when the user accepts (``answer_subscription``)
or writes to the inviter (sending to a peer whose direct-chat invitation is pending joins that room instead
of starting a second one), left when the user declines; to any other room as ``InvitedToRoom``, answered
with ``answer_room``. Removing a contact leaves and forgets its direct chats and drops it from ``m.direct``.
Nothing from an ignored user (``ignored.py``) is reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote

from aggregator.api import (
    AccountError,
    ConversationKey,
    InvitedToRoom,
    RequestKind,
    RosterItem,
    RosterItemChanged,
    RosterItemRemoved,
    RosterSnapshot,
    SubscriptionRequested,
)
from protocols.matrix import mapping
from protocols.matrix.addresses import normalize_address
from protocols.matrix.ignored import IgnoredUsers
from protocols.matrix.lib import Client, Failure, InvitedRoom, Room
from protocols.matrix.session import Session

log = logging.getLogger(__name__)

#: Seconds to wait for a newly created room to show up in the sync (needed before encrypting into it).
ROOM_SEEN_TIMEOUT = 10.0
#: The ``m.direct`` account data path of a user.
M_DIRECT_PATH = "/_matrix/client/v3/user/{user}/account_data/m.direct"


@dataclass(frozen=True, slots=True)
class Invitation:
    """What the stripped state of an invitation tells."""

    inviter: str | None
    is_direct: bool
    reason: str
    inviter_name: str | None
    room_name: str | None


def read_invitation(invite_state: Iterable[object], own_user_id: str) -> Invitation:
    inviter: str | None = None
    is_direct, reason = False, ""
    names: dict[str, str] = {}
    room_name: str | None = None
    for event in invite_state:
        source = mapping.source_of(event)
        content = source.get("content", getattr(event, "content", None))  # nio moves a member's content out
        content = content if isinstance(content, dict) else {}
        kind, key = source.get("type"), source.get("state_key")
        if kind == "m.room.member" and isinstance(key, str):
            name = content.get("displayname")
            if isinstance(name, str) and name.strip():
                names[key] = name.strip()
            if key == own_user_id and content.get("membership") == "invite":
                sender = source.get("sender")
                inviter = sender if isinstance(sender, str) else None
                is_direct = content.get("is_direct") is True
                text = content.get("reason")
                reason = text if isinstance(text, str) else ""
        elif kind == "m.room.name" and isinstance(content.get("name"), str) and content["name"].strip():
            room_name = content["name"].strip()
    inviter_name = names.get(inviter) if inviter is not None else None
    return Invitation(inviter, is_direct, reason, inviter_name, room_name)


def display_name(room: Room, user_id: str) -> str | None:
    user = room.users.get(user_id)
    name = getattr(user, "display_name", None)
    return name if isinstance(name, str) and name and name != user_id else None


class DirectChats:
    """Which rooms are direct chats with whom, the roster they make, and pending invitations."""

    def __init__(self, session: Session, track_devices: Callable[[str], None], ignored: IgnoredUsers) -> None:
        self._s = session
        self._track_devices = track_devices
        self._ignored = ignored
        self._lock = asyncio.Lock()
        self.reset()

    def reset(self) -> None:
        self.direct: dict[str, str] = {}  # room id -> peer, for rooms known to be direct chats
        self.by_peer: dict[str, str] = {}  # peer -> the room id messages to them go to
        self.m_direct: dict[str, str] = {}  # room id -> peer, from m.direct account data
        self.invites: dict[str, set[str]] = {}  # inviter -> room ids of pending direct-chat invites
        self.room_invites: dict[str, str] = {}  # room id -> inviter, of pending invitations to group rooms
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
        self._forget_invite(room_id)

    def left(self, room_id: str) -> None:
        """We left ``room_id``, or an invitation to it was withdrawn or declined."""
        self._forget_invite(room_id)
        self._announced_invites.discard(room_id)
        peer = self.direct.pop(room_id, None)
        if peer is not None and self.by_peer.get(peer) == room_id:
            del self.by_peer[peer]

    def _forget_invite(self, room_id: str) -> None:
        for invited in self.invites.values():
            invited.discard(room_id)
        self.room_invites.pop(room_id, None)

    def on_invite(self, client: Client, room_id: str, info: InvitedRoom) -> None:
        if room_id in self._announced_invites:
            return
        invitation = read_invitation(info.invite_state, self._s.user_id)
        try:
            handle = mapping.user_handle(invitation.inviter)
        except mapping.MalformedEvent:
            self._s.warn(f"an invitation to {room_id} from an unknown sender")
            return
        if handle in self._ignored.users:
            log.info("%s: dropped an invitation to %s from the ignored %s", self._s.account_id, room_id, handle)
            return
        self._announced_invites.add(room_id)
        room = client.room(room_id) or client.invited_room(room_id)
        unnamed_pair = room is not None and room.is_group and room.member_count <= 2 and not invitation.room_name
        if invitation.is_direct or unnamed_pair:
            log.info("%s: %s invited you to the direct chat %s", self._s.account_id, handle, room_id)
            self.invites.setdefault(handle, set()).add(room_id)
            self._s.emit(
                SubscriptionRequested(
                    account_id=self._s.account_id,
                    handle=handle,
                    message=invitation.reason,
                    kind=RequestKind.DIRECT_INVITE,
                    display_name=invitation.inviter_name,
                )
            )
            return
        log.info("%s: %s invited you to the room %s", self._s.account_id, handle, room_id)
        self.room_invites[room_id] = handle
        name = invitation.room_name or (room.display_name if room is not None and not room.is_group else None)
        self._s.emit(
            InvitedToRoom(
                account_id=self._s.account_id,
                room=room_id,
                inviter=handle,
                room_name=name,
                reason=invitation.reason,
            )
        )

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
        """Declines (leaves) the pending direct-chat invitations from ``peer``."""
        client = self._s.require_client()
        for room_id in sorted(self.invites.pop(peer, set())):
            reply = await self._s.call(client.room_leave(room_id))
            if isinstance(reply, Failure):
                raise self._s.error_reply(f"let you decline the direct chat with {peer}", reply)
            log.info("%s: declined the direct chat %s with %s", self._s.account_id, room_id, peer)

    async def decline_all_from(self, peer: str) -> None:
        """Declines every pending invitation from ``peer`` (to a direct chat or a room), best effort."""
        rooms = [room_id for room_id, inviter in self.room_invites.items() if inviter == peer]
        try:
            await self.reject_invites(peer)
            for room_id in rooms:
                await self.answer_room(room_id, accept=False)
        except AccountError as exc:
            self._s.warn(f"could not decline the invitations of {peer}: {exc}")

    def invitation_of(self, room_id: str) -> tuple[str, bool] | None:
        """Who invited us to ``room_id`` and whether it is a direct chat, while that invitation is pending."""
        if room_id in self.room_invites:
            return self.room_invites[room_id], False
        for inviter, rooms in self.invites.items():
            if room_id in rooms:
                return inviter, True
        return None

    async def answer_room(self, room_id: str, accept: bool) -> ConversationKey | None:
        """Joins (``accept``) or declines a pending invitation to a group room: the room joined, if any."""
        client = self._s.require_client()
        self.room_invites.pop(room_id, None)
        if accept:
            joined = await self._s.call(client.join(room_id))
            if isinstance(joined, Failure):
                raise self._s.error_reply(f"let you join {room_id}", joined)
            return ConversationKey.room(self._s.account_id, joined)
        left = await self._s.call(client.room_leave(room_id))
        if isinstance(left, Failure):
            raise self._s.error_reply(f"let you decline the invitation to {room_id}", left)
        return None

    async def remove(self, peer: str) -> None:
        """Leaves and forgets every direct chat with ``peer`` (and its pending invitations), drops ``peer``
        from ``m.direct`` and from the roster."""
        client = self._s.require_client()
        async with self._lock:
            rooms = {room_id for room_id, other in (self.direct | self.m_direct).items() if other == peer}
            rooms |= self.invites.pop(peer, set())
            for room_id in sorted(rooms):
                left = await self._s.call(client.room_leave(room_id))
                if isinstance(left, Failure) and left.code not in ("M_FORBIDDEN", "M_NOT_FOUND"):
                    raise self._s.error_reply(f"let you leave the direct chat with {peer}", left)
                await self._s.call(client.room_forget(room_id))
                self.direct.pop(room_id, None)
                self.m_direct.pop(room_id, None)
            self.by_peer.pop(peer, None)
            await self._unrecord(peer)
            if peer in self.roster:
                self.roster.discard(peer)
                self._s.emit(RosterItemRemoved(account_id=self._s.account_id, handle=peer))

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
        if client.encrypted and self._s.settings.options.get("encrypt_new_chats", "true") != "false":
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
            path = M_DIRECT_PATH.format(user=quote(self._s.user_id, safe=""))
            status = await self._s.call(client.put_json(path, content))
            if status != 200:
                self._s.warn(f"could not record the direct chat with {peer} in m.direct (HTTP {status})")
        except AccountError as exc:
            self._s.warn(f"could not record the direct chat with {peer} in m.direct: {exc}")

    async def _unrecord(self, peer: str) -> None:
        """Drops ``peer`` from our ``m.direct`` account data, best effort."""
        client = self._s.require_client()
        try:
            current = await self._s.call(client.list_direct_rooms()) or {}
            content = {user: rooms for user, rooms in current.items() if not self._same(user, peer)}
            if content == current:
                return
            path = M_DIRECT_PATH.format(user=quote(self._s.user_id, safe=""))
            status = await self._s.call(client.put_json(path, content))
            if status != 200:
                self._s.warn(f"could not remove the direct chat with {peer} from m.direct (HTTP {status})")
        except AccountError as exc:
            self._s.warn(f"could not remove the direct chat with {peer} from m.direct: {exc}")

    @staticmethod
    def _same(user_id: str, peer: str) -> bool:
        try:
            return mapping.user_handle(user_id) == peer
        except mapping.MalformedEvent:
            return False

    async def _wait_for_room(self, room_id: str) -> None:
        client = self._s.require_client()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ROOM_SEEN_TIMEOUT):
                while not client.has_room(room_id):
                    await self.room_seen.wait()
