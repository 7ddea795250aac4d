"""A killed instance loses nothing it reported as stored, and the archive stays sound and private."""

from __future__ import annotations

import re
import sqlite3

from tests.cli.conftest import CountingServer, Profile, Users, file_mode

BURST = 300
KILL_AFTER = 100
STORED = r"stored message (\d+) in "


async def test_messages_reported_stored_survive_sigkill_mid_burst(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice, bob = users.alice, users.bob
    await profile.add(alice, server)
    headless = await profile.headless("--print-messages", connected=alice)

    for n in range(BURST):
        await server.deliver(bob.address, alice.address, f"burst message {n:03d} " + "x" * (n % 50))
    await headless.wait_line(STORED, start=KILL_AFTER, timeout=20)  # about KILL_AFTER stored so far
    await headless.kill()  # SIGKILL; what it wrote to the pipe before dying is still read

    stored = [int(m.group(1)) for line in headless.lines if (m := re.search(STORED, line))]
    assert KILL_AFTER - 5 <= len(stored) < BURST, f"not killed mid-burst: {len(stored)} stored"

    assert len(stored) == len(set(stored))

    for path in profile.archive_file.parent.glob("archive.sqlite3*"):
        assert file_mode(path) == 0o600, path
    assert file_mode(profile.archive_file) == 0o600
    db = sqlite3.connect(profile.archive_file)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        in_table = {row[0] for row in db.execute("SELECT id FROM messages")}
    finally:
        db.close()
    missing = sorted(set(stored) - in_table)
    assert not missing, f"{len(missing)} of {len(stored)} messages reported as stored are gone: {missing[:5]}"

    # A user restarting after the crash: history reads, and the instance starts again.
    history = await profile.history(bob)
    assert {m["id"] for m in history} == in_table
    assert [m["body"] for m in history] == sorted(m["body"] for m in history)
    headless = await profile.headless(connected=alice)
    assert await headless.stop() == 0
