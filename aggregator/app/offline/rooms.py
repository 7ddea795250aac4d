"""The rooms commands (``aggregator.app.rooms``) on a profile no instance runs: the profile's room
list changes, and a room is joined when its account next connects."""

from __future__ import annotations

import asyncio
from typing import Any

from aggregator.api import AccountId, ConfigurationError, NotConnectedError
from aggregator.app import rooms as commands
from aggregator.app.accounts import AccountCommands
from aggregator.app.offline.profile import held
from aggregator.archive import Archive
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.policy.file import load_policy
from aggregator.registry import ProtocolRegistry
from aggregator.rooms.lock import autojoin_lock
from aggregator.rooms.service import RoomService
from aggregator.rooms.store import FILE_NAME, RoomStore


def _not_connected(account_id: AccountId) -> Any:
    raise NotConnectedError(f"{account_id} is not connected (no running instance)")


def run(paths: ProfilePaths, registry: ProtocolRegistry, request: dict[str, Any]) -> dict[str, Any]:
    """Answer one ``rooms*`` request with nothing connected (a topic needs the running instance)."""
    with held(paths):
        accounts = AccountCommands.offline(paths).accounts()
        policy = PolicyEngine(load_policy().policy)
        archive = Archive.open(path=paths.archive_file)
        try:
            rooms = RoomService(
                archive,
                RoomStore(paths.config_dir / FILE_NAME),
                registry=registry,
                accounts=lambda: accounts,
                adapter_of=_not_connected,
                autojoin_lock=lambda account_id: autojoin_lock(policy, paths, account_id),
            )
            rooms.load()
            try:
                return asyncio.run(commands.run(rooms, request))
            except ConfigurationError as exc:
                return {"ok": False, "usage": True, "error": str(exc)}
            except NotConnectedError:
                return {"ok": False, "error": "setting a topic needs the running instance (aggregator run)"}
        finally:
            archive.close()
