"""The contract harness for XMPP: the session's Prosody, fresh users per test, plain slixmpp peers.

The ``xmpp_harness`` fixture lives in ``tests/servers/fixtures.py`` (a registered plugin), so that the
contract conftest needs nothing but ``"xmpp"`` in ``HARNESSES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import slixmpp

from aggregator.api import AccountSettings, PresenceKind, ProtocolInfo
from protocols.xmpp import PROTOCOL
from protocols.xmpp.mapping import KIND_TO_SHOW
from tests.contract.harness import ContractHarness, Peer, unused_tcp_port
from tests.servers.certs import TestCerts
from tests.servers.prosody import ProsodyServer

LOGIN_TIMEOUT = 15.0


async def login_client(
    server: ProsodyServer,
    jid: str,
    password: str,
    *,
    resource: str | None = None,
    ca_file: Any = None,
    plugins: tuple[str, ...] = ("xep_0030", "xep_0199", "xep_0280"),
    presence: bool = True,
) -> Any:
    """A plain slixmpp client logged in on ``server`` (STARTTLS, the test CA), roster fetched."""
    client: Any = slixmpp.ClientXMPP(f"{jid}/{resource or 'peer-' + secrets.token_hex(3)}", password)
    for plugin in plugins:
        client.register_plugin(plugin)
    client.ca_certs = ca_file or server.certs.ca_file
    client.enable_direct_tls = False
    client.enable_plaintext = False
    client.auto_authorize = True
    client.auto_subscribe = True
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_start(_: Any) -> None:
        if not started.done():
            started.set_result(None)

    def on_fail(reason: Any) -> None:
        if not started.done():
            started.set_exception(AssertionError(f"test client {jid} could not log in: {reason!r}"))

    client.add_event_handler("session_start", on_start)
    client.add_event_handler("failed_auth", on_fail)
    client.add_event_handler("connection_failed", on_fail)
    client.connect(server.host, server.c2s_port)
    try:
        async with asyncio.timeout(LOGIN_TIMEOUT):
            await started
            await client.get_roster()
    except BaseException:
        await close_client(client)
        raise
    if presence:
        client.send_presence()
    return client


async def close_client(client: Any) -> None:
    with contextlib.suppress(Exception):
        client.cancel_connection_attempt()
    if client.transport is not None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(3):
                await client.disconnect(wait=1)
    with contextlib.suppress(Exception):
        client.abort()
    sender = getattr(client, "_run_out_filters", None)
    if sender is not None and not sender.done():
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender


async def server_round_trip(client: Any, timeout: float = 10) -> None:
    """Returns once the server has processed everything ``client`` sent before (a ping answers in order)."""
    await client.plugin["xep_0199"].ping(jid=client.boundjid.domain, timeout=timeout)


async def wait_until(condition: Callable[[], bool], timeout: float = 10, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    delay = 0.005
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:g} s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


class XmppPeer:
    """Another user, online through a bare slixmpp client (auto-accepts subscriptions)."""

    def __init__(self, address: str, client: Any) -> None:
        self.address = address
        self.handle = PROTOCOL.normalize_handle(address)
        self.client = client
        self.stanzas: list[Any] = []  # every message stanza received, in order
        self._messages: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        client.add_event_handler("message", self._on_message)

    @classmethod
    async def login(cls, server: ProsodyServer, address: str, password: str) -> XmppPeer:
        return cls(address, await login_client(server, address, password))

    def _on_message(self, message: Any) -> None:
        self.stanzas.append(message)
        if message["type"] in ("chat", "normal") and message["body"]:
            self._messages.put_nowait((str(message["from"].bare), str(message["body"])))

    async def send(self, to: str, body: str) -> None:
        self.client.send_message(mto=to, mbody=body, mtype="chat")
        await server_round_trip(self.client)

    def send_raw(self, xml: str) -> None:
        self.client.send_raw(xml)

    async def next_message(self, timeout: float = 10) -> tuple[str, str]:
        async with asyncio.timeout(timeout):
            return await self._messages.get()

    async def set_presence(self, kind: PresenceKind, status: str) -> None:
        if kind in (PresenceKind.OFFLINE, PresenceKind.INVISIBLE):
            self.client.send_presence(ptype="unavailable", pstatus=status or None)
        else:
            self.client.send_presence(pshow=KIND_TO_SHOW[kind] or None, pstatus=status or None)
        await server_round_trip(self.client)

    async def close(self) -> None:
        await close_client(self.client)


class XmppHarness:
    """``ContractHarness`` over the session's Prosody."""

    info: ProtocolInfo = PROTOCOL

    def __init__(self, server: ProsodyServer, certs: TestCerts) -> None:
        self.server = server
        self.certs = certs
        self.passwords: dict[str, str] = {}
        self._peers: list[XmppPeer] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls, server: ProsodyServer, certs: TestCerts) -> AsyncIterator[XmppHarness]:
        harness = cls(server, certs)
        try:
            yield harness
        finally:
            for peer in harness._peers:
                await peer.close()

    async def new_user(self) -> tuple[str, str]:
        user = await self.server.new_user()
        self.passwords[user.jid] = user.password
        return user.jid, user.password

    def settings(self, account_id: str, address: str, **options: str) -> AccountSettings:
        return AccountSettings(
            account_id, address, server=self.server.starttls_address, ca_file=self.certs.ca_file, options=options
        )

    def unreachable_settings(self, account_id: str, address: str) -> AccountSettings:
        return AccountSettings(account_id, address, server=f"127.0.0.1:{unused_tcp_port()}", ca_file=self.certs.ca_file)

    async def new_peer(self) -> XmppPeer:
        address, password = await self.new_user()
        peer = await XmppPeer.login(self.server, address, password)
        self._peers.append(peer)
        return peer

    async def make_contacts(self, a: str, b: str) -> None:
        """Mutual presence subscription, negotiated by two short-lived helper sessions that auto-accept."""
        first, second = await asyncio.gather(
            login_client(self.server, a, self.passwords[a], resource="setup"),
            login_client(self.server, b, self.passwords[b], resource="setup"),
        )
        try:
            first.send_presence_subscription(pto=b)

            def mutual() -> bool:
                return bool(
                    first.client_roster[b]["subscription"] == "both"
                    and second.client_roster[a]["subscription"] == "both"
                )

            await wait_until(mutual, what=f"mutual subscription of {a} and {b}")
        finally:
            await asyncio.gather(close_client(first), close_client(second))


if TYPE_CHECKING:  # mypy checks that the harness implements the protocols

    def _conforms(harness: XmppHarness, peer: XmppPeer) -> tuple[ContractHarness, Peer]:
        return harness, peer
