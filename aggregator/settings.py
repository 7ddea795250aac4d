"""The user's settings (``settings.json`` in the profile's config dir).

Each key is validated on its own, by its type (``_VALIDATORS``): a bad value is reported and the default
is used, the rest apply.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


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

    @classmethod
    def names(cls) -> frozenset[str]:
        """The keys the policy file's ``defaults`` and ``locked`` tables may name: the numeric settings
        (the policy file validates them as seconds; ``database_url`` is the user's own)."""
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
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value.strip())
    except ArgumentError:
        raise ValueError(f"is not a database URL: {value!r} (e.g. postgresql://user@host/dbname)") from None
    backend = url.get_backend_name()
    if backend not in ("postgresql", "sqlite"):
        raise ValueError(f"names an unsupported database {backend!r} (postgresql or sqlite)")
    if backend == "postgresql":
        if url.get_driver_name() not in ("psycopg", "psycopg2", ""):
            raise ValueError(f"names the driver {url.get_driver_name()!r}; use postgresql:// (psycopg 3)")
        if not url.database:
            raise ValueError("names no database (postgresql://user@host/DBNAME)")
        url = url.set(drivername="postgresql+psycopg")
    elif not url.database:
        raise ValueError("names no file (sqlite:///PATH)")
    return url.render_as_string(hide_password=False)


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "reconnect_initial_delay": _seconds,
    "reconnect_max_delay": _seconds,
    "connect_timeout": _seconds,
    "database_url": database_url,
}
_NOT_IN_POLICY = frozenset({"database_url"})
