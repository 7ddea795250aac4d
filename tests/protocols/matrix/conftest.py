"""Fixtures for the Matrix adapter's own tests, over the session's Synapse (``tests/servers/synapse_fixtures.py``)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from aggregator.api import AccountSettings, Credentials, CredentialsUpdated
from protocols.matrix.adapter import MatrixAdapter
from tests.contract.matrix_harness import MatrixHarness, MatrixPeer
from tests.contract.sink import EventCollector, stored_positions
from tests.servers.synapse import MatrixUser, SynapseServer


@dataclass
class Client:
    """An adapter for a user, with its sink and settings."""

    adapter: MatrixAdapter
    sink: EventCollector
    user: MatrixUser
    settings: AccountSettings

    @property
    def user_id(self) -> str:
        return self.user.user_id

    async def connect(self, tokens: dict[str, str] | None = None) -> None:
        await self.adapter.connect(Credentials(self.user.password, tokens or {}))

    def tokens(self) -> dict[str, str]:
        """The tokens of the last ``CredentialsUpdated`` this client emitted."""
        updates = self.sink.of_type(CredentialsUpdated)
        assert updates, "no CredentialsUpdated emitted"
        return dict(updates[-1].tokens)


NewClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def harness(running_synapse: SynapseServer) -> AsyncIterator[MatrixHarness]:
    async with MatrixHarness.started(running_synapse) as started:
        yield started


@pytest.fixture
async def new_client(harness: MatrixHarness) -> AsyncIterator[NewClient]:
    """``await new_client(connect=True, user=None, **settings overrides)``: an adapter for a (fresh) user.
    A client for a user seen before resumes, as the core does, from the positions the earlier clients'
    events carried."""
    made: list[MatrixAdapter] = []
    sinks: dict[str, list[EventCollector]] = {}

    async def make(*, connect: bool = True, user: MatrixUser | None = None, **overrides: object) -> Client:
        user = user or await harness.new_matrix_user()
        settings = harness.settings(f"matrix:{user.user_id}", user.user_id)
        if overrides:
            settings = dataclasses.replace(settings, **overrides)  # type: ignore[arg-type]
        sink = EventCollector()
        adapter = MatrixAdapter(settings, sink)
        earlier = sinks.setdefault(user.user_id, [])
        adapter.resume_from(stored_positions(*earlier))
        earlier.append(sink)
        made.append(adapter)
        client = Client(adapter, sink, user, settings)
        if connect:
            await client.connect()
        return client

    yield make
    for adapter in made:
        await adapter.disconnect()


@pytest.fixture
async def peer(harness: MatrixHarness) -> MatrixPeer:
    return await harness.new_peer()
