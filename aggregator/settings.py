"""The user's settings (``settings.json`` in the profile's config dir).

Each key is validated on its own, by its type (``_VALIDATORS``): a bad value is reported and the default
is used, the rest apply.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from aggregator.accounts.config import write_private_json
from aggregator.api import Sphere

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoggingChoice:
    """Whether conversations are kept in the archive: per sphere, per account (the account's choice beats
    its sphere's); what is not named is logged. ``settings.json``:
    ``"logging": {"work": true, "personal": false, "accounts": {"irc:me@net": true}}``."""

    spheres: Mapping[Sphere, bool] = field(default_factory=dict)
    accounts: Mapping[str, bool] = field(default_factory=dict)

    def enabled(self, account_id: str, sphere: Sphere) -> bool:
        if account_id in self.accounts:
            return self.accounts[account_id]
        return self.spheres.get(sphere, True)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {s.value: v for s, v in sorted(self.spheres.items())}
        if self.accounts:
            data["accounts"] = dict(sorted(self.accounts.items()))
        return data


@dataclass(frozen=True, slots=True)
class Settings:
    #: First wait before reconnecting a dropped account, in seconds.
    reconnect_initial_delay: float = 1.0
    #: The longest wait between reconnection attempts, in seconds.
    reconnect_max_delay: float = 60.0
    #: How long to wait for a server to accept a connection, in seconds.
    connect_timeout: float = 30.0
    #: Keep the archive in this database instead of the profile's SQLite file: a SQLAlchemy URL,
    #: ``postgresql://user@host/db`` (psycopg 3) or ``sqlite:///path``. ``--database`` overrides it.
    database_url: str | None = None
    #: Whether conversations are logged (see ``LoggingChoice``); a sphere or account the policy requires
    #: to be logged is logged whatever this says (``aggregator.prefs``).
    logging: LoggingChoice = field(default_factory=LoggingChoice)
    #: Delete messages older than this many days, per sphere (absent or 0: keep forever). A policy's
    #: ``retention_days`` is a maximum: the scheduled retention job uses the smaller one.
    retention_days: Mapping[Sphere, int] = field(default_factory=dict)

    @classmethod
    def names(cls) -> frozenset[str]:
        """The keys the policy file's ``defaults`` and ``locked`` tables may name: the numeric settings
        (the policy file validates them as seconds; ``database_url`` is the user's own; logging and
        retention are the policy's ``rules``)."""
        return frozenset(f.name for f in fields(cls) if f.name not in _NOT_IN_POLICY)

    @classmethod
    def load(cls, path: Path) -> Settings:
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.error("Cannot read %s (%s); using the default settings", path, exc)
            return cls()
        if not isinstance(data, dict):
            log.error("%s does not hold a JSON object; using the default settings", path)
            return cls()
        values: dict[str, Any] = {}
        known = {f.name for f in fields(cls)}
        for key, value in data.items():
            if key not in known:
                log.warning("Unknown setting %r in %s is ignored", key, path)
                continue
            try:
                values[key] = _VALIDATORS[key](value)
            except ValueError as exc:
                log.warning("Setting %r in %s %s; ignored", key, path, exc)
        return cls(**values)


def _seconds(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 3600:
        raise ValueError("must be a number of seconds in (0, 3600]")
    return float(value)


def database_url(value: Any) -> str | None:
    """A database URL the archive can open (``postgresql``/``sqlite`` SQLAlchemy URL), or None.

    ``ValueError`` says what is wrong. ``postgresql://`` means psycopg 3 (the driver installed).
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a database URL such as postgresql://user@host/dbname")
    from aggregator.archive.urls import checked_database_url  # the archive's (SQLAlchemy's) URL rules

    return checked_database_url(value)


def logging_choice(value: Any) -> LoggingChoice:
    """``{"work": bool, "personal": bool, "accounts": {id: bool}}``; ``ValueError`` says what is wrong."""
    if not isinstance(value, dict):
        raise ValueError('must be an object like {"work": true, "personal": false, "accounts": {"ID": true}}')
    spheres: dict[Sphere, bool] = {}
    accounts: dict[str, bool] = {}
    for key, item in value.items():
        if key == "accounts":
            if not isinstance(item, dict) or not all(isinstance(v, bool) for v in item.values()):
                raise ValueError('has "accounts" that is not an object of account id: true/false')
            accounts = {str(k): bool(v) for k, v in item.items()}
            continue
        try:
            sphere = Sphere(key)
        except ValueError:
            raise ValueError(f"names {key!r}, which is neither a sphere (work, personal) nor accounts") from None
        if not isinstance(item, bool):
            raise ValueError(f"has {key} = {item!r}; use true or false")
        spheres[sphere] = item
    return LoggingChoice(spheres, accounts)


def retention_days(value: Any) -> dict[Sphere, int]:
    """``{"work": days, "personal": days}``, whole days, 0 = keep forever."""
    if not isinstance(value, dict):
        raise ValueError('must be an object like {"work": 365, "personal": 0}')
    result: dict[Sphere, int] = {}
    for key, days in value.items():
        try:
            sphere = Sphere(key)
        except ValueError:
            raise ValueError(f"names {key!r}, which is not a sphere (work, personal)") from None
        result[sphere] = days_value(days)
    return result


def days_value(value: Any) -> int:
    """A number of days to keep messages: a whole number, 0 (keep forever) or more."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise ValueError(f"must be a whole number of days, 0 (keep forever) or more, not {value!r}")
    return value


def seconds(value: Any) -> float:
    """A number of seconds in (0, 3600] (the connection settings); ``ValueError`` says what is wrong."""
    return _seconds(value)


def read_raw(path: Path) -> dict[str, Any]:
    """The settings file as JSON (empty if absent); ``ValueError`` if it is not a JSON object."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def write_raw(path: Path, data: Mapping[str, Any]) -> None:
    write_private_json(path, dict(data))


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "reconnect_initial_delay": _seconds,
    "reconnect_max_delay": _seconds,
    "connect_timeout": _seconds,
    "database_url": database_url,
    "logging": logging_choice,
    "retention_days": retention_days,
}
_NOT_IN_POLICY = frozenset({"database_url", "logging", "retention_days"})
