"""A core built on the test's own loop, with one fake account on a FakeServer."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from aggregator.accounts.backoff import Backoff
from aggregator.archive import Archive
from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.events import AccountStateChanged, ConnectionState
from aggregator.paths import ProfilePaths
from protocols.fake.server import FakeServer
from tests.fake_profile import fake_profile


@dataclass
class CoreWorld:
    server: FakeServer
    paths: ProfilePaths
    alice: str
    bob: str
    account_id: str
    core: Core | None = None
    states: list[AccountStateChanged] = field(default_factory=list)

    async def start(self) -> Core:
        core = build_core(self.paths, backoff_factory=lambda: Backoff(initial=0.05, cap=0.3))
        core.bus.subscribe(AccountStateChanged, self.states.append)
        self.core = core
        await core.start()
        return core

    async def stop(self) -> None:
        if self.core is not None:
            await self.core.stop()
            self.core.close()
            self.core = None

    async def wait_state(self, state: ConnectionState, timeout: float = 10) -> None:
        assert self.core is not None
        sup = self.core.accounts.supervisor(self.account_id)
        assert sup is not None
        await sup.wait_for_state(state, timeout=timeout)

    async def drain(self) -> None:
        assert self.core is not None
        sup = self.core.accounts.supervisor(self.account_id)
        assert sup is not None
        await sup.drain()


async def eventually(check: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def core_world(home: Path) -> AsyncIterator[CoreWorld]:
    """A FakeServer with alice and bob, and alice's profile at ``home`` (the core not started yet);
    stopped and its password forgotten on leaving."""
    server = FakeServer()
    tag = uuid.uuid4().hex[:8]
    alice = server.add_user(f"alice{tag}@fake.test", "alice-pw")
    bob = server.add_user(f"bob{tag}@fake.test", "bob-pw")
    await server.start()
    profile = fake_profile(home, server.address, alice, "alice-pw")
    w = CoreWorld(server=server, paths=profile.paths, alice=alice, bob=bob, account_id=profile.account_id)
    try:
        yield w
    finally:
        await w.stop()
        await server.stop()
        profile.forget_password()


@pytest.fixture
async def world(tmp_path: Path, keyring_env: None) -> AsyncIterator[CoreWorld]:
    async with core_world(tmp_path / "home") as w:
        yield w


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_backend(request: pytest.FixtureRequest) -> str:
    """The archive's database: a SQLite file, or a fresh database on the session's PostgreSQL."""
    return str(request.param)


@pytest.fixture
def open_archive(archive_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], Archive]:
    """Opens (or reopens) the test's archive on ``archive_backend``; PostgreSQL starts only when asked for."""

    def make() -> Archive:
        if archive_backend == "sqlite":
            return Archive.open(path=tmp_path / "archive.sqlite3")
        return Archive.open(url=str(request.getfixturevalue("postgres_url")))

    return make
