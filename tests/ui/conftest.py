"""A profile with one fake account on a FakeServer (on its own loop thread), for window tests."""

from __future__ import annotations

import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import Sphere
from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.engine import EngineThread
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from aggregator.registry import ProtocolRegistry
from protocols.fake.server import FakeServer

T = TypeVar("T")


@dataclass
class GuiWorld:
    server: FakeServer
    server_thread: EngineThread
    paths: ProfilePaths
    alice: str
    bob: str
    carol: str
    account_id: str

    def on_server(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.server_thread.call(coro, timeout=10)


def fast_core(paths: ProfilePaths, registry: ProtocolRegistry) -> Core:
    return build_core(paths, registry=registry, backoff_factory=lambda: Backoff(initial=0.05, cap=0.3))


@pytest.fixture
def gui_world(tmp_path: Path, keyring_env: None) -> Iterator[GuiWorld]:
    thread = EngineThread("fake-server")
    thread.start()
    server = FakeServer()
    tag = uuid.uuid4().hex[:8]
    alice = server.add_user(f"alice{tag}@fake.test", "alice-pw")
    bob = server.add_user(f"bob{tag}@fake.test", "bob-pw")
    carol = server.add_user(f"carol{tag}@fake.test", "carol-pw")
    thread.call(server.start(), timeout=10)
    paths = ProfilePaths.resolve(tmp_path / "home")
    paths.ensure()
    account_id = make_account_id("fake", alice)
    AccountStore(paths.accounts_file).add(
        AccountConfig(
            id=account_id,
            protocol="fake",
            address=alice,
            server=server.address,
            allow_plaintext=True,
            sphere=Sphere.WORK,
        )
    )
    secrets = SecretStore(profile_id(paths))
    secrets.set_password(account_id, "alice-pw")
    try:
        yield GuiWorld(server, thread, paths, alice, bob, carol, account_id)
    finally:
        thread.call(server.stop(), timeout=10)
        thread.stop()
        secrets.delete(account_id)
