"""Persons at scale: 10,000 contacts on 3 accounts.

* build: a fresh archive, one roster snapshot per account (the contacts and their persons written),
  then the directory loaded again from the archive (a restart), then the merge suggestions;
* presence: one ``ContactPresenceChanged`` published on the bus to the ``PersonPresenceChanged`` it
  causes (the board re-ranks the person's contacts and compares with what the user sees), against a
  bare baseline in the same run: a dict update plus a comparison with the previous value.

    .venv/bin/python -m bench.persons [--contacts 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from aggregator.accounts.config import AccountConfig
from aggregator.api import ContactRef, Presence, PresenceKind, RosterItem, RosterSnapshot, Sphere
from aggregator.archive import Archive
from aggregator.bus import EventBus
from aggregator.events import ContactPresenceChanged
from aggregator.policy import PolicyEngine
from aggregator.roster.events import PersonPresenceChanged
from aggregator.roster.service import Roster
from bench.common import machine, median, percentile, ratio

ACCOUNTS = [
    AccountConfig(id="xmpp:me@corp.example", protocol="xmpp", address="me@corp.example", sphere=Sphere.WORK),
    AccountConfig(id="matrix:@me:example.org", protocol="matrix", address="@me:example.org"),
    AccountConfig(id="irc:me", protocol="irc", address="me"),
]
KINDS = [PresenceKind.AVAILABLE, PresenceKind.AWAY, PresenceKind.BUSY, PresenceKind.OFFLINE]


def _handles(n: int, rng: random.Random) -> dict[str, list[tuple[str, str | None]]]:
    """About a third of the people are on two or three of the accounts (same name): suggestions."""
    per = n // 3
    out: dict[str, list[tuple[str, str | None]]] = {a.id: [] for a in ACCOUNTS}
    for i in range(per):
        shared = rng.random() < 0.35
        user = f"user{i}" if shared else f"u{i}x"
        name = f"Person {i}" if rng.random() < 0.5 else None
        out[ACCOUNTS[0].id].append((f"{user}@corp.example", name))
        out[ACCOUNTS[1].id].append((f"@{user if shared else f'm{i}'}:example.org", None))
        out[ACCOUNTS[2].id].append((user if shared else f"nick{i}", name if shared else None))
    return out


def run(n: int, runs: int) -> None:
    rng = random.Random(7)
    handles = _handles(n, rng)
    total = sum(len(v) for v in handles.values())
    builds, loads, suggests, events, bare = [], [], [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            archive = Archive.open(path=Path(tmp) / "a.sqlite3")
            for a in ACCOUNTS:
                archive.upsert_account(a.id, a.protocol, a.address, a.label, a.sphere)
            bus = EventBus()
            roster = Roster(archive, policy=PolicyEngine(), accounts=lambda: ACCOUNTS, bus=bus)
            roster.load()
            roster.attach(bus)
            t = time.perf_counter()
            for account_id, items in handles.items():
                bus.publish(
                    RosterSnapshot(account_id=account_id, items=tuple(RosterItem(handle=h, name=nm) for h, nm in items))
                )
            builds.append(time.perf_counter() - t)
            t = time.perf_counter()
            again = Roster(archive, policy=PolicyEngine(), accounts=lambda: ACCOUNTS)
            again.load()
            loads.append(time.perf_counter() - t)
            t = time.perf_counter()
            found = roster.directory.suggestions()
            suggests.append(time.perf_counter() - t)
            # Merge the suggestions so persons have 2-3 contacts, as in real use.
            for s in found:
                persons = {p.id for p in roster.directory.persons()}
                if s.person in persons and s.other in persons:
                    roster.directory.merge(s.person, s.other)
            seen: list[PersonPresenceChanged] = []
            bus.subscribe(PersonPresenceChanged, seen.append)
            refs = [ContactRef(a, h) for a, items in handles.items() for h, _ in items]
            board: dict[ContactRef, Presence] = {}
            for i in range(20_000):
                ref = rng.choice(refs)
                presence = Presence(KINDS[i % 4], "")
                before = len(seen)
                t0 = time.perf_counter()
                bus.publish(ContactPresenceChanged(contact=ref, presence=presence))
                t1 = time.perf_counter()
                if len(seen) > before:
                    events.append(t1 - t0)
                t0 = time.perf_counter()
                old = board.get(ref)
                board[ref] = presence
                _changed = old != presence
                bare.append(time.perf_counter() - t0)
            archive.close()
    print(f"# bench.persons: {total} contacts on 3 accounts, {runs} runs; {machine()}")
    print(f"build (3 roster snapshots -> persons, stored): median {median(builds) * 1000:.0f} ms")
    print(f"load from the archive (restart):            median {median(loads) * 1000:.0f} ms")
    print(f"suggestions ({len(found)} found):               median {median(suggests) * 1000:.0f} ms")
    ev, ba = median(events), median(bare)
    print(
        f"presence change -> PersonPresenceChanged: median {ev * 1e6:.1f} us, p95 {percentile(events, 95) * 1e6:.1f} us"
        f" ({len(events)} events); bare dict update + compare: median {ba * 1e6:.2f} us; ratio {ratio(ev, ba)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    run(args.contacts, args.runs)


if __name__ == "__main__":
    main()
