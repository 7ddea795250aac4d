"""A roster flood: thousands of one-item roster pushes (``RosterItemChanged``, as a server sends when an
admin or another client adds contacts one by one), each a new contact and person, stored and announced.

Measured per push, for the first 200 pushes and for the last 200 of the flood: the cost of a push must
not grow with the roster (issue 13, defect 6: it used to read every contact of the account). Baseline in
the same run: bare sqlite3 (WAL, synchronous=FULL as the archive), one INSERT of a contact row and a COMMIT
per push, on the same file system.

    .venv/bin/python -m bench.roster_flood [--pushes 4000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from aggregator.accounts.config import AccountConfig
from aggregator.api import RosterItem, RosterItemChanged, Sphere
from aggregator.archive import Archive
from aggregator.bus import EventBus
from aggregator.policy import PolicyEngine
from aggregator.roster.service import Roster
from bench.common import machine, median, ratio

ACCOUNT = AccountConfig(id="xmpp:me@corp.example", protocol="xmpp", address="me@corp.example", sphere=Sphere.WORK)
SAMPLE = 200


def _flood(pushes: int) -> list[float]:
    """Seconds per push, in push order."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive.open(path=Path(tmp) / "a.sqlite3")
        try:
            archive.upsert_account(ACCOUNT.id, ACCOUNT.protocol, ACCOUNT.address, ACCOUNT.label, ACCOUNT.sphere)
            bus = EventBus()
            roster = Roster(archive, policy=PolicyEngine(), accounts=lambda: [ACCOUNT], bus=bus)
            roster.load()
            roster.attach(bus)
            times = []
            for i in range(pushes):
                event = RosterItemChanged(
                    account_id=ACCOUNT.id, item=RosterItem(handle=f"c{i}@corp.example", name=None)
                )
                t = time.perf_counter()
                bus.publish(event)
                times.append(time.perf_counter() - t)
            assert len(roster.directory.persons()) == pushes
            return times
        finally:
            archive.close()


def _bare(pushes: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "bare.sqlite3", isolation_level=None)  # explicit transactions
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE contacts (id INTEGER PRIMARY KEY, account_id TEXT, handle TEXT, UNIQUE (account_id, handle))"
        )
        times = []
        for i in range(pushes):
            t = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute("INSERT INTO contacts (account_id, handle) VALUES (?, ?)", (ACCOUNT.id, f"c{i}@corp.example"))
            conn.execute("COMMIT")
            times.append(time.perf_counter() - t)
        conn.close()
        return times


def run(pushes: int, runs: int) -> None:
    first, last, bare, total = [], [], [], []
    for _ in range(runs):
        times = _flood(pushes)
        first += times[:SAMPLE]
        last += times[-SAMPLE:]
        total.append(sum(times))
        bare += _bare(pushes)
    print(f"# bench.roster_flood: {pushes} one-item roster pushes, {runs} runs; {machine()}")
    print(f"whole flood: median {median(total):.2f} s")
    f, la, b = median(first), median(last), median(bare)
    growth = ratio(la, f)
    print(f"per push, first {SAMPLE}: median {f * 1e3:.2f} ms; last {SAMPLE}: {la * 1e3:.2f} ms; growth {growth}")
    print(f"bare sqlite3 INSERT + COMMIT per push: median {b * 1e3:.3f} ms; ratio (last {SAMPLE}) {ratio(la, b)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pushes", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    run(args.pushes, args.runs)


if __name__ == "__main__":
    main()
