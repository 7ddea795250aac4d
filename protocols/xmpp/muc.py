"""Group chats (XEP-0045): joining, leaving, occupants, the subject, and room messages.

Rooms joined with ``join`` are rejoined after every reconnect of the adapter (the ``autojoin`` option
is read by the core's room service, which calls ``join_room``). A room with a stored archive position
is caught up from its own archive (muc_mam) with ``maxstanzas=0``; otherwise the join history fills
in. Both carry the room's stanza-ids, which the core deduplicates by.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

from aggregator.api import (
    ConfigurationError,
    ConversationKey,
    ConversationKind,
    MessageReceived,
    NetworkError,
    NotConnectedError,
    ProtocolError,
    RoomJoined,
    RoomLeft,
    RoomMembers,
    RoomTopic,
)
from protocols.xmpp import mapping
from protocols.xmpp.addresses import Jid, normalize_handle, parse_jid
from protocols.xmpp.catchup import Archives
from protocols.xmpp.lib import Client
from protocols.xmpp.session import Session

log = logging.getLogger(__name__)

#: The join history asked for when the room's archive position is unknown.
JOIN_HISTORY = 50
JOIN_TIMEOUT = 20.0
SEND_TIMEOUT = 30.0

#: Why the room removed us, by XEP-0045 status code.
_REMOVED = {
    "301": "banned from the room",
    "307": "kicked from the room",
    "321": "removed from the room (affiliation changed)",
    "322": "removed from the room (members only)",
    "332": "the room's service shut down",
}

#: Emits a live message (or None) of an archive with the position it completes.
EmitLive = Callable[[str, ET.Element, MessageReceived | None], None]


@dataclass
class Room:
    """A room the account wants to be in (joined now, or rejoined after a reconnect)."""

    jid: str
    nick: str
    joined: asyncio.Future[None] | None = None
    leaving: asyncio.Future[None] | None = None
    present: bool = False  # our own presence is in the room
    history_done: bool = False  # the subject arrived: what follows is live
    created: bool = False  # status 201: a new, locked room that we must configure
    occupants: dict[str, str | None] = field(default_factory=dict)  # nick -> real bare JID if shown
    subject: str = ""
    topic_waiter: tuple[str, asyncio.Future[None]] | None = None
    rejoin: asyncio.Task[None] | None = None  # the join after a (re)connect, while it runs


def join_element(position_known: bool) -> ET.Element:
    """The ``<x/>`` of a join: no history with a known archive position, else ``JOIN_HISTORY`` stanzas."""
    x = ET.Element(f"{{{mapping.NS_MUC}}}x")
    ET.SubElement(x, f"{{{mapping.NS_MUC}}}history", maxstanzas="0" if position_known else str(JOIN_HISTORY))
    return x


def removal_reason(codes: frozenset[str]) -> str:
    return next((_REMOVED[code] for code in sorted(codes) if code in _REMOVED), "removed from the room")


class Rooms:
    """The rooms of one account."""

    def __init__(self, session: Session, archives: Archives, emit_live: EmitLive) -> None:
        self._s = session
        self._archives = archives
        self._emit_live = emit_live
        self._rooms: dict[str, Room] = {}
        self.own_keys: set[str] = set()  # idempotency keys of our room messages (own-echo check)

    def get(self, jid: str) -> Room | None:
        return self._rooms.get(jid)

    def key(self, room: Room) -> ConversationKey:
        return ConversationKey.room(self._s.account_id, room.jid)

    def joined(self, conversation: ConversationKey) -> Room:
        if conversation.kind is not ConversationKind.ROOM:
            raise ConfigurationError(f"{conversation.handle} is not a room")
        room = self._rooms.get(conversation.handle)
        if room is None:
            raise ConfigurationError(f"{self._s.account_id} is not in the room {conversation.handle}; join it first")
        if not room.present:
            raise NotConnectedError(f"{conversation.handle} is being joined again; try later")
        return room

    async def join(self, room: str, nick: str | None = None) -> ConversationKey:
        """Joins ``room`` (``room@service``) as ``nick`` (default: the account's user name); returns once
        the room's history (deduplicated by the core through the room's stanza-ids) has arrived.
        A new room is created and configured as an instant room (XEP-0045 10.1.2)."""
        client = self._s.ready_client()
        try:
            jid = parse_jid(normalize_handle(room))
        except ConfigurationError as exc:
            raise ConfigurationError(f"cannot join {room!r}: {exc}") from None
        if not jid.localpart or jid.resource:
            raise ConfigurationError(f"cannot join {room!r}: a room address is room@conference.example.org")
        wanted = (nick or "").strip() or self._s.default_nick
        state = self._rooms.get(jid.bare)
        # A join under way (the rejoin after a connect, or another caller's): wait for it, never join twice.
        running = state.rejoin if state is not None else None
        if running is not None and not running.done():
            await asyncio.shield(running)
        elif state is not None and state.joined is not None and not state.present:
            with contextlib.suppress(Exception):
                await asyncio.shield(state.joined)
        state = self._rooms.get(jid.bare)
        if state is not None and state.present:
            return self.key(state)  # already in (a nick change is not supported here)
        new = state is None
        if state is None:
            state = self._rooms[jid.bare] = Room(jid.bare, wanted)
        state.nick = wanted
        try:
            await self._join(client, state)
        except BaseException:
            if new:
                self._rooms.pop(jid.bare, None)
            raise
        return self.key(state)

    def rejoin_all(self, client: Client) -> None:
        """After a (re)connect: joins every room again, each in its own task."""
        for room in list(self._rooms.values()):
            room.rejoin = self._s.spawn(self._rejoin(client, room), f"join {room.jid}")

    async def _rejoin(self, client: Client, room: Room) -> None:
        try:
            await self._join(client, room)
        except ProtocolError as exc:  # the room refused us: stop wanting it
            self._rooms.pop(room.jid, None)
            self._s.warn(str(exc))
            self._s.emit(RoomLeft(account_id=self._s.account_id, conversation=self.key(room), reason=str(exc)))
        except Exception as exc:
            self._s.warn(f"could not join {room.jid}: {exc}")

    async def _join(self, client: Client, room: Room) -> None:
        room.joined = joined = asyncio.get_running_loop().create_future()
        room.present = room.history_done = room.created = False
        room.occupants.clear()
        position = self._archives.positions.get(room.jid)
        # With a known archive position the room's MAM fills the gap exactly (live messages carry their
        # positions once it is complete); else the join history is the first sync, positions and all.
        if position is None:
            self._archives.caught_up.add(room.jid)
        else:
            self._archives.caught_up.discard(room.jid)
        client.send_presence_with(f"{room.jid}/{room.nick}", join_element(position is not None))
        try:
            async with asyncio.timeout(JOIN_TIMEOUT):
                await joined
        except TimeoutError:
            raise NetworkError(f"{room.jid} did not complete the join within {JOIN_TIMEOUT:g} s") from None
        finally:
            room.joined = None
        if room.created:
            await self._configure_instant_room(client, room)
        self._emit_members(room)
        if position is not None:
            try:
                await self._archives.sync(client, room.jid)
            except Exception as exc:
                self._s.warn(f"could not fetch the archive of {room.jid}: {exc!r}")

    async def _configure_instant_room(self, client: Client, room: Room) -> None:
        """Unlocks a room we just created by accepting the default configuration (an empty form)."""
        query = ET.Element(f"{{{mapping.NS_MUC_OWNER}}}query")
        ET.SubElement(query, f"{{{mapping.NS_DATA}}}x", type="submit")
        try:
            await client.send_iq(query, to=room.jid, timeout=SEND_TIMEOUT)
        except Exception as exc:
            raise ProtocolError(f"could not configure the new room {room.jid}: {exc}") from None
        room.created = False
        log.info("%s: created the room %s", self._s.account_id, room.jid)

    def _emit_members(self, room: Room) -> None:
        self._s.emit(
            RoomMembers(
                account_id=self._s.account_id, conversation=self.key(room), members=tuple(sorted(room.occupants))
            )
        )

    def on_presence(self, room: Room, stanza: ET.Element, sender: Jid) -> None:
        if (stanza.get("type") or "") == "error":
            reason = mapping.error_of(stanza)
            if room.joined is not None and not room.joined.done():
                room.joined.set_exception(ProtocolError(f"cannot join {room.jid} as {room.nick}: {reason}"))
            else:
                self._s.warn(f"{room.jid}: {reason}")
            return
        occupant = mapping.occupant_of(stanza)
        if occupant is None or not occupant.nick:
            return
        if "110" in occupant.codes or occupant.nick == room.nick:
            self._on_own_presence(room, occupant)
            return
        if occupant.available:
            room.occupants[occupant.nick] = occupant.real_jid
        else:
            room.occupants.pop(occupant.nick, None)
        if room.history_done:
            self._emit_members(room)

    def _on_own_presence(self, room: Room, occupant: mapping.Occupant) -> None:
        key = self.key(room)
        if occupant.available:
            room.nick = occupant.nick  # the room may have changed it (status 210)
            room.occupants[occupant.nick] = self._s.own.bare
            room.created = room.created or "201" in occupant.codes
            if not room.present:
                room.present = True
                self._s.emit(RoomJoined(account_id=self._s.account_id, conversation=key, nick=room.nick))
            return
        room.occupants.pop(occupant.nick, None)
        if "303" in occupant.codes and occupant.new_nick:  # our nick changed; the new one follows
            room.nick = occupant.new_nick
            return
        room.present = False
        if room.leaving is not None:
            if not room.leaving.done():
                room.leaving.set_result(None)
            return
        why = removal_reason(occupant.codes)
        self._rooms.pop(room.jid, None)
        if room.joined is not None and not room.joined.done():
            room.joined.set_exception(ProtocolError(f"cannot join {room.jid}: {why}"))
        self._s.emit(RoomLeft(account_id=self._s.account_id, conversation=key, reason=why))

    def on_message(self, stanza: ET.Element) -> None:
        sender = mapping.sender_of(stanza)
        room = self._rooms.get(sender.bare)
        if room is None:
            return  # a room we are not in (any more)
        subject = mapping.subject_of(stanza)
        if subject is not None and mapping.body_of(stanza) is None:
            self._on_subject(room, subject, sender.resource)
            return
        problems: list[str] = []
        event = mapping.room_message(
            stanza,
            self._s.ctx,
            problems,
            room=room.jid,
            own_nick=room.nick,
            real_jid=room.occupants.get(sender.resource),
            own_keys=self.own_keys,
            history=not room.history_done,
        )
        for problem in problems:
            self._s.warn(problem)
        if event is not None and event.idempotency_key is not None:
            self.own_keys.discard(event.idempotency_key)
        self._emit_live(room.jid, stanza, event)

    def on_subject_message(self, stanza: ET.Element) -> None:
        """A groupchat ``<message/>`` with a subject and no body (slixmpp's "message" event skips it)."""
        if stanza.get("type") == "groupchat" and mapping.body_of(stanza) is None:
            self.on_message(stanza)  # with a body it comes through the "message" event

    def archived_message(
        self, archive: str, inner: ET.Element, archived: mapping.Archived, problems: list[str]
    ) -> MessageReceived | None:
        """A message of the room ``archive``'s own archive."""
        room = self._rooms.get(archive)
        nick = mapping.sender_of(inner).resource
        return mapping.room_message(
            inner,
            self._s.ctx,
            problems,
            room=archive,
            own_nick=room.nick if room is not None else self._s.default_nick,
            real_jid=room.occupants.get(nick) if room is not None else None,
            own_keys=self.own_keys,
            archived=archived,
        )

    def _on_subject(self, room: Room, subject: str, nick: str) -> None:
        """The subject ends the join history (XEP-0045 7.2.15); later ones are topic changes."""
        if room.topic_waiter is not None and nick == room.nick and not room.topic_waiter[1].done():
            room.topic_waiter[1].set_result(None)
        changed = subject != room.subject
        room.subject = subject
        if not room.history_done:
            room.history_done = True
            if room.joined is not None and not room.joined.done():
                room.joined.set_result(None)
        if changed:
            self._s.emit(
                RoomTopic(
                    account_id=self._s.account_id, conversation=self.key(room), topic=subject, set_by=nick or None
                )
            )

    def refused_topic(self, room: Room, key: str | None, reason: str) -> bool:
        """An error answering our topic change ``key``: the waiting ``set_topic`` fails. False if not one."""
        if room.topic_waiter is None or room.topic_waiter[0] != key:
            return False
        waiter = room.topic_waiter[1]
        if not waiter.done():
            waiter.set_exception(ProtocolError(f"{room.jid} refused the topic: {reason}"))
        return True

    async def leave(self, conversation: ConversationKey) -> None:
        state = self._rooms.get(conversation.handle)
        if state is None:
            return
        client = self._s.client
        if self._s.connected and client is not None and state.present:
            state.leaving = leaving = asyncio.get_running_loop().create_future()
            client.send_presence(to=f"{state.jid}/{state.nick}", ptype="unavailable")
            with contextlib.suppress(TimeoutError, Exception):
                async with asyncio.timeout(SEND_TIMEOUT):
                    await leaving
        self._rooms.pop(conversation.handle, None)
        state.present = False
        self._s.emit(RoomLeft(account_id=self._s.account_id, conversation=self.key(state), reason="left"))

    async def set_topic(self, conversation: ConversationKey, topic: str) -> None:
        """Sets the room's subject; returns once the room has accepted it (raises ``ProtocolError`` if not)."""
        client = self._s.ready_client()
        state = self.joined(conversation)
        key = secrets.token_hex(8)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        state.topic_waiter = (key, waiter)
        subject = ET.Element(f"{{{mapping.NS_CLIENT}}}subject")
        subject.text = topic
        client.send_message(state.jid, "groupchat", key=key, extra=subject)
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await waiter
        except TimeoutError:
            raise NetworkError(f"{state.jid} did not confirm the topic within {SEND_TIMEOUT:g} s") from None
        finally:
            state.topic_waiter = None

    def reset(self, error: Exception) -> None:
        """The connection is gone: every room is to be joined again on the next connect."""
        for room in self._rooms.values():
            room.present = room.history_done = False
            for future in (room.joined, room.leaving, room.topic_waiter[1] if room.topic_waiter else None):
                if future is not None and not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: no "never retrieved" warning when nobody waits
