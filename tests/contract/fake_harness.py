"""The contract harness for the fake protocol: a ``FakeServer`` per test and raw-socket peers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from aggregator.api import AccountSettings, PresenceKind, ProtocolInfo
from protocols.fake import PROTOCOL, wire
from protocols.fake.server import FakeServer
from tests.contract.harness import ContractHarness, Peer, unused_tcp_port


class FakePeer:
    """A bare client of the fake server (no adapter): what another user's client does on the wire."""

    def __init__(self, address: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.address = address
        self.handle = PROTOCOL.normalize_handle(address)
        self.frames: list[dict[str, Any]] = []  # everything the server pushed, in order
        self._reader, self._writer = reader, writer
        self._messages: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def login(cls, server: FakeServer, address: str, password: str) -> FakePeer:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(wire.encode({"op": "login", "user": address, "password": password}))
        reply = wire.decode(await reader.readline())
        if reply["op"] != "login_ok":
            writer.close()
            raise AssertionError(f"peer {address} could not log in: {reply}")
        return cls(address, reader, writer)

    async def _read(self) -> None:
        while line := await self._reader.readline():
            frame = wire.decode(line)
            self.frames.append(frame)
            self._changed.set()
            if frame["op"] == "message" and not frame["echo"]:
                self._messages.put_nowait((frame["from"], frame["body"]))
            elif frame["op"] in ("ack", "error"):
                self._replies.put_nowait(frame)

    async def request(self, frame: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        """Sends ``frame`` with a fresh id and returns the server's ack or error for it."""
        request_id = next(self._ids)
        self._writer.write(wire.encode(frame | {"id": request_id}))
        async with asyncio.timeout(timeout):
            while True:
                reply = await self._replies.get()
                if reply.get("id") == request_id:
                    return reply

    async def wait_frame(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        """The first frame pushed so far or still to come that matches ``predicate``."""
        async with asyncio.timeout(timeout):
            while True:
                for frame in self.frames:
                    if predicate(frame):
                        return frame
                self._changed.clear()
                await self._changed.wait()

    def write_raw(self, data: bytes) -> None:
        self._writer.write(data)

    async def send(self, to: str, body: str) -> None:
        reply = await self.request({"op": "send", "to": to, "body": body, "key": secrets.token_hex(8)})
        assert reply["op"] == "ack", reply

    async def next_message(self, timeout: float = 10) -> tuple[str, str]:
        async with asyncio.timeout(timeout):
            return await self._messages.get()

    async def set_presence(self, kind: PresenceKind, status: str) -> None:
        self._writer.write(wire.encode({"op": "presence", "kind": kind.value, "status": status}))
        await self._writer.drain()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()


class FakeHarness:
    """``ContractHarness`` over a ``FakeServer`` started for one test."""

    info: ProtocolInfo = PROTOCOL

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self._peers: list[FakePeer] = []
        self._users = itertools.count(1)

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls) -> AsyncIterator[FakeHarness]:
        async with FakeServer() as server:
            harness = cls(server)
            try:
                yield harness
            finally:
                for peer in harness._peers:
                    await peer.close()

    async def new_user(self) -> tuple[str, str]:
        address, password = f"user{next(self._users)}@fake.test", secrets.token_urlsafe(12)
        self.server.add_user(address, password)
        return address, password

    def settings(self, account_id: str, address: str) -> AccountSettings:
        return AccountSettings(account_id, address, server=self.server.address, allow_plaintext=True)

    def unreachable_settings(self, account_id: str, address: str) -> AccountSettings:
        server = f"127.0.0.1:{unused_tcp_port()}"
        return AccountSettings(account_id, address, server=server, allow_plaintext=True)

    async def new_peer(self) -> FakePeer:
        peer = await FakePeer.login(self.server, *await self.new_user())
        self._peers.append(peer)
        return peer

    async def make_contacts(self, a: str, b: str) -> None:
        """Nothing to do: every user has every other user on their roster by default."""


if TYPE_CHECKING:  # mypy checks that the fakes implement the harness protocols

    def _conforms(harness: FakeHarness, peer: FakePeer) -> tuple[ContractHarness, Peer]:
        return harness, peer
