"""SIGKILL of ``aggregator import`` at a random point (seeded) of a generated Pidgin or Trillian log tree.

A re-run completes; every message is in the archive once and in order; full-text search finds the
imported messages and a live message stored afterwards (the index trigger survived the kill).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import time
from pathlib import Path

import pytest

from tests.chaos.logtree import LogTree, pidgin_tree, trillian_tree
from tests.chaos.seeds import rng, seed_params
from tests.chaos.sides import bodies_of, live_xmpp_message, search
from tests.cli.conftest import AGGREGATOR, Profile
from tests.servers.prosody import ProsodyServer

log = logging.getLogger(__name__)

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]

IMPORT_TIMEOUT = 120.0
SUMMARY = r"(\d+) new messages \((\d+) already in the archive\)"


def make_tree(kind: str, root: Path, word: str) -> LogTree:
    if kind == "pidgin":
        return pidgin_tree(root, buddies=40, days=5, lines=120, word=word)  # 24,000 messages in 200 files
    return trillian_tree(root, buddies=40, sessions=5, lines=75, word=word)  # 15,000 messages in 40 files


def bytes_read(pid: int) -> int | None:
    """The bytes the process has read so far (``rchar`` of ``/proc/PID/io``), None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def archive_open(pid: int) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}").endswith("-wal") for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


async def import_killed(profile: Profile, kind: str, tree: LogTree, seed: int) -> str:
    """Starts the import and SIGKILLs it at the seed's point; returns where it struck."""
    chance = rng(seed, f"import-{kind}")
    proc = await asyncio.create_subprocess_exec(
        str(AGGREGATOR), "import", kind, str(tree.root),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=profile.env | {"TZ": "UTC"},
    )  # fmt: skip
    try:
        if chance.random() < 0.25:  # at the very start: opening the archive, migrating, first batch
            delay = chance.uniform(0.0, 0.6)
            where = f"{delay:.2f} s after the start"
            await asyncio.sleep(delay)  # the kill point itself, not a wait for something to happen
        else:  # once it has read a seeded share of the log tree (the reads interleave with the batches)
            share = chance.uniform(0.05, 0.95)
            where = f"after reading {share:.0%} of the logs"
            size = sum(p.stat().st_size for p in tree.files)
            deadline = time.monotonic() + IMPORT_TIMEOUT
            while proc.returncode is None and not archive_open(proc.pid):
                assert time.monotonic() < deadline, "the import never opened the archive"
                await asyncio.sleep(0.003)
            start = bytes_read(proc.pid) or 0
            while proc.returncode is None and (bytes_read(proc.pid) or 0) - start < share * size:
                assert time.monotonic() < deadline, f"the import never read {share:.0%} of the logs"
                await asyncio.sleep(0.002)
        assert proc.returncode is None, f"the import finished before the kill point ({where})"
        proc.kill()
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.communicate()
    rc = await proc.wait()
    assert rc == -9, f"the import ended with {rc}, not by the SIGKILL ({where})"
    return where


def archive_counts(profile: Profile, word: str) -> tuple[int, int, list[str]]:
    """(rows, distinct bodies) of the imported messages, and the full-text triggers on ``messages``."""
    db = sqlite3.connect(profile.archive_file)
    try:
        rows, distinct = db.execute(
            "SELECT count(*), count(DISTINCT body) FROM messages WHERE body LIKE ?", (word + " %",)
        ).fetchone()
        triggers = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")]
    finally:
        db.close()
    return int(rows), int(distinct), triggers


@pytest.mark.parametrize("kind", ["pidgin", "trillian"])
@pytest.mark.parametrize("seed", seed_params())
async def test_an_import_killed_at_a_random_point_completes_on_rerun_once_and_searchable(
    profile: Profile, running_prosody: ProsodyServer, tmp_path: Path, kind: str, seed: int
) -> None:
    word = f"quokka{seed}{kind[0]}"
    tree = make_tree(kind, tmp_path / "logs", word)
    where = await import_killed(profile, kind, tree, seed)

    started = time.monotonic()
    rerun = await profile.run("import", kind, str(tree.root), env={"TZ": "UTC"}, timeout=IMPORT_TIMEOUT)
    took = time.monotonic() - started
    assert rerun.rc == 0, f"the re-run after a kill {where} failed\n{rerun}"
    summary = re.search(SUMMARY, rerun.stdout)
    assert summary, str(rerun)
    new, already = int(summary.group(1)), int(summary.group(2))
    log.info("chaos import %s seed %d: %d messages, killed %s; re-run %.1f s (%d new)", kind, seed, tree.total,
             where, took, new)  # fmt: skip
    assert new + already == tree.total, str(rerun)

    rows, distinct, triggers = archive_counts(profile, word)
    assert (rows, distinct) == (tree.total, tree.total), f"{rows} rows, {distinct} distinct of {tree.total}"
    assert "messages_fts_insert" in triggers, f"the full-text insert trigger is gone after a kill {where}: {triggers}"
    buddy = rng(seed, "import-sample").choice(sorted(tree.bodies))
    assert bodies_of(await profile.history(buddy)) == tree.bodies[buddy], "a conversation is not once, in order"

    # Full-text search finds an imported message, and a live message stored after the import.
    body = tree.bodies[buddy][len(tree.bodies[buddy]) // 2]
    hits = await search(profile, f'"{body}"')
    assert [h["body"] for h in hits] == [body]
    live = f"zebra{seed}{kind} arrives live after the import"
    await live_xmpp_message(profile, running_prosody, live)
    assert [h["body"] for h in await search(profile, f"zebra{seed}{kind}")] == [live]
    assert len(await search(profile, word, limit=5)) == 5
