"""Opening the archive database: SQLite in WAL mode (file mode 0600) or PostgreSQL by URL."""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select, update
from sqlalchemy.exc import DatabaseError

from aggregator.archive.errors import ArchiveError as ArchiveError  # re-exported: callers import it from here
from aggregator.archive.errors import ArchiveStorageError, storage_problem
from aggregator.archive.migrations import LATEST_VERSION, MIGRATIONS
from aggregator.archive.models import Base, MetaRow
from aggregator.archive.textfold import sql_fold

log = logging.getLogger(__name__)


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
    dbapi_conn.create_function("aggregator_fold", 1, sql_fold, deterministic=True)


def open_engine(url: str | None = None, path: Path | None = None) -> Engine:
    """Create the SQLAlchemy engine and bring the schema up to date."""
    if url is None:
        if path is None:
            raise ValueError("open_engine needs a URL or a path")
        _create_private_file(path)
        url = sqlite_url(path)
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]  # psycopg 3, the driver installed
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(url, future=True)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        _ensure_schema(engine)
    except DatabaseError as exc:
        engine.dispose()
        problem = storage_problem(exc, str(path or engine.url.render_as_string(hide_password=True)))
        if problem is not None:  # a full disk: even reading needs room for the WAL index
            raise ArchiveStorageError(problem) from exc
        raise ArchiveError(f"the archive at {path or url} cannot be opened: {exc.orig}") from exc
    return engine


def _read_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table(MetaRow.__tablename__):
        return None
    row = conn.execute(select(MetaRow.value).where(MetaRow.key == "schema_version")).scalar()
    return None if row is None else int(row)


def _write_version(conn: Connection, version: int) -> None:
    updated = conn.execute(update(MetaRow).where(MetaRow.key == "schema_version").values(value=str(version)))
    if updated.rowcount == 0:
        conn.execute(insert(MetaRow).values(key="schema_version", value=str(version)))


def _backup_sqlite(engine: Engine, version: int) -> Path | None:
    """Copy the archive next to itself before migrating it (SQLite only; PostgreSQL: the admin's dumps)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database:
        log.warning("Upgrading a %s archive without a backup: take one with your database's tools", engine.dialect.name)
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = Path(f"{database}.schema-v{version}-{stamp}.bak")
    _create_private_file(target)
    source = sqlite3.connect(database)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
    log.info("Backed up the archive to %s before upgrading it", target)
    return target


def _ensure_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        version = _read_version(conn)
    if version is None:
        with engine.begin() as conn:
            Base.metadata.create_all(conn)
            for migration in MIGRATIONS:
                if migration.create_extras is not None:
                    migration.create_extras(conn)
            _write_version(conn, LATEST_VERSION)
        return
    if version > LATEST_VERSION:
        raise ArchiveError(
            f"the archive was written by a newer version of the client (schema {version}, this one knows "
            f"{LATEST_VERSION}); upgrade the client"
        )
    if version == LATEST_VERSION:
        return
    _backup_sqlite(engine, version)
    for migration in MIGRATIONS:
        if migration.version <= version:
            continue
        log.info("Upgrading the archive to schema %d: %s", migration.version, migration.description)
        with engine.begin() as conn:
            migration.upgrade(conn)
            _write_version(conn, migration.version)
