"""The persons commands (``aggregator.app.persons``) on a profile no instance runs: the roster is
loaded from the archive, changed there, and nothing connects."""

from __future__ import annotations

from typing import Any

from aggregator.api import ConfigurationError
from aggregator.app import persons as commands
from aggregator.app.accounts import AccountCommands
from aggregator.app.offline.profile import held
from aggregator.archive import Archive
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.roster.buddylist import UNGROUPED
from aggregator.roster.service import Roster

__all__ = ["UNGROUPED", "run"]


def run(paths: ProfilePaths, request: dict[str, Any]) -> dict[str, Any]:
    """Answer one ``persons*`` request; an unknown person or contact: ``{"ok": false, "usage": true}``."""
    with held(paths):
        accounts = AccountCommands.offline(paths).accounts()
        archive = Archive.open(path=paths.archive_file)
        try:
            for a in accounts:
                archive.upsert_account(a.id, a.protocol, a.address, a.label, a.sphere)
            roster = Roster(archive, policy=PolicyEngine(), accounts=lambda: accounts)
            roster.load()
            try:
                return commands.run(roster, request)
            except ConfigurationError as exc:
                return {"ok": False, "usage": True, "error": str(exc)}
        finally:
            archive.close()
