"""A full disk (a small tmpfs the test mounts; the whole profile lives on it) during live ingest and
during an import. Once space is back nothing the server acknowledged is lost, nothing is doubled, and
the client keeps working; the import says what happened in one line and a re-run completes.
"""

from __future__ import annotations

import collections
import logging
import re
import time
from pathlib import Path

import pytest

from tests.chaos.disk import SmallDisk
from tests.chaos.logtree import pidgin_tree
from tests.chaos.sides import (
    DELIVERY_TIMEOUT,
    assert_keeps_working,
    bodies_of,
    live_xmpp_message,
    search,
    wait_for,
    xmpp_side,
)
from tests.chaos.test_kill_import import SUMMARY, archive_counts
from tests.cli.conftest import Profile
from tests.servers.prosody import ProsodyServer

log = logging.getLogger(__name__)

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]

#: How the client may tell the user that it cannot write (a state line, a log line, a notice).
DISK_FULL = r"(?i)disk|no space|ENOSPC|storage|full"
RECOVERY_TIMEOUT = 30.0


async def test_a_full_disk_during_live_ingest_loses_nothing_and_the_client_keeps_working(
    disk_profile: Profile, small_disk: SmallDisk, running_prosody: ProsodyServer
) -> None:
    profile = disk_profile
    async with xmpp_side(profile, running_prosody) as side:
        headless = await side.start(profile)
        await side.flood(["before the disk filled"])
        await profile.wait_history(side.conversation, lambda ms: len(ms) == 1, timeout=DELIVERY_TIMEOUT)

        out, err = len(headless.lines), len(headless.errors)
        small_disk.fill()
        during = [f"while the disk is full {n}" for n in range(3)]
        await side.flood(during)  # the server acknowledged (and archived) all three

        def told() -> bool:
            return any(re.search(DISK_FULL, line) for line in [*headless.lines[out:], *headless.errors[err:]])

        await wait_for(told, "the client to say that it cannot write (the disk is full)", DELIVERY_TIMEOUT)
        assert headless.running, f"the client died on a full disk\n{headless.output()}"

        small_disk.free()
        freed = time.monotonic()
        wanted = ["before the disk filled", *during]
        try:
            await profile.wait_history(
                side.conversation, lambda ms: set(bodies_of(ms)) >= set(wanted), timeout=RECOVERY_TIMEOUT
            )
        except AssertionError as exc:
            raise AssertionError(f"messages acknowledged while the disk was full are lost: {exc}") from None
        recovered = time.monotonic() - freed
        log.info("chaos full disk (live, xmpp): %d messages while full, all stored %.1f s after space came back",
                 len(during), recovered)  # fmt: skip
        bodies = bodies_of(await profile.history(side.conversation))
        assert [b for b, k in collections.Counter(bodies).items() if k > 1] == [], bodies
        assert bodies == wanted

        await assert_keeps_working(profile, side, "after the full disk")
        assert headless.running
        assert await headless.stop() == 0


async def test_a_full_disk_during_an_import_is_one_clear_line_and_a_rerun_completes(
    disk_profile: Profile, small_disk: SmallDisk, running_prosody: ProsodyServer, tmp_path: Path
) -> None:
    profile = disk_profile
    word = "kiwidisk"
    tree = pidgin_tree(tmp_path / "logs", buddies=40, days=5, lines=120, word=word)  # about 10 MB of archive
    (await profile.run("stats")).ok()  # the archive exists before the disk fills
    small_disk.fill(leave=2 << 20)

    full = await profile.run("import", "pidgin", str(tree.root), env={"TZ": "UTC"}, timeout=120)
    small_disk.free()
    # What the user reads (checked after the re-run, so that one run reports every broken promise).
    problems: list[str] = []
    lines = [x for x in full.stderr.splitlines() if x.strip()]
    if full.rc == 0:
        problems.append("the import reported success on a full disk")
    if "Traceback" in full.stderr or len(lines) != 1:
        problems.append(f"a full disk during import printed {len(lines)} lines (a traceback?), not one")
    elif not re.search(DISK_FULL, lines[0]):
        problems.append(f"the error does not say the disk is full: {lines[0]!r}")

    rerun = await profile.run("import", "pidgin", str(tree.root), env={"TZ": "UTC"}, timeout=120)
    assert rerun.rc == 0, f"the re-run after a full disk failed\n{rerun}"
    summary = re.search(SUMMARY, rerun.stdout)
    assert summary and int(summary.group(1)) + int(summary.group(2)) == tree.total, str(rerun)
    rows, distinct, triggers = archive_counts(profile, word)
    assert (rows, distinct) == (tree.total, tree.total), f"{rows} rows, {distinct} distinct of {tree.total}"
    assert "messages_fts_insert" in triggers, f"the full-text insert trigger is gone after a full disk: {triggers}"
    body = tree.bodies["buddy007@example.org"][5]
    assert [h["body"] for h in await search(profile, f'"{body}"')] == [body]
    live = "pelican arrives live after the full disk"
    await live_xmpp_message(profile, running_prosody, live)
    assert [h["body"] for h in await search(profile, "pelican")] == [live]
    assert not problems, f"{problems}\n{full}"
