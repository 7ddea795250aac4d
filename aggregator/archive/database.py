"""Opening the archive database: SQLite in WAL mode (file mode 0600) or PostgreSQL by URL."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select
from sqlalchemy.exc import DatabaseError

from aggregator.api import AggregatorError
from aggregator.archive.models import Base, MetaRow

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


class ArchiveError(AggregatorError):
    """The archive could not be opened or is damaged."""


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def _create_private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    assert isinstance(dbapi_conn, sqlite3.Connection)
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a message reported as stored survives a power cut, not only a crash.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA cache_size=-16384")
    finally:
        cur.close()


def open_engine(url: str | None = None, path: Path | None = None) -> Engine:
    """Create the SQLAlchemy engine and bring the schema up to date."""
    if url is None:
        if path is None:
            raise ValueError("open_engine needs a URL or a path")
        _create_private_file(path)
        url = sqlite_url(path)
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(url, future=True)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        _ensure_schema(engine)
    except DatabaseError as exc:
        engine.dispose()
        raise ArchiveError(f"the archive at {path or url} cannot be opened: {exc.orig}") from exc
    return engine


def _ensure_schema(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        row = conn.execute(select(MetaRow.value).where(MetaRow.key == "schema_version")).scalar()
        if row is None:
            conn.execute(insert(MetaRow).values(key="schema_version", value=str(SCHEMA_VERSION)))
        elif int(row) > SCHEMA_VERSION:
            raise ArchiveError(
                f"the archive was written by a newer version of the client (schema {row}, this one knows "
                f"{SCHEMA_VERSION}); upgrade the client"
            )
