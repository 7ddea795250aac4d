"""Account commands: add, edit, remove, enable, disable. One implementation for every front end.

The window runs them on a running core (``AccountCommands.live``): the account is (re)connected or
disconnected at once. The CLI runs them on a profile no instance holds (``AccountCommands.offline``):
only the files and the keyring change. Either way the same rules hold:

- removing an account removes its rooms too (live: they leave the buddy list; always: ``rooms.json``)
  and its keyring entry; its history stays in the archive;
- a stored password is never deleted because a save failed (the user would have to type it again
  for an account that may exist after all).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from aggregator.accounts.config import AccountConfig, AccountStore
from aggregator.accounts.secrets import SecretStore, check_keyring_available
from aggregator.api import AccountId, ConfigurationError
from aggregator.paths import ProfilePaths
from aggregator.profile import InstanceLock, ProfileLockedError, profile_id
from aggregator.rooms.store import FILE_NAME as ROOMS_FILE
from aggregator.rooms.store import RoomStore

if TYPE_CHECKING:
    from aggregator.core import Core

log = logging.getLogger(__name__)


class _RoomForgetter(Protocol):
    def forget_account(self, account_id: AccountId) -> object: ...


class _Live(Protocol):
    """The running side of a core (``AccountManager``)."""

    def configure(self, accounts: list[AccountConfig]) -> None: ...
    def start(self, only: list[AccountId] | None = None) -> None: ...
    async def stop_account(self, account_id: AccountId, *, forget: bool = False) -> None: ...


@dataclass(frozen=True, slots=True)
class AccountSaved:
    """What a save did: the account as stored, and whether it is new."""

    account: AccountConfig
    is_new: bool


def ensure_not_running(paths: ProfilePaths) -> None:
    """Offline commands refuse a profile that a running instance holds (it would overwrite them)."""
    lock = InstanceLock(paths.lock_file)
    if lock.is_held_elsewhere():
        pid = lock.holder_pid()
        raise ProfileLockedError(
            f"the profile is in use by a running instance{f' (pid {pid})' if pid else ''}; stop it first"
        )


class AccountCommands:
    def __init__(
        self, store: AccountStore, secrets: SecretStore, rooms: _RoomForgetter, live: _Live | None = None
    ) -> None:
        self._store = store
        self._secrets = secrets
        self._rooms = rooms
        self._live = live

    @classmethod
    def live_on(cls, core: Core) -> AccountCommands:
        """On the engine thread of a running core."""
        return cls(core.account_store, core.secrets, core.rooms, core.accounts)

    @classmethod
    def offline(cls, paths: ProfilePaths) -> AccountCommands:
        """On a profile no instance runs (the CLI). Call ``ensure_not_running`` before changing anything."""
        return cls(
            AccountStore(paths.accounts_file),
            SecretStore(profile_id(paths)),
            RoomStore(paths.config_dir / ROOMS_FILE),
        )

    # -- reads ------------------------------------------------------------------------------------

    def accounts(self) -> list[AccountConfig]:
        return self._store.load()

    def get(self, account_id: AccountId) -> AccountConfig | None:
        return self._store.get(account_id)

    def resolve(self, ref: str) -> AccountConfig:
        """By id, address or label (``ConfigurationError`` if unknown or ambiguous)."""
        return self._store.resolve(ref)

    @staticmethod
    def check_keyring() -> None:
        """Raise ``KeyringUnavailableError`` before asking for a password that could not be stored."""
        check_keyring_available()

    # -- commands ---------------------------------------------------------------------------------

    async def add(self, config: AccountConfig, secret: str | None) -> AccountSaved:
        if self._store.get(config.id) is not None:
            raise ConfigurationError(f"account {config.id} already exists")
        return await self._save(config, secret, is_new=True)

    async def edit(self, config: AccountConfig, secret: str | None) -> AccountSaved:
        """Replace the stored account of the same id; ``secret`` None or empty keeps the password."""
        if self._store.get(config.id) is None:
            raise ConfigurationError(f"no account {config.id}")
        return await self._save(config, secret, is_new=False)

    async def _save(self, config: AccountConfig, secret: str | None, *, is_new: bool) -> AccountSaved:
        if secret:
            self._secrets.set_password(config.id, secret)
        # A failed save leaves the password where it is (never delete one because of a failed save).
        if is_new:
            self._store.add(config)
        else:
            self._store.save([config if a.id == config.id else a for a in self._store.load()])
        if self._live is not None:
            if not is_new:
                await self._live.stop_account(config.id)
            self._live.configure([config])
            if config.enabled:
                self._live.start([config.id])
        return AccountSaved(config, is_new)

    async def remove(self, account_id: AccountId) -> AccountConfig:
        """Disconnect and forget the account, its rooms and its keyring entry; its history stays."""
        found = self._store.get(account_id)
        if found is None:
            raise ConfigurationError(f"no account {account_id}")
        if self._live is not None:
            await self._live.stop_account(account_id, forget=True)
        self._rooms.forget_account(account_id)
        self._store.remove(account_id)
        self._secrets.delete(account_id)
        return found

    async def set_enabled(self, account_id: AccountId, enabled: bool) -> AccountConfig:
        config = self._store.set_enabled(account_id, enabled)
        if self._live is not None:
            await self._live.stop_account(account_id)
            self._live.configure([config])
            if enabled:
                self._live.start([account_id])
        return config

    async def rename(self, account_id: AccountId, label: str) -> AccountSaved:
        found = self._store.get(account_id)
        if found is None:
            raise ConfigurationError(f"no account {account_id}")
        return await self.edit(replace(found, label=label), None)
