"""Fixtures for the fake protocol's own tests: a server with alice and bob, and adapters for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from aggregator.api import AccountSettings, Credentials
from protocols.fake.adapter import FakeAdapter
from protocols.fake.server import FakeServer
from tests.contract.fake_harness import FakePeer
from tests.contract.sink import EventCollector

ALICE, BOB, CAROL = "alice@fake.test", "bob@fake.test", "carol@fake.test"
PASSWORDS = {ALICE: "alice-pw", BOB: "bob-pw", CAROL: "carol-pw"}

Client = tuple[FakeAdapter, EventCollector]


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    async with FakeServer() as started:
        for address, password in PASSWORDS.items():
            started.add_user(address, password)
        yield started


def settings_for(server: FakeServer, address: str = ALICE, *, allow_plaintext: bool = True) -> AccountSettings:
    """Settings for ``address`` on ``server``."""
    return AccountSettings(f"fake:{address}", address, server=server.address, allow_plaintext=allow_plaintext)


@pytest.fixture
async def client(server: FakeServer) -> AsyncIterator[Callable[..., Awaitable[Client]]]:
    """``await client(address)``: a connected adapter and its sink, disconnected at the end."""
    made: list[FakeAdapter] = []

    async def connect(address: str = ALICE, password: str | None = None) -> Client:
        sink = EventCollector()
        adapter = FakeAdapter(settings_for(server, address), sink)
        made.append(adapter)
        await adapter.connect(Credentials(password or PASSWORDS[address.lower()]))
        return adapter, sink

    yield connect
    for adapter in made:
        await adapter.disconnect()


@pytest.fixture
async def peer(server: FakeServer) -> AsyncIterator[Callable[..., Awaitable[FakePeer]]]:
    """``await peer(address)``: a raw client logged in as ``address``."""
    made: list[FakePeer] = []

    async def login(address: str = BOB) -> FakePeer:
        made.append(await FakePeer.login(server, address, PASSWORDS[address]))
        return made[-1]

    yield login
    for one in made:
        await one.close()
