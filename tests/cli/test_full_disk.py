"""A full disk and a killed import, as a user meets them: the real ``aggregator`` in subprocesses, the
profile on a small tmpfs the test mounts. Nothing the server held is lost, the user is told in one line,
and the archive (its full-text search included) keeps working afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import AGGREGATOR, CountingServer, Profile, Users, fresh_profile
from tests.small_disk import SmallDisk, small_disk

STORED = r"stored message \d+ in "
FULL = r"archive: WARNING: cannot store messages: .*is full"
#: Big enough that a few of them need new pages of the WAL (a full disk cannot hide behind reused ones).
PADDING = "x" * 6000


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    with small_disk(tmp_path / "disk", "24m") as mounted:
        yield mounted


@pytest.fixture
async def profile_on_disk(disk: SmallDisk, keyring_env: None) -> AsyncIterator[Profile]:
    home = disk.root / "home"
    home.mkdir(mode=0o700)
    async with fresh_profile(home) as made:
        try:
            yield made
        finally:
            disk.free()


def write_pidgin_logs(root: Path, *, files: int, lines: int) -> int:
    """Pidgin text logs of alice with bob: ``files`` days of ``lines`` lines each (``zeppelin line F-N of ...``)."""
    conv = root / "logs" / "jabber" / "alice@example.org" / "bob@example.org"
    conv.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        day = date(2023, 1, 1) + timedelta(days=f)
        text = [
            f"Conversation with bob@example.org at {day:%a %d %b %Y} 12:00:00 AM UTC on alice@example.org/Home (jabber)"
        ]
        for n in range(lines):
            s = n * 10
            who = "bob@example.org/Phone" if n % 2 else "alice@example.org/Home"
            text.append(
                f"({s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}) {who}: zeppelin line {f}-{n} of the old logs"
            )
        (conv / f"{day:%Y-%m-%d}.000000+0000UTC.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
    return files * lines


def import_counts(summary: str) -> tuple[int, int]:
    """(new, already stored) from the import's summary line."""
    found = re.search(r"(\d+) new messages \((\d+) already in the archive\)", summary)
    assert found, summary
    return int(found.group(1)), int(found.group(2))


async def search(profile: Profile, *query: str) -> list[str]:
    result = (await profile.run("search", *query, "--json")).ok()
    return [json.loads(line)["body"] for line in result.stdout.splitlines() if line.strip()]


async def assert_imported(profile: Profile, *, files: int, lines: int) -> None:
    """Every file's last line is found by search (each batch went into the index)."""
    for f in range(files):
        n = lines - 1
        assert await search(profile, f'"zeppelin line {f}-{n} of"') == [f"zeppelin line {f}-{n} of the old logs"]


def bodies(messages: list[dict[str, object]]) -> list[str]:
    return [str(m["body"]).removesuffix(PADDING) for m in messages]


async def test_headless_on_a_full_disk_holds_then_recovers_with_nothing_lost(
    profile_on_disk: Profile, disk: SmallDisk, server: CountingServer, users: Users
) -> None:
    profile, alice, bob = profile_on_disk, users.alice, users.bob
    await profile.add(alice, server)
    headless = await profile.headless("--print-messages", connected=alice)
    await server.deliver(bob.address, alice.address, "before the disk filled")
    await headless.wait_line(STORED)

    disk.fill()
    expected = ["before the disk filled"]
    for n in range(200):
        expected.append(f"while filling {n}")
        mark = len(headless.lines)
        await server.deliver(bob.address, alice.address, f"while filling {n}{PADDING}")
        index = await headless.wait_line(f"{STORED}|{FULL}", start=mark)
        if re.search(FULL, headless.lines[index]):
            break
    else:
        raise AssertionError("a full disk was never reported")
    # The user is told: the archive's line, and the account's state with the reason.
    await headless.wait_state(alice, "waiting: .*is full")
    deadline = time.monotonic() + 10
    while server.online(alice.address):
        assert time.monotonic() < deadline, "the account was not held"
        await asyncio.sleep(0.05)
    for n in range(3):  # the server keeps these while the account is held
        expected.append(f"while full {n}")
        await server.deliver(bob.address, alice.address, f"while full {n}")
    refused = await profile.run("send", alice.address, bob.address, "not now")
    assert "is full" in refused.error_line(1)

    mark = len(headless.lines)
    disk.free()
    await headless.wait_line("archive: writable again", start=mark, timeout=20)
    await headless.wait_state(alice, "connected", start=mark, timeout=20)
    for n in range(3):
        expected.append(f"after {n}")
        await server.deliver(bob.address, alice.address, f"after {n}")
    history = await profile.wait_history(bob, lambda h: len(h) >= len(expected), timeout=20)
    assert bodies(history) == expected

    (await profile.run("send", alice.address, bob.address, "reply after the disk was full")).ok()
    assert [m.body for m in server.received(alice.address)] == ["reply after the disk was full"]
    assert await headless.stop() == 0
    assert not [line for line in headless.errors if "Traceback" in line or "PendingRollbackError" in line]


async def _live_message(profile: Profile, server: CountingServer, users: Users, body: str) -> None:
    """Run the instance, receive ``body`` from bob, stop it."""
    headless = await profile.headless("--print-messages", connected=users.alice)
    await server.deliver(users.bob.address, users.alice.address, body)
    await headless.wait_line(STORED)
    assert await headless.stop() == 0


async def test_import_on_a_full_disk_fails_in_one_line_and_leaves_the_archive_usable(
    profile_on_disk: Profile, disk: SmallDisk, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    profile = profile_on_disk
    await profile.add(users.alice, server)
    await _live_message(profile, server, users, "zeppelin live before the import")
    total = write_pidgin_logs(tmp_path / "pidgin", files=6, lines=2000)

    disk.fill(leave=256 * 1024)  # room for a start, not for the import
    failed = await profile.run("import", "pidgin", str(tmp_path / "pidgin"))
    line = failed.error_line(1)
    assert line.startswith("aggregator: error: ") and "is full" in line, line
    assert "Traceback" not in failed.stderr

    disk.free()
    again = (await profile.run("import", "pidgin", str(tmp_path / "pidgin"))).ok()
    assert sum(import_counts(again.stdout)) == total, again.stdout
    await assert_imported(profile, files=6, lines=2000)

    # Live messages stored after the failed import are still indexed.
    await _live_message(profile, server, users, "zeppelin live after the import")
    found = await search(profile, "zeppelin", "live")
    assert sorted(found) == ["zeppelin live after the import", "zeppelin live before the import"]


def _write_locked(archive: Path) -> bool:
    """Whether another process holds the archive's write lock (an import's batch transaction)."""
    db = sqlite3.connect(archive, timeout=0)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.rollback()
        return False
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    finally:
        db.close()


def _trigger_missing(archive: Path) -> bool:
    db = sqlite3.connect(archive, timeout=5)
    try:
        row = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'messages_fts_insert'").fetchone()
        return not row[0]
    finally:
        db.close()


async def test_an_import_killed_at_its_start_leaves_search_working(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    await profile.add(users.alice, server)
    await _live_message(profile, server, users, "zeppelin live before the import")
    total = write_pidgin_logs(tmp_path / "pidgin", files=4, lines=5000)

    proc = await asyncio.create_subprocess_exec(
        str(AGGREGATOR),
        "import",
        "pidgin",
        str(tmp_path / "pidgin"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env=profile.env,
    )
    # Kill it inside its first batch: its write lock held for a while (a batch takes some 200 ms, the
    # small writes before it a few), or (older clients) the full-text trigger already gone.
    locked_since: float | None = None
    deadline = time.monotonic() + 30
    while proc.returncode is None and time.monotonic() < deadline:
        if _trigger_missing(profile.archive_file):
            break
        now = time.monotonic()
        locked_since = (locked_since or now) if _write_locked(profile.archive_file) else None
        if locked_since is not None and now - locked_since >= 0.05:
            break
        await asyncio.sleep(0.005)
    assert proc.returncode is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    assert await proc.wait() == -signal.SIGKILL

    db = sqlite3.connect(profile.archive_file)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()
    again = (await profile.run("import", "pidgin", str(tmp_path / "pidgin"))).ok()
    assert sum(import_counts(again.stdout)) == total, again.stdout
    await assert_imported(profile, files=4, lines=5000)
    await _live_message(profile, server, users, "zeppelin live after the import")
    found = await search(profile, "zeppelin", "live")
    assert sorted(found) == ["zeppelin live after the import", "zeppelin live before the import"]
