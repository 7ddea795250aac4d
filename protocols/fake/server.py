"""``FakeServer``: an asyncio TCP server speaking the fake protocol (JSON lines) on loopback.

Tests start one per test (``port=0`` picks a free port) and script it: users, offline messages,
presence, dropped connections, failing logins, slow or rejected sends, and group chats (rooms with
members, a topic and room messages; a user with no session can be put in a room as a scripted
member). Run it standalone with
``python -m protocols.fake.server --port 5999 --user alice@fake.test:pw --user bob@fake.test:pw``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aggregator.api import PresenceKind
from protocols.fake import wire
from protocols.fake.addresses import normalize_address
from protocols.fake.wire import Frame, WireError

log = logging.getLogger(__name__)

_PRESENCE_VALUES = frozenset(kind.value for kind in PresenceKind)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message the server accepted, with its server id and UTC server timestamp."""

    server_id: str
    sender: str
    to: str
    body: str
    timestamp: datetime
    kind: str = "chat"
    idempotency_key: str | None = None
    room: str | None = None  # a room message: ``to`` is the room, ``nick`` the sender's nick in it
    nick: str | None = None

    def frame(self, *, offline: bool = False, echo: bool = False) -> Frame:
        if self.room is not None:
            return {
                "op": "message",
                "server_id": self.server_id,
                "from": self.sender,
                "to": self.to,
                "room": self.room,
                "nick": self.nick,
                "body": self.body,
                "kind": self.kind,
                "timestamp": wire.format_timestamp(self.timestamp),
                "offline": offline,
                "echo": echo,
                "key": self.idempotency_key if echo else None,
            }
        return {
            "op": "message",
            "server_id": self.server_id,
            "from": self.sender,
            "to": self.to,
            "body": self.body,
            "kind": self.kind,
            "timestamp": wire.format_timestamp(self.timestamp),
            "offline": offline,
            "echo": echo,
            "key": self.idempotency_key if echo else None,
        }


@dataclass(eq=False, slots=True)
class _Session:
    writer: asyncio.StreamWriter
    user: str | None = None

    def send(self, frame: Frame) -> None:
        if self.writer.is_closing():
            return
        try:
            self.writer.write(wire.encode(frame))
        except (ConnectionError, RuntimeError) as exc:
            log.debug("could not write to a session of %s: %s", self.user, exc)


@dataclass(slots=True)
class _User:
    password: str
    roster: tuple[str, ...] | None = None  # None: every other user
    presence: tuple[str, str] = (PresenceKind.OFFLINE.value, "")
    queue: list[StoredMessage] = field(default_factory=list)
    accepted: list[StoredMessage] = field(default_factory=list)
    keys: dict[str, StoredMessage] = field(default_factory=dict)


@dataclass(slots=True)
class _Room:
    """A group chat: members (user -> nick), a topic, and who set it."""

    topic: str = ""
    topic_by: str | None = None
    members: dict[str, str] = field(default_factory=dict)
    scripted: set[str] = field(default_factory=set)  # members without a session (never dropped)
    refusal: str | None = None  # every join is refused with this reason

    def nick_holder(self, nick: str) -> str | None:
        return next((user for user, held in self.members.items() if held.casefold() == nick.casefold()), None)


class FakeServer:
    """A fake IM server on ``host`` (loopback); ``port`` is known after ``start()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        #: Seconds the server waits before acknowledging a send (the message is accepted at once).
        self.ack_delay: float = 0.0
        #: When true, every send gets an error reply and is not accepted.
        self.reject_sends: bool = False
        #: Every typing notice clients sent: (from, to, typing), in order.
        self.typing_log: list[tuple[str, str, bool]] = []
        self._users: dict[str, _User] = {}
        self._rooms: dict[str, _Room] = {}
        self._sessions: set[_Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._failing_logins = 0
        self._ids = itertools.count(1)

    # ---------------------------------------------------------------------------------------- life

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=wire.LINE_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("fake server listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Closes the listener and every connection."""
        if self._server is not None:
            self._server.close()
        await self.drop_connections()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def drop_connections(self) -> None:
        """Closes every client connection (a network drop); the server keeps listening."""
        for session in list(self._sessions):
            session.writer.close()
        tasks = [task for task in self._tasks if task is not asyncio.current_task()]
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    async def __aenter__(self) -> FakeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def address(self) -> str:
        """The ``HOST:PORT`` server setting for an account on this server."""
        return f"{self.host}:{self.port}"

    # ------------------------------------------------------------------------------ test scripting

    def add_user(self, address: str, password: str) -> str:
        """Adds a user (or changes the password of one); returns the normalised address.

        Online users with a default roster (every other user) get the new user pushed.
        """
        user = normalize_address(address)
        if user in self._users:
            self._users[user].password = password
            return user
        self._users[user] = _User(password)
        for session in self._sessions:
            if session.user and session.user != user and self._users[session.user].roster is None:
                session.send({"op": "roster_item", "handle": user, "name": user.partition("@")[0]})
        return user

    def set_roster(self, address: str, contacts: Iterable[str]) -> None:
        """Gives ``address`` an explicit roster (instead of every other user); pushes the changes."""
        user = self._user_name(address)
        old = set(self._roster(user))
        new = tuple(dict.fromkeys(normalize_address(contact) for contact in contacts))
        self._users[user].roster = new
        for session in self._sessions_of(user):
            for gone in sorted(old - set(new)):
                session.send({"op": "roster_remove", "handle": gone})
            for added in new:
                if added not in old:
                    session.send({"op": "roster_item", "handle": added, "name": added.partition("@")[0]})
                    if frame := self._visible_presence(added):
                        session.send(frame)

    def fail_next_logins(self, count: int) -> None:
        """The next ``count`` logins fail with a temporary (retryable) error."""
        self._failing_logins = count

    def online(self, address: str) -> bool:
        user = normalize_address(address)
        return any(session.user == user for session in self._sessions)

    def received(self, address: str) -> list[StoredMessage]:
        """The messages the server accepted from clients of ``address``, in order, without retries."""
        return list(self._users[self._user_name(address)].accepted)

    async def deliver(
        self,
        sender: str,
        to: str,
        body: str,
        *,
        timestamp: datetime | None = None,
        server_id: str | None = None,
        kind: str = "chat",
    ) -> StoredMessage:
        """As if ``sender`` sent ``body`` to ``to``: pushed if ``to`` is online, else queued."""
        message = StoredMessage(
            server_id=server_id or self._next_id(),
            sender=normalize_address(sender),
            to=self._user_name(to),
            body=body,
            timestamp=timestamp or wire.now(),
            kind=kind,
        )
        self._route(message)
        return message

    async def send_typing(self, sender: str, to: str, typing: bool) -> None:
        """As if ``sender`` started (or stopped) typing to ``to``: pushed to ``to``'s sessions."""
        sender = self._user_name(sender)
        for session in self._sessions_of(self._user_name(to)):
            session.send({"op": "typing", "from": sender, "typing": typing})

    async def set_presence(self, address: str, kind: PresenceKind | str, status: str = "") -> None:
        """Sets the presence of ``address`` and pushes it to everyone who has it on their roster."""
        kind = PresenceKind(kind)
        self._set_presence(self._user_name(address), kind.value, status)

    async def send_raw(self, address: str, data: bytes) -> None:
        """Writes ``data`` as is to every session of ``address`` (to test malformed input)."""
        for session in self._sessions_of(self._user_name(address)):
            session.writer.write(data)

    # ------------------------------------------------------------------------------- group chats

    def create_room(self, address: str, topic: str = "", *, topic_by: str | None = None) -> str:
        """Creates a room (clients also create one by joining it); returns its normalised address."""
        room = normalize_address(address)
        self._rooms.setdefault(room, _Room(topic=topic, topic_by=topic_by))
        return room

    def refuse_joins(self, address: str, reason: str) -> None:
        """Every later join of the room fails with ``reason`` (a members-only room, a ban)."""
        self._rooms[self.create_room(address)].refusal = reason

    def room_members(self, address: str) -> dict[str, str]:
        """user -> nick of the room's members."""
        return dict(self._room(address).members)

    def room_topic(self, address: str) -> tuple[str, str | None]:
        found = self._room(address)
        return found.topic, found.topic_by

    async def enter_room(self, user: str, address: str, nick: str) -> None:
        """Puts ``user`` in the room as ``nick`` without a session (a scripted member)."""
        room = self._room(address)
        name = self._user_name(user)
        room.members[name] = nick
        room.scripted.add(name)
        self._push_members(address)

    async def say_in_room(self, user: str, address: str, body: str) -> StoredMessage:
        """As if the member ``user`` said ``body`` in the room."""
        name, key = self._user_name(user), normalize_address(address)
        room = self._room(key)
        if name not in room.members:
            raise KeyError(f"{name!r} is not in the room {key!r}")
        message = StoredMessage(self._next_id(), name, key, body, wire.now(), room=key, nick=room.members[name])
        self._route_room(message)
        return message

    async def set_room_topic(self, user: str, address: str, topic: str) -> None:
        """As if ``user`` set the room's topic."""
        key = normalize_address(address)
        room = self._room(key)
        room.topic, room.topic_by = topic, room.members.get(self._user_name(user), user)
        self._push_topic(key)

    def _room(self, address: str) -> _Room:
        key = normalize_address(address)
        found = self._rooms.get(key)
        if found is None:
            raise KeyError(f"no room {key!r} on this fake server")
        return found

    # ------------------------------------------------------------------------------- connections

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        session = _Session(writer)
        self._sessions.add(session)
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:
                    session.send({"op": "error", "reason": "line too long"})
                    continue
                except OSError:
                    break
                if not line:
                    break
                if line.strip():
                    self._dispatch(session, line)
        finally:
            self._sessions.discard(session)
            self._tasks.discard(task)
            writer.close()
            if session.user and not self.online(session.user):
                self._set_presence(session.user, PresenceKind.OFFLINE.value, "")
                self._drop_from_rooms(session.user)
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _dispatch(self, session: _Session, line: bytes) -> None:
        request_id: object = None
        try:
            frame = wire.decode(line)
            request_id = frame.get("id")
            op = frame["op"]
            if op == "login":
                self._login(session, frame)
            elif op == "ping":
                session.send({"op": "pong", "id": request_id})
            elif session.user is None:
                raise WireError(f"{op}: not logged in")
            elif op == "send":
                self._send(session, session.user, frame)
            elif op == "presence":
                kind = wire.text(frame, "kind")
                if kind not in _PRESENCE_VALUES:
                    raise WireError(f"presence: unknown kind {kind!r}")
                self._set_presence(session.user, kind, wire.text(frame, "status", default=""))
            elif op == "join":
                self._join(session, session.user, frame)
            elif op == "leave":
                self._leave(session, session.user, frame)
            elif op == "topic":
                self._topic(session, session.user, frame)
            elif op == "typing":
                to = self._user_name(wire.text(frame, "to"))
                self.typing_log.append((session.user, to, wire.flag(frame, "typing")))
                for other in self._sessions_of(to):
                    other.send({"op": "typing", "from": session.user, "typing": wire.flag(frame, "typing")})
            else:
                raise WireError(f"unknown op {op!r}")
        except WireError as exc:
            session.send({"op": "error", "id": request_id, "reason": str(exc)})
        except Exception:  # the server never crashes on a client's input
            log.exception("fake server: error handling a line")
            session.send({"op": "error", "id": request_id, "reason": "internal error"})

    def _login(self, session: _Session, frame: Frame) -> None:
        if session.user is not None:
            raise WireError("login: already logged in")
        name, password = wire.text(frame, "user").strip().lower(), wire.text(frame, "password")
        if self._failing_logins > 0:
            self._failing_logins -= 1
            reason = "service temporarily unavailable"
            session.send({"op": "login_error", "reason": reason, "temporary": True})
            return
        user = self._users.get(name)
        if user is None or user.password != password:
            reason = "unknown user" if user is None else "wrong password"
            session.send({"op": "login_error", "reason": reason, "temporary": False})
            return
        session.user = name
        session.send({"op": "login_ok", "user": name})
        roster = self._roster(name)
        items = [{"handle": contact, "name": contact.partition("@")[0]} for contact in roster]
        session.send({"op": "roster", "items": items})
        for contact in roster:
            if presence := self._visible_presence(contact):
                session.send(presence)
        if user.presence[0] == PresenceKind.OFFLINE.value:
            self._set_presence(name, PresenceKind.AVAILABLE.value, "")
        queued, user.queue = user.queue, []
        for message in queued:
            session.send(message.frame(offline=True))

    def _send(self, session: _Session, user: str, frame: Frame) -> None:
        request_id = frame.get("id")
        to, body = wire.text(frame, "to").strip().lower(), wire.text(frame, "body")
        kind, key = wire.text(frame, "kind", default="chat"), wire.optional_text(frame, "key")
        sender = self._users[user]
        if self.reject_sends:
            raise WireError("send rejected by the server")
        if len(body) > wire.MAX_BODY_LENGTH:
            raise WireError(f"send: body longer than {wire.MAX_BODY_LENGTH} characters")
        room = self._rooms.get(to)
        if room is not None and user not in room.members:
            raise WireError(f"send: you are not in the room {to!r}")
        if room is None and to not in self._users:
            raise WireError(f"send: unknown recipient {to!r}")
        message = sender.keys.get(key) if key else None
        if message is None:
            nick = room.members[user] if room is not None else None
            message = StoredMessage(
                self._next_id(), user, to, body, wire.now(), kind, key, to if room is not None else None, nick
            )
            sender.accepted.append(message)
            if key:
                sender.keys[key] = message
            if room is not None:
                self._route_room(message)
            else:
                self._route(message)
        else:
            log.info("fake server: %s resent %s, acked with %s", user, key, message.server_id)
        timestamp = wire.format_timestamp(message.timestamp)
        ack = {"op": "ack", "id": request_id, "server_id": message.server_id, "timestamp": timestamp}
        if self.ack_delay > 0:  # later acks do not wait for this one, like a busy server
            asyncio.get_running_loop().call_later(self.ack_delay, session.send, ack)
        else:
            session.send(ack)

    def _join(self, session: _Session, user: str, frame: Frame) -> None:
        key = normalize_address(wire.text(frame, "room"))
        nick = wire.text(frame, "nick", default=user.partition("@")[0]).strip()
        if not nick:
            raise WireError("join: the nick is empty")
        room = self._rooms.setdefault(key, _Room())
        if room.refusal is not None:
            raise WireError(f"join: {room.refusal}")
        holder = room.nick_holder(nick)
        if holder is not None and holder != user:
            raise WireError(f"join: the nick {nick!r} is already in use in {key}")
        room.members[user] = nick
        for own in self._sessions_of(user):
            own.send({"op": "room_joined", "room": key, "nick": nick})
        self._push_members(key)
        for own in self._sessions_of(user):
            own.send({"op": "room_topic", "room": key, "topic": room.topic, "by": room.topic_by})
        session.send({"op": "ack", "id": frame.get("id"), "room": key})

    def _leave(self, session: _Session, user: str, frame: Frame) -> None:
        key = normalize_address(wire.text(frame, "room"))
        room = self._rooms.get(key)
        if room is not None and room.members.pop(user, None) is not None:
            room.scripted.discard(user)
            self._push_members(key)
        for own in self._sessions_of(user):
            own.send({"op": "room_left", "room": key, "reason": "left"})
        session.send({"op": "ack", "id": frame.get("id"), "room": key})

    def _topic(self, session: _Session, user: str, frame: Frame) -> None:
        key = normalize_address(wire.text(frame, "room"))
        room = self._rooms.get(key)
        if room is None or user not in room.members:
            raise WireError(f"topic: you are not in the room {key!r}")
        room.topic, room.topic_by = wire.text(frame, "topic"), room.members[user]
        self._push_topic(key)
        session.send({"op": "ack", "id": frame.get("id"), "room": key})

    def _drop_from_rooms(self, user: str) -> None:
        """A user whose last session closed leaves every room (as in XMPP MUC)."""
        for key, room in self._rooms.items():
            if user in room.members and user not in room.scripted:
                del room.members[user]
                self._push_members(key)

    def _room_sessions(self, room: _Room) -> list[_Session]:
        return [s for s in self._sessions if s.user is not None and s.user in room.members]

    def _push_members(self, key: str) -> None:
        room = self._rooms[key]
        frame = {"op": "room_members", "room": key, "members": sorted(room.members.values(), key=str.casefold)}
        for session in self._room_sessions(room):
            session.send(frame)

    def _push_topic(self, key: str) -> None:
        room = self._rooms[key]
        for session in self._room_sessions(room):
            session.send({"op": "room_topic", "room": key, "topic": room.topic, "by": room.topic_by})

    def _route_room(self, message: StoredMessage) -> None:
        room = self._rooms[message.to]
        for session in self._room_sessions(room):
            session.send(message.frame(echo=session.user == message.sender))

    # ------------------------------------------------------------------------------------ routing

    def _route(self, message: StoredMessage) -> None:
        recipients = self._sessions_of(message.to)
        if recipients:
            for session in recipients:
                session.send(message.frame())
        else:
            self._users[message.to].queue.append(message)
        for session in self._sessions_of(message.sender):
            session.send(message.frame(echo=True))

    def _set_presence(self, user: str, kind: str, status: str) -> None:
        self._users[user].presence = (kind, status)
        frame = self._visible_presence(user)
        frame = frame or {"op": "presence", "from": user, "kind": PresenceKind.OFFLINE.value, "status": ""}
        for session in self._sessions:
            if session.user and session.user != user and user in self._roster(session.user):
                session.send(frame)

    def _visible_presence(self, user: str) -> Frame | None:
        """The presence frame others see for ``user``, or None when they see it offline."""
        found = self._users.get(user)
        if found is None:
            return None
        kind, status = found.presence
        if kind in (PresenceKind.OFFLINE.value, PresenceKind.INVISIBLE.value):
            return None
        return {"op": "presence", "from": user, "kind": kind, "status": status}

    def _roster(self, user: str) -> Sequence[str]:
        roster = self._users[user].roster
        return roster if roster is not None else [other for other in self._users if other != user]

    def _sessions_of(self, user: str) -> list[_Session]:
        return [session for session in self._sessions if session.user == user]

    def _user_name(self, address: str) -> str:
        user = normalize_address(address)
        if user not in self._users:
            raise KeyError(f"no user {user!r} on this fake server")
        return user

    def _next_id(self) -> str:
        return f"s-{next(self._ids)}"


async def _serve(host: str, port: int, users: Sequence[str]) -> None:
    server = FakeServer(host, port)
    for spec in users:
        address, _, password = spec.partition(":")
        server.add_user(address, password)
    await server.start()
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a fake IM server for manual testing.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (logged at start)")
    parser.add_argument("--user", action="append", default=[], metavar="ADDRESS:PASSWORD")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.user))


if __name__ == "__main__":
    main()
