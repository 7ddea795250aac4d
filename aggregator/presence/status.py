"""The user's chosen status: one global, per sphere, per account (account > sphere > global).

Kept in ``status.json`` in the profile's config dir, written atomically.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aggregator.accounts.config import write_private_json
from aggregator.api import AccountId, ConfigurationError, Presence, PresenceKind, Sphere
from aggregator.presence.workhours import WorkHours

log = logging.getLogger(__name__)

#: What the user may choose (``xa`` is for auto-away and protocols, not a menu entry).
CHOOSABLE = (PresenceKind.AVAILABLE, PresenceKind.AWAY, PresenceKind.BUSY, PresenceKind.INVISIBLE, PresenceKind.OFFLINE)

_AVAILABLE = Presence(PresenceKind.AVAILABLE)


def parse_kind(text: str) -> PresenceKind:
    try:
        kind = PresenceKind(text.strip().lower())
    except ValueError:
        kind = None
    if kind not in CHOOSABLE:
        raise ConfigurationError(f"a status is one of {', '.join(k.value for k in CHOOSABLE)}, not {text!r}")
    assert kind is not None
    return kind


@dataclass(frozen=True, slots=True)
class StatusBook:
    global_status: Presence = _AVAILABLE
    spheres: Mapping[Sphere, Presence] = field(default_factory=dict)
    accounts: Mapping[AccountId, Presence] = field(default_factory=dict)
    work_hours: WorkHours = field(default_factory=WorkHours)
    #: Show away after this many idle minutes (0: never).
    auto_away_minutes: float = 10.0

    def chosen(self, account_id: AccountId, sphere: Sphere) -> Presence:
        """What the user chose for this account: its override, else its sphere's, else the global."""
        return self.accounts.get(account_id) or self.spheres.get(sphere) or self.global_status

    def with_status(
        self, presence: Presence | None, *, sphere: Sphere | None = None, account: AccountId | None = None
    ) -> StatusBook:
        """Set (or with ``presence`` None, clear) the global, one sphere's, or one account's status."""
        if account is not None:
            accounts = {k: v for k, v in self.accounts.items() if k != account}
            if presence is not None:
                accounts[account] = presence
            return replace(self, accounts=accounts)
        if sphere is not None:
            spheres = {k: v for k, v in self.spheres.items() if k is not sphere}
            if presence is not None:
                spheres[sphere] = presence
            return replace(self, spheres=spheres)
        return replace(self, global_status=presence or Presence(PresenceKind.AVAILABLE))

    def to_json(self) -> dict[str, Any]:
        def one(p: Presence) -> dict[str, str]:
            return {"kind": p.kind.value, "message": p.status}

        return {
            "version": 1,
            "global": one(self.global_status),
            "spheres": {s.value: one(p) for s, p in self.spheres.items()},
            "accounts": {a: one(p) for a, p in self.accounts.items()},
            "work_hours": self.work_hours.to_json(),
            "auto_away_minutes": self.auto_away_minutes,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StatusBook:
        def one(value: Any) -> Presence:
            return Presence(parse_kind(str(value["kind"])), str(value.get("message", "")))

        book = cls()
        try:
            if "global" in data:
                book = replace(book, global_status=one(data["global"]))
            spheres = {Sphere(k): one(v) for k, v in dict(data.get("spheres", {})).items()}
            accounts = {str(k): one(v) for k, v in dict(data.get("accounts", {})).items()}
            hours = WorkHours.from_json(dict(data.get("work_hours", {})))
            idle = float(data.get("auto_away_minutes", 10.0))
        except (KeyError, ValueError, TypeError, ConfigurationError) as exc:
            log.error("The saved status is malformed (%s); starting as available", exc)
            return cls()
        return replace(book, spheres=spheres, accounts=accounts, work_hours=hours, auto_away_minutes=max(idle, 0.0))


class StatusFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> StatusBook:
        if not self.path.exists():
            return StatusBook()
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.error("Cannot read %s (%s); starting as available", self.path, exc)
            return StatusBook()
        return StatusBook.from_json(data) if isinstance(data, dict) else StatusBook()

    def save(self, book: StatusBook) -> None:
        write_private_json(self.path, book.to_json())
