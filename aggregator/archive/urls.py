"""Database URLs the archive can open: checked and normalised (the ``database_url`` setting)."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def checked_database_url(value: str) -> str:
    """``value`` as a URL the archive opens (``postgresql://`` means psycopg 3, the driver installed);
    ``ValueError`` says what is wrong with it."""
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
