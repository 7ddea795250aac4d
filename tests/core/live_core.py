"""A real core (``build_core``) on one account of a real server, for the room service's live tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import ConversationKey
from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.events import ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from aggregator.rooms.records import Room


def current(core: Core, key: ConversationKey) -> Room:
    """The room as the directory has it now (an empty one while it is not listed)."""
    return core.rooms.room(key) or Room(key=key, address="")


@dataclass
class LiveAccount:
    paths: ProfilePaths
    account_id: str

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Core]:
        """A started core, connected; stopped and closed on the way out."""
        core = build_core(self.paths, backoff_factory=lambda: Backoff(initial=0.1, cap=1.0))
        try:
            await core.start()
            await self.wait_connected(core)
            yield core
        finally:
            await core.stop()
            core.close()

    async def wait_connected(self, core: Core) -> None:
        supervisor = core.accounts.supervisor(self.account_id)
        assert supervisor is not None
        await supervisor.wait_for_state(ConnectionState.CONNECTED, timeout=30)

    async def reconnect(self, core: Core) -> None:
        """Disconnect the account and connect it again (the room service then joins what it wants)."""
        await core.accounts.stop_account(self.account_id)
        core.accounts.start([self.account_id])
        await self.wait_connected(core)
        await core.rooms.wait_idle()


@asynccontextmanager
async def live_account(tmp_path: Path, config: AccountConfig, password: str) -> AsyncIterator[LiveAccount]:
    """A profile with ``config`` (its id made from protocol and address) and its password in the keyring."""
    paths = ProfilePaths.resolve(tmp_path / "home")
    paths.ensure()
    account_id = make_account_id(config.protocol, config.address)
    config = replace(config, id=account_id)
    AccountStore(paths.accounts_file).add(config)
    secrets_store = SecretStore(profile_id(paths))
    secrets_store.set_password(account_id, password)
    try:
        yield LiveAccount(paths, account_id)
    finally:
        secrets_store.delete(account_id)
