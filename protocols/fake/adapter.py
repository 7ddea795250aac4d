"""``FakeAdapter``: the ``Adapter`` for the fake protocol, a client of ``FakeServer``."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from aggregator.api import (
    AccountSettings,
    AdapterEvent,
    AdapterWarning,
    AuthenticationError,
    ConnectionLost,
    ConversationKey,
    ConversationKind,
    Credentials,
    EventSink,
    NetworkError,
    NotConnectedError,
    OutgoingMessage,
    PlaintextRefusedError,
    Presence,
    ProtocolError,
    SendReceipt,
    UnsupportedError,
)
from protocols.fake import mapping, wire
from protocols.fake.addresses import normalize_address, parse_server
from protocols.fake.wire import Frame, WireError

log = logging.getLogger(__name__)

#: Seconds to wait for the TCP connection, the login reply, and a send's acknowledgement.
CONNECT_TIMEOUT = 10.0
REPLY_TIMEOUT = 30.0


def _reason(reply: Frame, op: str = "") -> str:
    """The server's reason in an error reply, without the ``op:`` prefix the server puts first."""
    reason = reply.get("reason")
    return reason.removeprefix(f"{op}: ") if isinstance(reason, str) else "no reason given"


class FakeAdapter:
    """One account on a fake server. Raises ``ConfigurationError`` for unusable settings."""

    def __init__(self, settings: AccountSettings, sink: EventSink) -> None:
        self._settings = settings
        self._sink = sink
        self._account_id = settings.account_id
        self._address = normalize_address(settings.address)
        self._host, self._port = parse_server(settings.server)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Frame]] = {}
        self._ids = itertools.count(1)
        self._connected = False

    @property
    def _where(self) -> str:
        return f"{self._host}:{self._port}"

    # -------------------------------------------------------------------------------- connection

    async def connect(self, credentials: Credentials) -> None:
        if self._connected:
            return
        await self.disconnect()  # drop what is left of an earlier, lost connection
        if not self._settings.allow_plaintext:
            raise PlaintextRefusedError(
                f"the server {self._where} offers no encryption; allow plaintext for this account to connect anyway"
            )
        if not credentials.password:
            raise AuthenticationError(f"{self._address}: no password given")
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                self._reader, self._writer = await asyncio.open_connection(
                    self._host, self._port, limit=wire.LINE_LIMIT
                )
                login = {"op": "login", "user": self._address, "password": credentials.password}
                self._writer.write(wire.encode(login))
                reply = await self._read_frame()
        except TimeoutError:
            await self.disconnect()
            raise NetworkError(f"cannot reach {self._where}: no answer in {CONNECT_TIMEOUT:g} s") from None
        except OSError as exc:
            await self.disconnect()
            raise NetworkError(f"cannot reach {self._where}: {exc.strerror or exc}") from None
        except BaseException:
            await self.disconnect()
            raise
        if reply["op"] != "login_ok":
            await self.disconnect()
            reason = reply.get("reason") if isinstance(reply.get("reason"), str) else "no reason given"
            if reply["op"] == "login_error" and reply.get("temporary") is True:
                raise NetworkError(f"{self._where} refused the login for now: {reason}")
            if reply["op"] == "login_error":
                raise AuthenticationError(f"{self._where} refused the login of {self._address}: {reason}")
            raise ProtocolError(f"{self._where} answered the login with {reply['op']!r}")
        self._connected = True
        self._read_task = asyncio.create_task(self._read_loop(), name=f"fake-adapter {self._account_id}")
        log.info("%s connected to %s", self._account_id, self._where)

    async def _read_frame(self) -> Frame:
        """The next valid frame during login; malformed ones are reported and skipped."""
        assert self._reader is not None
        while True:
            try:
                line = await self._reader.readline()
            except ValueError:
                self._warn(f"{self._where} sent a line longer than {wire.LINE_LIMIT} bytes")
                continue
            if not line:
                raise ConnectionResetError(0, "the server closed the connection")
            try:
                return wire.decode(line)
            except WireError as exc:
                self._warn(f"malformed line from {self._where}: {exc}")

    async def disconnect(self) -> None:
        self._connected = False
        task, self._read_task = self._read_task, None
        writer, self._writer = self._writer, None
        self._reader = None
        self._fail_pending(NotConnectedError(f"{self._account_id} disconnected"))
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait([task])  # unlike ``await task``, never raises the task's own error
            if not task.cancelled() and task.exception() is not None:
                log.error("%s: the reader had failed", self._account_id, exc_info=task.exception())
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_loop(self) -> None:
        reader = self._reader
        assert reader is not None
        reason = "the server closed the connection"
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:
                    self._warn(f"{self._where} sent a line longer than {wire.LINE_LIMIT} bytes")
                    continue
                if not line:
                    break
                if line.strip():
                    self._on_line(line)
        except OSError as exc:
            reason = f"connection to {self._where} lost: {exc.strerror or exc}"
        if self._connected:  # not a disconnect() of ours
            self._connected = False
            self._fail_pending(NetworkError(f"{reason} before the server answered"))
            log.info("%s: %s", self._account_id, reason)
            self._emit(ConnectionLost(account_id=self._account_id, reason=reason, retryable=True))

    def _on_line(self, line: bytes) -> None:
        try:
            frame = wire.decode(line)
            op = frame["op"]
            if op in ("ack", "error"):
                self._on_reply(frame)
            elif op == "pong":
                pass
            else:
                self._emit(mapping.to_event(frame, self._account_id))
        except WireError as exc:
            self._warn(f"malformed line from {self._where}: {exc}")
        except Exception as exc:  # whatever the server sends, the adapter keeps running
            log.exception("%s: could not handle a line from %s", self._account_id, self._where)
            self._warn(f"could not handle a line from {self._where}: {exc!r}")

    def _on_reply(self, frame: Frame) -> None:
        request_id = frame.get("id")
        future = self._pending.pop(request_id, None) if isinstance(request_id, int) else None
        if future is None:
            if frame["op"] == "error":
                self._warn(f"{self._where} reported an error: {frame.get('reason')!s}")
            else:
                self._warn(f"{self._where} acknowledged an unknown request {request_id!r}")
        elif not future.done():
            future.set_result(frame)

    # ----------------------------------------------------------------------------------- actions

    async def set_presence(self, presence: Presence) -> None:
        self._write({"op": "presence", "kind": presence.kind.value, "status": presence.status})

    async def set_typing(self, conversation: ConversationKey, typing: bool) -> None:
        self._write({"op": "typing", "to": self._recipient(conversation), "typing": typing})

    async def send_message(self, conversation: ConversationKey, message: OutgoingMessage) -> SendReceipt:
        if message.file is not None:
            raise UnsupportedError("the test server cannot carry files")
        frame = {
            "op": "send",
            "to": self._recipient(conversation),
            "body": message.body,
            "kind": mapping.KIND_NAMES.get(message.kind, "chat"),
            "key": message.idempotency_key,
        }
        reply = await self._request(frame)
        if reply["op"] == "error":
            raise ProtocolError(f"{self._where} refused the message: {_reason(reply)}")
        try:
            return SendReceipt(
                remote_id=wire.text(reply, "server_id"),
                timestamp=wire.parse_timestamp(wire.text(reply, "timestamp")),
            )
        except WireError as exc:
            raise ProtocolError(f"{self._where} sent a malformed acknowledgement: {exc}") from None

    def _recipient(self, conversation: ConversationKey) -> str:
        return normalize_address(conversation.handle)

    # -------------------------------------------------------------------------------- group chat

    async def join_room(self, room: str, nick: str | None = None) -> ConversationKey:
        """Joins (or creates) ``room`` as ``nick`` (default: the user name); the server reports the
        join, the members and the topic before it acknowledges."""
        address = normalize_address(room)
        frame: Frame = {"op": "join", "room": address}
        if nick is not None and nick.strip():
            frame["nick"] = nick.strip()
        reply = await self._request(frame)
        if reply["op"] == "error":
            raise ProtocolError(f"cannot join {address}: {_reason(reply, 'join')}")
        return ConversationKey.room(self._account_id, address)

    async def leave_room(self, room: ConversationKey) -> None:
        reply = await self._request({"op": "leave", "room": self._room(room)})
        if reply["op"] == "error":
            raise ProtocolError(f"cannot leave {room.handle}: {_reason(reply, 'leave')}")

    async def set_topic(self, room: ConversationKey, topic: str) -> None:
        reply = await self._request({"op": "topic", "room": self._room(room), "topic": topic})
        if reply["op"] == "error":
            raise ProtocolError(f"cannot set the topic of {room.handle}: {_reason(reply, 'topic')}")

    @staticmethod
    def _room(conversation: ConversationKey) -> str:
        if conversation.kind is not ConversationKind.ROOM:
            raise ProtocolError(f"{conversation.handle} is not a room")
        return normalize_address(conversation.handle)

    async def _request(self, frame: Frame) -> Frame:
        request_id = next(self._ids)
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._write(frame | {"id": request_id})
        self._pending[request_id] = future
        try:
            async with asyncio.timeout(REPLY_TIMEOUT):
                return await future
        except TimeoutError:
            raise NetworkError(f"{self._where} did not answer within {REPLY_TIMEOUT:g} s") from None
        finally:
            self._pending.pop(request_id, None)

    # ------------------------------------------------------------------------------------ helpers

    def _write(self, frame: Frame) -> None:
        if not self._connected or self._writer is None or self._writer.is_closing():
            raise NotConnectedError(f"{self._account_id} is not connected")
        self._writer.write(wire.encode(frame))

    def _fail_pending(self, error: Exception) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)

    def _warn(self, message: str) -> None:
        log.warning("%s: %s", self._account_id, message)
        self._emit(AdapterWarning(account_id=self._account_id, message=message))

    def _emit(self, event: AdapterEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken sink must not stop the connection
            log.exception("%s: the event sink failed on %s", self._account_id, type(event).__name__)
