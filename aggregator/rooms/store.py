"""``rooms.json`` in the profile's config dir: the rooms the user joined, per account, and the rooms of
the account's ``autojoin`` option the user left (``left``: not joined again until joined by hand).

Written atomically (temp file, fsync, rename; mode 0600). An unreadable file is set aside as
``rooms.json.broken`` (nothing is lost) and the profile goes on with no joined rooms.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aggregator.accounts.config import write_private_json
from aggregator.api import AccountId
from aggregator.rooms.records import WantedRoom

log = logging.getLogger(__name__)

FILE_NAME = "rooms.json"
FILE_VERSION = 1


def _entry(value: Any) -> WantedRoom:
    if not isinstance(value, Mapping) or not isinstance(value.get("address"), str) or not value["address"].strip():
        raise ValueError(f"a room entry is not {{'address': ..., 'nick': ...}}: {value!r}")
    nick, handle = value.get("nick"), value.get("handle")
    return WantedRoom(
        address=value["address"].strip(),
        nick=nick if isinstance(nick, str) and nick.strip() else None,
        handle=handle if isinstance(handle, str) and handle else None,
    )


@dataclass(frozen=True, slots=True)
class RoomChoices:
    """What ``rooms.json`` holds: per account, the rooms joined by hand and the autojoin rooms left."""

    wanted: Mapping[AccountId, Sequence[WantedRoom]] = field(default_factory=dict)
    left: Mapping[AccountId, Sequence[str]] = field(default_factory=dict)


def _left(value: Any) -> dict[AccountId, list[str]]:
    if not isinstance(value, Mapping):
        raise ValueError("'left' is not an object")
    out: dict[AccountId, list[str]] = {}
    for account, addresses in value.items():
        if not isinstance(addresses, list) or not all(isinstance(a, str) and a.strip() for a in addresses):
            raise ValueError(f"'left' of {account} is not a list of room addresses: {addresses!r}")
        out[str(account)] = [a.strip() for a in addresses]
    return out


class RoomStore:
    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> dict[AccountId, list[WantedRoom]]:
        """The rooms joined by hand, per account."""
        return {account: list(entries) for account, entries in self.load_choices().wanted.items()}

    def load_choices(self) -> RoomChoices:
        if not self._path.exists():
            return RoomChoices()
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            accounts = data["accounts"]
            if not isinstance(accounts, Mapping):
                raise ValueError("'accounts' is not an object")
            wanted = {str(account): [_entry(e) for e in entries] for account, entries in accounts.items()}
            return RoomChoices(wanted, _left(data.get("left", {})))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            broken = self._path.with_name(self._path.name + ".broken")
            log.error("Cannot read %s (%s); it is kept as %s and no rooms are joined from it", self._path, exc, broken)
            try:
                self._path.replace(broken)
            except OSError as move_error:
                log.error("Could not set %s aside: %s", self._path, move_error)
            return RoomChoices()

    def save(
        self, rooms: Mapping[AccountId, Sequence[WantedRoom]], left: Mapping[AccountId, Sequence[str]] | None = None
    ) -> None:
        accounts = {
            account: [
                {k: v for k, v in (("address", r.address), ("nick", r.nick), ("handle", r.handle)) if v is not None}
                for r in entries
            ]
            for account, entries in sorted(rooms.items())
            if entries
        }
        data: dict[str, Any] = {"version": FILE_VERSION, "accounts": accounts}
        gone = {account: sorted(set(addresses)) for account, addresses in sorted((left or {}).items()) if addresses}
        if gone:
            data["left"] = gone
        write_private_json(self._path, data)

    def forget_account(self, account_id: AccountId) -> bool:
        """Drop every room of a removed account (joined and left); True if the file changed."""
        choices = self.load_choices()
        if account_id not in choices.wanted and account_id not in choices.left:
            return False
        self.save(
            {a: r for a, r in choices.wanted.items() if a != account_id},
            {a: r for a, r in choices.left.items() if a != account_id},
        )
        return True
