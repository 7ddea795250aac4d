"""Fixtures for the XMPP adapter's own tests, over the session's Prosody (``tests/servers/fixtures.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from aggregator.api import AccountSettings, Credentials
from protocols.xmpp.adapter import XmppAdapter
from tests.contract.sink import EventCollector
from tests.contract.xmpp_harness import XmppHarness, XmppPeer
from tests.servers.certs import TestCerts
from tests.servers.prosody import ProsodyServer


@dataclass
class Client:
    """An adapter for a fresh user, with its sink and credentials."""

    adapter: XmppAdapter
    sink: EventCollector
    jid: str
    password: str
    settings: AccountSettings

    async def connect(self) -> None:
        await self.adapter.connect(Credentials(self.password))


NewClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def harness(running_prosody: ProsodyServer, test_certs: TestCerts) -> AsyncIterator[XmppHarness]:
    async with XmppHarness.started(running_prosody, test_certs) as started:
        yield started


@pytest.fixture
async def new_client(harness: XmppHarness) -> AsyncIterator[NewClient]:
    """``await new_client(connect=True, **settings overrides)``: an adapter for a fresh user."""
    made: list[XmppAdapter] = []

    async def make(*, connect: bool = True, **overrides: object) -> Client:
        jid, password = await harness.new_user()
        settings = harness.settings(f"xmpp:{jid}", jid)
        if overrides:
            fields = {
                "account_id": settings.account_id,
                "address": settings.address,
                "server": settings.server,
                "ca_file": settings.ca_file,
                "allow_plaintext": settings.allow_plaintext,
                "options": dict(settings.options),
            } | overrides
            settings = AccountSettings(**fields)  # type: ignore[arg-type]
        sink = EventCollector()
        adapter = XmppAdapter(settings, sink)
        made.append(adapter)
        client = Client(adapter, sink, jid, password, settings)
        if connect:
            await client.connect()
        return client

    yield make
    for adapter in made:
        await adapter.disconnect()


@pytest.fixture
async def peer(harness: XmppHarness) -> XmppPeer:
    return await harness.new_peer()
