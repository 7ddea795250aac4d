"""Session-scoped PostgreSQL fixtures (a ``pytest_plugins`` module, like ``fixtures.py``).

A PostgreSQL that is missing or does not start FAILS the tests that need it (never skips), with the
tail of its log.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.postgres import PostgresError, PostgresServer


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # Not under pytest's tmp dir: that one is private to root, and the server runs as ``postgres``.
    root = Path(tempfile.mkdtemp(prefix="aggregator-test-pg-"))
    server = PostgresServer(root)
    try:
        server.start()
    except PostgresError as exc:
        pytest.fail(f"cannot start PostgreSQL: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL."""
    try:
        return postgres_server.new_database()
    except PostgresError as exc:
        pytest.fail(str(exc), pytrace=False)
