"""Fixtures of the chaos suite (``tests/chaos``): fresh profiles, small disks, long seeds deselected.

Every test here runs the real ``aggregator`` console script in subprocesses against the real servers
the suite starts (Prosody, InspIRCd + Atheme, Synapse), with a second client on the other side.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.chaos.disk import SmallDisk
from tests.cli.conftest import Profile, fresh_profile
from tests.servers.certs import TestCerts
from tests.servers.prosody import ProsodyError, ProsodyServer


def _long_seeds_wanted(config: pytest.Config) -> bool:
    return os.environ.get("CHAOS_LONG") == "1" or "chaos_long" in (config.option.markexpr or "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leaves out the ``chaos_long`` seeds unless they are asked for (``-m chaos_long``, ``CHAOS_LONG=1``)."""
    if _long_seeds_wanted(config):
        return
    kept = [item for item in items if item.get_closest_marker("chaos_long") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture
async def profile(tmp_home: Path, keyring_env: None) -> AsyncIterator[Profile]:
    """A fresh profile with quick reconnects; headless instances left running are killed at the end."""
    async with fresh_profile(tmp_home) as made:
        yield made


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 32 MiB tmpfs mounted by the test (root only), always unmounted at the end."""
    with SmallDisk.mounted(tmp_path / "small-disk", size_mib=32) as disk:
        yield disk


@pytest.fixture
async def disk_profile(small_disk: SmallDisk, keyring_env: None) -> AsyncIterator[Profile]:
    """A fresh profile whose every file (archive included) lives on ``small_disk``."""
    home = small_disk.path / "home"
    home.mkdir()
    try:
        async with fresh_profile(home) as made:
            yield made
    finally:
        small_disk.free()


@pytest.fixture
def roster_prosody(tmp_path: Path, test_certs: TestCerts) -> Iterator[ProsodyServer]:
    """A private Prosody whose rosters live in SQLite on a tmpfs (``lua-dbi-sqlite3``): a roster change
    costs it the same at 4,000 contacts as at 1. Its file store rewrites the whole roster on each change
    (about 0.3 s at 4,000 contacts here), which would make a flood of pushes that grows the roster take
    many minutes of the server's time, not the client's."""
    with SmallDisk.mounted(tmp_path / "roster-store", size_mib=64) as store:
        server = ProsodyServer(tmp_path / "prosody", test_certs)
        config = server.config_file.read_text(encoding="utf-8")
        assert 'storage = "internal"' in config, "the Prosody config template changed"
        server.config_file.write_text(
            config.replace(
                'storage = "internal"',
                'default_storage = "internal"\nstorage = { roster = "sql" }\n'
                f'sql = {{ driver = "SQLite3", database = "{store.path / "roster.sqlite"}" }}',
            ),
            encoding="utf-8",
        )
        try:
            server.start()
        except ProsodyError as exc:
            pytest.fail(f"cannot start Prosody with SQL rosters (is lua-dbi-sqlite3 installed?): {exc}", pytrace=False)
        try:
            yield server
        finally:
            server.stop()
