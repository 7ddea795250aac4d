"""A profile with one fake account on a FakeServer (on its own loop thread), for window tests."""

from __future__ import annotations

import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from aggregator.accounts.backoff import Backoff
from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.engine import EngineThread
from aggregator.paths import ProfilePaths
from aggregator.registry import ProtocolRegistry
from protocols.fake.server import FakeServer
from tests.fake_profile import fake_profile

T = TypeVar("T")


@pytest.fixture(autouse=True)
def development_protocols(monkeypatch: pytest.MonkeyPatch) -> None:
    """Window tests add fake accounts through the dialog: offer the development protocols there."""
    monkeypatch.setenv("AGGREGATOR_DEV", "1")


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
    profile = fake_profile(tmp_path / "home", server.address, alice, "alice-pw")
    try:
        yield GuiWorld(server, thread, profile.paths, alice, bob, carol, profile.account_id)
    finally:
        thread.call(server.stop(), timeout=10)
        thread.stop()
        profile.forget_password()
