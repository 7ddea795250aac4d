"""The roster in a running core against a FakeServer: roster -> persons, presence, unread, migration data."""

from __future__ import annotations

import shutil
from pathlib import Path

from aggregator.api import ContactRef, Presence, PresenceKind
from aggregator.archive import Archive
from aggregator.events import ConnectionState
from aggregator.policy import PolicyEngine
from aggregator.roster.events import PersonPresenceChanged
from aggregator.roster.naming import display_name
from aggregator.roster.service import Roster
from tests.core.conftest import CoreWorld, eventually
from tests.core.roster_helpers import ACCOUNTS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "archives"


async def test_roster_presence_and_unread_from_a_live_account(world: CoreWorld) -> None:
    core = await world.start()
    seen: list[PersonPresenceChanged] = []
    core.bus.subscribe(PersonPresenceChanged, seen.append)
    await world.wait_state(ConnectionState.CONNECTED)
    bob = ContactRef(world.account_id, world.bob)
    await eventually(lambda: core.roster.directory.person_of(bob) is not None)
    person = core.roster.directory.person_of(bob)
    assert person is not None and display_name(person) == world.bob.partition("@")[0]
    await world.server.set_presence(world.bob, PresenceKind.AWAY, "coffee")
    await eventually(
        lambda: core.roster.presence.person_presence(person.id)[0] == Presence(PresenceKind.AWAY, "coffee")
    )
    await world.server.deliver(world.bob, world.alice, "hi")
    await eventually(lambda: core.roster.unread.person(person.id) == 1)
    await world.server.drop_connections()
    await eventually(lambda: core.roster.presence.person_presence(person.id)[0] == Presence.offline())
    assert [e.presence.kind for e in seen if e.person_id == person.id][-1] is PresenceKind.OFFLINE


def test_an_upgraded_v2_archive_gives_its_correspondents_persons_and_nothing_unread(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    shutil.copyfile(FIXTURES / "v2.sqlite3", path)
    archive = Archive.open(path=path)
    try:
        roster = Roster(archive, policy=PolicyEngine(), accounts=lambda: ACCOUNTS)
        roster.load()
        (person,) = roster.directory.persons()
        assert person.refs == (ContactRef("xmpp:alice@example.org", "bob@example.org"),)
        assert len(roster.history(person.id)) == 6
        assert roster.unread.total() == 0
    finally:
        archive.close()


def test_the_v3_fixture_has_a_merged_person(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    shutil.copyfile(FIXTURES / "v3.sqlite3", path)
    archive = Archive.open(path=path)
    try:
        roster = Roster(archive, policy=PolicyEngine(), accounts=lambda: ACCOUNTS)
        roster.load()
        merged = [p for p in roster.directory.persons() if len(p.contacts) == 2]
        assert [display_name(p) for p in merged] == ["Bob Builder"]
        bodies = [m.body for m in roster.history(merged[0].id)]
        assert len(bodies) == 7 and bodies[3] == "bob on irc"  # one timeline, in time order
        assert roster.unread.person(merged[0].id) == 6  # a v3 archive: nothing marked read yet
        assert roster.directory.suggestions() == []
    finally:
        archive.close()
