"""The world of the desktop-client benchmarks: a profile with 3 fake accounts, N persons and history.

Written straight into the archive with the core's own bulk paths (a roster snapshot per account
through ``Roster``, ``Archive.import_messages`` for history), not through a server: 10,000 persons
take about a second, 100,000 messages about two. The fake server (run by the parent process, so the
GUI process under test does not share its interpreter with it) holds the same rosters, so logging in
changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.api import ConversationKey, MessageState, RosterItem, RosterSnapshot, Sphere
from aggregator.archive import Archive, Direction, NewMessage
from aggregator.bus import EventBus
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.roster.service import Roster
from protocols.fake.server import FakeServer

PASSWORD = "bench-pw"
ME = ("me0@fake.test", "me1@fake.test", "me2@fake.test")
FIRST = (
    "anna", "ben", "clara", "david", "emma", "felix", "greta", "hannah", "jonas", "karl", "lena", "max",
    "nina", "oskar", "paula", "quentin", "rosa", "simon", "tilda", "ulrich", "vera", "walter", "yusuf", "zoe",
)  # fmt: skip
LAST = (
    "schmidt", "meyer", "weber", "fischer", "wagner", "becker", "hoffmann", "koch", "richter", "klein",
    "wolf", "neumann", "schwarz", "zimmermann", "braun", "krause", "hartmann", "lange", "werner", "krueger",
)  # fmt: skip
WORDS = ("the", "a", "meeting", "today", "tomorrow", "see", "you", "plan", "review", "build", "release", "lunch")


def accounts() -> list[AccountConfig]:
    return [
        AccountConfig(
            id=make_account_id("fake", address),
            protocol="fake",
            address=address,
            sphere=Sphere.WORK if i == 0 else Sphere.PERSONAL,
            server="",  # set by write_profile
            allow_plaintext=True,
        )
        for i, address in enumerate(ME)
    ]


def contacts(n: int) -> dict[str, list[str]]:
    """``n`` distinct contacts spread over the 3 accounts (one person each), by account address."""
    out: dict[str, list[str]] = {a: [] for a in ME}
    for i in range(n):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        out[ME[i % 3]].append(f"{first}.{last}{i}@fake.test")
    return out


def typed_names(n: int, count: int, seed: int = 5) -> list[str]:
    """Local parts a user would type to find someone (existing persons)."""
    rng = random.Random(seed)
    every = [h.partition("@")[0] for hs in contacts(n).values() for h in hs]
    return rng.sample(every, count)


@dataclass(frozen=True)
class BigConversation:
    handle: str  # the contact's address (on ME[0])
    messages: int


def write_profile(
    home: Path, server_address: str, persons: int, *, big: int = 0, small_convs: int = 0, small_size: int = 100
) -> BigConversation | None:
    """The profile at ``home``: accounts.json, the archive with the persons, and history.

    ``big`` messages with the first contact of ME[0] (when > 0) and ``small_size`` messages with each
    of the next ``small_convs`` contacts. Passwords are not written (the GUI process puts them in its
    in-memory keyring)."""
    paths = ProfilePaths.resolve(home)
    paths.ensure()
    configs = [
        AccountConfig(
            id=a.id,
            protocol=a.protocol,
            address=a.address,
            sphere=a.sphere,
            server=server_address,
            allow_plaintext=True,
        )
        for a in accounts()
    ]
    AccountStore(paths.accounts_file).save(configs)
    archive = Archive.open(path=paths.archive_file)
    try:
        for a in configs:
            archive.upsert_account(a.id, a.protocol, a.address, a.label, a.sphere)
        bus = EventBus()
        roster = Roster(archive, policy=PolicyEngine(), accounts=lambda: configs, bus=bus)
        roster.load()
        roster.attach(bus)
        by_account = contacts(persons)
        for a in configs:
            items = tuple(RosterItem(handle=h, name=h.partition("@")[0]) for h in by_account[a.address])
            bus.publish(RosterSnapshot(account_id=a.id, items=items))
        first = configs[0]
        handles = by_account[first.address]
        plan = [(handles[0], big)] if big else []
        plan += [(h, small_size) for h in handles[1 : 1 + small_convs]]
        rng = random.Random(11)
        start = datetime(2024, 1, 1, tzinfo=UTC)
        for handle, size in plan:
            conv = archive.conversation_id(ConversationKey.direct(first.id, handle))
            assert conv is not None

            def rows(conv: int = conv, handle: str = handle, size: int = size) -> Iterator[NewMessage]:
                step = timedelta(days=600) / max(size, 1)
                for i in range(size):
                    out = rng.random() < 0.4
                    yield NewMessage(
                        conversation_id=conv,
                        account_id=first.id,
                        direction=Direction.OUT if out else Direction.IN,
                        sender=first.address if out else handle,
                        body=" ".join(rng.choices(WORDS, k=rng.randint(3, 25))),
                        sent_at=start + step * i,
                        state=MessageState.SENT if out else MessageState.RECEIVED,
                        server_id=f"b{conv}-{i}",
                    )

            archive.import_messages(rows())
    finally:
        archive.close()
    return BigConversation(handles[0], big) if big else None


def populate_server(server: FakeServer, persons: int) -> None:
    """The accounts and their rosters (the same as written into the profile)."""
    by_account = contacts(persons)
    for address, handles in by_account.items():
        server.add_user(address, PASSWORD)
        for handle in handles:
            server.add_user(handle, "x")
        server.set_roster(address, handles)
