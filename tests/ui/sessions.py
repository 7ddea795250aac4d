"""Helpers for window tests on the fake world: a second (personal) account, a running session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from pytestqt.qtbot import QtBot

from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import Sphere
from aggregator.core import Core
from aggregator.profile import profile_id
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from ui.app import Session, start_session

T = TypeVar("T")


@contextmanager
def extra_account(world: GuiWorld, address: str, password: str, sphere: Sphere) -> Iterator[str]:
    """One more fake account (``address`` logs in with ``password``); its id."""
    account_id = make_account_id("fake", address)
    AccountStore(world.paths.accounts_file).add(
        AccountConfig(
            id=account_id,
            protocol="fake",
            address=address,
            server=world.server.address,
            allow_plaintext=True,
            sphere=sphere,
        )
    )
    secrets = SecretStore(profile_id(world.paths))
    secrets.set_password(account_id, password)
    try:
        yield account_id
    finally:
        secrets.delete(account_id)


@contextmanager
def running_session(world: GuiWorld, qtbot: QtBot) -> Iterator[Session]:
    session = start_session(world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(session.window)
    session.window.show()
    try:
        yield session
    finally:
        session.window.save_state()
        session.shutdown()


def core_of(session: Session) -> Core:
    """Tests only: the services behind the window's application layer (touch them on the engine thread)."""
    return session.ctx.app._core


def on_engine(session: Session, fn: Callable[[Core], T]) -> T:
    """Read the core on the engine thread (tests only: this waits)."""
    core = core_of(session)

    async def read() -> T:
        return fn(core)

    return session.engine.call(read(), timeout=10)


def engine_round_trip(session: Session, qtbot: QtBot) -> None:
    """The window's sync point: a no-op through the bridge to the engine thread and back.

    The engine runs what the window handed it in order, and its events and results reach the GUI thread in
    the order it sent them: when this returns, every one-step call the window made before (a search, a
    merge, a refresh) has run and its result and events have been delivered. Use it instead of a fixed
    wait before asserting that something did *not* happen.
    """
    done: list[bool] = []
    session.ctx.bridge.run(lambda: None, lambda _result, _error: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
