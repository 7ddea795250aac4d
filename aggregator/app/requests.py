"""The requests of the control socket (``aggregator send``, ``status``, ``persons``, ``rooms``,
``settings``, ``account trust-cert`` while an instance runs), answered by the application layer.

``aggregator.control.server`` only carries them; each op is one of the app's commands.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aggregator.api import ConfigurationError
from aggregator.app import contacts as contact_commands
from aggregator.app import files as file_commands
from aggregator.app import persons as roster_commands
from aggregator.app import rooms as room_commands
from aggregator.app import settings as prefs_commands
from aggregator.app import status as status_commands
from aggregator.app import trust as trust_commands
from aggregator.app.wire import message_json
from aggregator.core import Core


class Requests:
    """Engine thread. ``handle`` answers one decoded request (a ``ValueError``/``KeyError`` is a bad one)."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._contacts = contact_commands.ContactCommands(core)

    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "ping":
            return {"ok": True, "pid": os.getpid()}
        if op == "accounts":
            return {
                "ok": True,
                "accounts": {a.id: self._core.accounts.state(a.id).value for a in self._core.accounts.configs()},
            }
        if op == "send":
            account_id = str(request["account"])
            if account_id not in {a.id for a in self._core.accounts.configs()}:
                raise ConfigurationError(f"the running instance has no account {account_id}")
            file = request.get("file")
            row = await self._core.outbound.send(
                account_id,
                str(request["to"]),
                str(request.get("text", "")),
                confirmed=bool(request.get("confirm", False)),
                file=Path(str(file)) if file else None,  # the CLI sends an absolute path
            )
            return {"ok": True, "message": message_json(row)}
        if op in status_commands.OPS:
            return await self._status(request)
        if op in roster_commands.OPS:
            return roster_commands.run(self._core.roster, request)
        if op in prefs_commands.OPS and self._core.prefs is not None:
            return prefs_commands.run(self._core.prefs, request)
        if op in room_commands.OPS:
            return await room_commands.run(self._core.rooms, request)
        if op in file_commands.OPS:
            return await file_commands.run(self._core, request)
        if op in contact_commands.OPS:
            return await contact_commands.run(self._contacts, request)
        if op in trust_commands.OPS:
            return await trust_commands.run(self._core, request)
        raise ValueError(f"unknown op {op!r}")

    async def _status(self, request: dict[str, Any]) -> dict[str, Any]:
        status = self._core.status
        if request["op"] == "status.set":
            account = request.get("account")
            if account and account not in {a.id for a in self._core.accounts.configs()}:
                raise ConfigurationError(f"the running instance has no account {account}")
            book = status_commands.changed_book(status.book, request)
            await status.replace_book(book)
        if request["op"] == "status.workhours":
            book = status_commands.changed_hours(status.book, request, status.now())
            if book != status.book:
                await status.replace_book(book)
            return {"ok": True, "workhours": status_commands.hours_json(status.book, status.now())}
        shown = {a.id: status.shown(a.id) for a in self._core.accounts.configs()}
        return {"ok": True, "status": status_commands.book_json(status.book, shown)}
