"""The contract harness for IRC: InspIRCd + Atheme, and peers driven by the sans-I/O ``IrcClient``.

"Contacts" on IRC are people who share a channel: every account joins its own ``#c-<nick>`` channel
after each connect, and ``make_contacts`` makes the peer join it (away-notify, WHO and WHOIS then
report the peer's presence). The adapter never joins on its own (the ``autojoin`` option is the core's
room service's), so adapters made through the harness's ``info`` join that channel the way the core
would: right after ``connect``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import secrets
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, cast

from aggregator.api import (
    AccountSettings,
    Adapter,
    Credentials,
    EventSink,
    PresenceKind,
    ProtocolInfo,
    SupportsGroupChat,
)
from protocols.irc import PROTOCOL
from protocols.irc import events as ev
from protocols.irc.client import IrcClient
from protocols.irc.message import IrcMessage
from tests.contract.harness import ContractHarness, Peer, unused_tcp_port
from tests.servers.certs import TestCerts
from tests.servers.irc import HOST, IrcServer

if TYPE_CHECKING:
    from tests.servers.irc_fixtures import IrcUserPool

#: Peers connected in the background when a harness starts (each registration takes ~1 s).
PREPARED_PEERS = 2


def contacts_channel(nick: str) -> str:
    return "#c-" + PROTOCOL.normalize_handle(nick)


class IrcPeer:
    """A bare IRC client on the plain port (no adapter): what another user's client does on the wire."""

    def __init__(self, nick: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.address = nick
        self.handle = PROTOCOL.normalize_handle(nick)
        self.client = IrcClient(nick)
        self.events: list[ev.Event] = []
        self._reader, self._writer = reader, writer
        self._messages: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._labels = itertools.count(1)
        self._task = asyncio.create_task(self._read())
        self.write(self.client.start())

    @classmethod
    async def connect(cls, server: IrcServer, nick: str, timeout: float = 20) -> IrcPeer:
        reader, writer = await asyncio.open_connection(HOST, server.port)
        peer = cls(nick, reader, writer)
        await peer.wait_event(lambda e: isinstance(e, ev.Registered), timeout)
        return peer

    def write(self, messages: list[IrcMessage]) -> None:
        for message in messages:
            self._writer.write(message.to_bytes())

    def write_raw(self, data: bytes) -> None:
        self._writer.write(data)

    async def _read(self) -> None:
        while data := await self._reader.read(65536):
            for event in self.client.feed(data):
                if isinstance(event, ev.Send):
                    self.write([event.message])
                    continue
                self.events.append(event)
                if (
                    isinstance(event, ev.Message)
                    and not event.is_echo
                    and event.command == "PRIVMSG"
                    and self.client.is_me(event.target)
                ):
                    self._messages.put_nowait((event.source, event.text))
                self._changed.set()

    async def wait_event(self, predicate: Callable[[ev.Event], bool], timeout: float = 10) -> ev.Event:
        """The first event seen so far or still to come that matches ``predicate``."""
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                if self._task.done():
                    raise ConnectionError(f"peer {self.address} lost its connection")
                self._changed.clear()
                await self._changed.wait()

    async def sync(self) -> None:
        """Returns once the server has handled everything sent so far (a PING round trip)."""
        token = secrets.token_hex(4)
        self.write(self.client.ping(token))
        await self.wait_event(lambda e: isinstance(e, ev.Pong) and e.token == token)

    async def send(self, to: str, body: str) -> None:
        await self.send_message(to, body)

    async def send_message(self, to: str, body: str, *, action: bool = False) -> ev.Message:
        """Sends and returns our echo (so the server has accepted it)."""
        label = f"p{next(self._labels)}"
        self.write(self.client.privmsg(to, body, label=label, action=action))
        found = await self.wait_event(
            lambda e: (
                (isinstance(e, ev.Message) and e.is_echo and e.label == label)
                or (isinstance(e, ev.ErrorReply) and e.label == label)
            )
        )
        assert isinstance(found, ev.Message), f"the server refused a message from {self.address}: {found}"
        return found

    async def next_message(self, timeout: float = 10) -> tuple[str, str]:
        async with asyncio.timeout(timeout):
            return await self._messages.get()

    async def set_presence(self, kind: PresenceKind, status: str) -> None:
        self.write(self.client.away(None if kind is PresenceKind.AVAILABLE else status or kind.value))
        await self.sync()

    async def join(self, channel: str) -> None:
        folded = self.client.casefold(channel)
        self.write(self.client.join(channel))
        await self.wait_event(lambda e: isinstance(e, ev.Names) and self.client.casefold(e.channel) == folded)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.write(self.client.quit())
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()


class JoinsContactsChannel:
    """An adapter as the core runs it for the contract suite: after each ``connect`` the account's
    contacts channel is joined (what the core's room service does for an ``autojoin`` option)."""

    def __init__(self, adapter: SupportsGroupChat, channel: str) -> None:
        self._adapter = adapter
        self._channel = channel

    async def connect(self, credentials: Credentials) -> None:
        await cast(Adapter, self._adapter).connect(credentials)
        await self._adapter.join_room(self._channel)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)


class IrcHarness:
    """``ContractHarness`` over the session's InspIRCd + Atheme."""

    def __init__(self, server: IrcServer, pool: IrcUserPool, certs: TestCerts) -> None:
        self.server = server
        self.pool = pool
        self.certs = certs
        self.info: ProtocolInfo = dataclasses.replace(PROTOCOL, create=self._create)
        self._peers: list[IrcPeer] = []
        self._prepared: list[asyncio.Task[IrcPeer]] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls, server: IrcServer, pool: IrcUserPool, certs: TestCerts) -> AsyncIterator[IrcHarness]:
        harness = cls(server, pool, certs)
        harness._prepared = [asyncio.create_task(harness._connect_peer()) for _ in range(PREPARED_PEERS)]
        try:
            yield harness
        finally:
            for task in harness._prepared:
                task.cancel()
            for task in harness._prepared:
                with contextlib.suppress(BaseException):
                    harness._peers.append(await task)
            for peer in harness._peers:
                await peer.close()

    async def _connect_peer(self) -> IrcPeer:
        return await IrcPeer.connect(self.server, f"p{secrets.token_hex(5)}")

    async def new_user(self) -> tuple[str, str]:
        user = await self.pool.take()
        return user.nick, user.password

    def _create(self, settings: AccountSettings, sink: EventSink) -> Adapter:
        adapter = PROTOCOL.create(settings, sink)
        assert isinstance(adapter, SupportsGroupChat)
        return cast(Adapter, JoinsContactsChannel(adapter, contacts_channel(settings.address)))

    def settings(self, account_id: str, address: str, **options: str) -> AccountSettings:
        """Settings for TLS on the test CA."""
        return AccountSettings(
            account_id, address, server=self.server.tls_address, ca_file=self.certs.ca_file, options=options
        )

    def plain_settings(self, account_id: str, address: str, **options: str) -> AccountSettings:
        return AccountSettings(account_id, address, server=self.server.address, allow_plaintext=True, options=options)

    def unreachable_settings(self, account_id: str, address: str) -> AccountSettings:
        return AccountSettings(account_id, address, server=f"localhost:{unused_tcp_port()}", ca_file=self.certs.ca_file)

    async def new_peer(self) -> IrcPeer:
        peer = await (self._prepared.pop(0) if self._prepared else self._connect_peer())
        self._peers.append(peer)
        return peer

    async def make_contacts(self, a: str, b: str) -> None:
        """The peer among ``a`` and ``b`` joins the other's contacts channel."""
        for peer in self._peers:
            if peer.address == b:
                await peer.join(contacts_channel(a))
            elif peer.address == a:
                await peer.join(contacts_channel(b))


if TYPE_CHECKING:  # mypy checks that the classes implement the harness protocols

    def _conforms(harness: IrcHarness, peer: IrcPeer) -> tuple[ContractHarness, Peer]:
        return harness, peer
