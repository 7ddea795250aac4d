"""``FakeServer``: an asyncio TCP server speaking the fake protocol (JSON lines) on loopback.

Tests start one per test (``port=0`` picks a free port) and script it: users, offline messages,
presence, dropped connections, failing logins, slow or rejected sends. Run it standalone with
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

    def frame(self, *, offline: bool = False, echo: bool = False) -> Frame:
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
        if to not in self._users:
            raise WireError(f"send: unknown recipient {to!r}")
        message = sender.keys.get(key) if key else None
        if message is None:
            message = StoredMessage(self._next_id(), user, to, body, wire.now(), kind, key)
            sender.accepted.append(message)
            if key:
                sender.keys[key] = message
            self._route(message)
        else:
            log.info("fake server: %s resent %s, acked with %s", user, key, message.server_id)
        timestamp = wire.format_timestamp(message.timestamp)
        ack = {"op": "ack", "id": request_id, "server_id": message.server_id, "timestamp": timestamp}
        if self.ack_delay > 0:  # later acks do not wait for this one, like a busy server
            asyncio.get_running_loop().call_later(self.ack_delay, session.send, ack)
        else:
            session.send(ack)

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
