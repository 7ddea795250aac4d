"""Local groups, the buddy list's order (sphere -> group -> person), and suggestions from confirmed links."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.api import AggregatorError, ContactRef, Presence, PresenceKind, RosterItem, RosterSnapshot, Sphere
from aggregator.app import persons as commands
from aggregator.archive import Archive
from aggregator.events import ContactPresenceChanged
from aggregator.policy import PolicyEngine
from aggregator.roster.buddylist import UNGROUPED
from aggregator.roster.directory import UnknownPersonError
from aggregator.roster.naming import display_name
from aggregator.roster.records import SuggestionReason
from aggregator.roster.service import Roster
from tests.core.roster_helpers import ACCOUNTS, IRC, MATRIX, XMPP, RosterWorld, world_at

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "archives"


@pytest.fixture
def w(tmp_path: Path) -> Iterator[RosterWorld]:
    yield from world_at(tmp_path)


def _pid(w: RosterWorld, account: str, handle: str) -> int:
    assert w.roster is not None
    person = w.roster.directory.person_of(ContactRef(account, handle))
    assert person is not None
    return person.id


def _shape(w: RosterWorld) -> list[tuple[str, list[tuple[str, bool, list[str]]]]]:
    assert w.roster is not None
    return [
        (s.sphere.value, [(g.name, g.local, [display_name(p) for p in g.persons]) for g in s.groups])
        for s in w.roster.buddy_list()
    ]


# -- local groups -------------------------------------------------------------------------------------


def test_local_groups_are_several_per_person_and_survive_a_restart(w: RosterWorld) -> None:
    assert w.roster is not None
    w.snapshot(XMPP, ("bob@example.org", "Bob"))
    bob = _pid(w, XMPP, "bob@example.org")
    d = w.roster.directory
    d.group(bob, "Friends", "Climbing")
    d.group(bob, "friends", "Band")  # already in "Friends": kept once, first spelling
    assert d.person(bob).groups == ("Friends", "Climbing", "Band")
    d.ungroup(bob, "CLIMBING")
    with pytest.raises(UnknownPersonError):
        d.ungroup(bob, "Chess")
    with pytest.raises(AggregatorError):
        d.group(bob, "  ")
    roster = w.reopen()
    assert roster.directory.person(bob).groups == ("Friends", "Band")
    assert roster.directory.local_groups() == ["Band", "Friends"]


def test_merge_unites_and_split_keeps_local_groups(w: RosterWorld) -> None:
    assert w.roster is not None
    w.snapshot(XMPP, ("bob@example.org", "Bob"))
    w.snapshot(MATRIX, ("@bob:matrix.org", None))
    d = w.roster.directory
    x, m = _pid(w, XMPP, "bob@example.org"), _pid(w, MATRIX, "@bob:matrix.org")
    d.group(x, "Friends")
    d.group(m, "Band", "friends")
    assert d.merge(x, m).groups == ("Friends", "Band")
    alone = d.split(ContactRef(MATRIX, "@bob:matrix.org"))
    assert alone.groups == ("Friends", "Band") and d.person(x).groups == ("Friends", "Band")
    roster = w.reopen()
    assert roster.directory.person(x).groups == ("Friends", "Band")


def test_the_buddy_list_groups_by_sphere_then_group_then_online_and_name(w: RosterWorld) -> None:
    assert w.roster is not None and w.bus is not None
    # XMPP is a work account, Matrix and IRC personal (tests/core/roster_helpers.py).
    w.bus.publish(
        RosterSnapshot(
            account_id=XMPP,
            items=(
                RosterItem(handle="bob@example.org", name="Bob", groups=("Team",)),
                RosterItem(handle="ann@example.org", name="Ann", groups=("Team", "Board")),
                RosterItem(handle="zed@example.org", name="Zed", groups=("Team",)),
                RosterItem(handle="eve@example.org", name="Eve"),
            ),
        )
    )
    w.snapshot(MATRIX, ("@carol:matrix.org", "Carol"), ("@dave:matrix.org", "dave"))
    w.snapshot(IRC, ("erin", "Erin"))
    d = w.roster.directory
    d.group(_pid(w, XMPP, "zed@example.org"), "Favourites")  # a local group hides the server groups
    d.group(_pid(w, MATRIX, "@carol:matrix.org"), "Family", "Favourites")
    d.group(_pid(w, IRC, "erin"), "family")
    w.bus.publish(
        ContactPresenceChanged(contact=ContactRef(XMPP, "bob@example.org"), presence=Presence(PresenceKind.AVAILABLE))
    )
    w.bus.publish(
        ContactPresenceChanged(contact=ContactRef(MATRIX, "@dave:matrix.org"), presence=Presence(PresenceKind.AWAY))
    )
    assert _shape(w) == [
        (
            "work",
            [
                ("Favourites", True, ["Zed"]),
                ("Board", False, ["Ann"]),
                ("Team", False, ["Bob", "Ann"]),  # Bob is online
                (UNGROUPED, False, ["Eve"]),
            ],
        ),
        (
            "personal",
            [
                ("Family", True, ["Carol", "Erin"]),  # one group, whatever the case
                ("Favourites", True, ["Carol"]),
                (UNGROUPED, False, ["dave"]),
            ],
        ),
    ]
    d.move(_pid(w, IRC, "erin"), Sphere.WORK)
    assert _shape(w)[0][1][0] == ("family", True, ["Erin"])
    assert _shape(w)[1][1][0] == ("Family", True, ["Carol"])


def test_the_persons_request_has_the_list_and_group_commands(w: RosterWorld) -> None:
    assert w.roster is not None
    w.snapshot(XMPP, ("bob@example.org", "Bob"))
    grouped = commands.run(w.roster, {"op": "persons.group", "person": "bob@example.org", "groups": ["Friends"]})
    assert grouped["person"]["groups"] == ["Friends"]
    reply = commands.run(w.roster, {"op": "persons"})
    pid = grouped["person"]["id"]
    assert reply["list"] == [{"sphere": "work", "groups": [{"name": "Friends", "local": True, "persons": [pid]}]}]
    ungrouped = commands.run(w.roster, {"op": "persons.ungroup", "person": str(pid), "group": "friends"})
    assert ungrouped["person"]["groups"] == []


def test_the_v4_fixture_has_a_local_group_and_a_confirmed_link(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    shutil.copyfile(FIXTURES / "v4.sqlite3", path)
    archive = Archive.open(path=path)
    try:
        roster = Roster(archive, policy=PolicyEngine(), accounts=lambda: ACCOUNTS)
        roster.load()
        (merged,) = [p for p in roster.directory.persons() if len(p.contacts) == 2]
        assert merged.groups == ("Friends",)
        a, b = merged.contacts
        assert roster.directory._store.links() == {(a.id, b.id)}
    finally:
        archive.close()


def test_an_upgraded_v3_archive_counts_its_merged_persons_as_confirmed_links(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    shutil.copyfile(FIXTURES / "v3.sqlite3", path)
    archive = Archive.open(path=path)
    try:
        roster = Roster(archive, policy=PolicyEngine(), accounts=lambda: ACCOUNTS)
        roster.load()
        (merged,) = [p for p in roster.directory.persons() if len(p.contacts) == 2]
        assert merged.groups == ()
        a, b = merged.contacts
        assert roster.directory._store.links() == {(min(a.id, b.id), max(a.id, b.id))}
    finally:
        archive.close()


# -- "a link the user confirmed before for a similar contact" ------------------------------------------


def test_a_new_contact_like_a_linked_person_is_suggested_naming_the_link(w: RosterWorld) -> None:
    assert w.roster is not None
    d = w.roster.directory
    w.snapshot(XMPP, ("bob@example.org", None))
    w.snapshot(MATRIX, ("@bob:matrix.org", None))
    bob = d.merge(_pid(w, XMPP, "bob@example.org"), _pid(w, MATRIX, "@bob:matrix.org"))
    assert d.suggestions() == []
    w.snapshot(IRC, ("bob", None))  # bob shows up on IRC too
    (s,) = d.suggestions()
    assert (s.person, s.other) == (bob.id, _pid(w, IRC, "bob"))
    assert s.reason is SuggestionReason.CONFIRMED_LINK
    assert s.text == "same address name 'bob', like bob@example.org and @bob:matrix.org, which you linked"


def test_a_pair_like_one_the_user_linked_on_the_same_accounts_is_suggested_naming_it(w: RosterWorld) -> None:
    assert w.roster is not None
    d = w.roster.directory
    w.snapshot(XMPP, ("bob@example.org", None), ("carol@example.org", None))
    w.snapshot(MATRIX, ("@bob:matrix.org", None), ("@carol:matrix.org", None))
    w.snapshot(IRC, ("carol", None))
    carol_x, carol_m, carol_i = (
        _pid(w, XMPP, "carol@example.org"),
        _pid(w, MATRIX, "@carol:matrix.org"),
        _pid(w, IRC, "carol"),
    )
    before = {(s.person, s.other): s.reason for s in d.suggestions()}
    assert before[(carol_x, carol_m)] is SuggestionReason.SAME_LOCAL_PART
    d.merge(_pid(w, XMPP, "bob@example.org"), _pid(w, MATRIX, "@bob:matrix.org"))
    after = {(s.person, s.other): s for s in d.suggestions()}
    linked = after[(carol_x, carol_m)]
    assert linked.reason is SuggestionReason.CONFIRMED_LINK
    assert "bob@example.org and @bob:matrix.org" in linked.text
    assert after[(carol_x, carol_i)].reason is SuggestionReason.SAME_LOCAL_PART  # IRC was never linked
    # Splitting undoes the confirmation (and it is stored: it holds after a restart).
    d.split(ContactRef(MATRIX, "@bob:matrix.org"))
    roster = w.reopen()
    assert {(s.person, s.other): s.reason for s in roster.directory.suggestions()}[
        (carol_x, carol_m)
    ] is SuggestionReason.SAME_LOCAL_PART


def test_a_rejected_pair_stays_rejected_even_with_a_confirmed_link(w: RosterWorld) -> None:
    assert w.roster is not None
    d = w.roster.directory
    w.snapshot(XMPP, ("bob@example.org", None))
    w.snapshot(MATRIX, ("@bob:matrix.org", None))
    bob = d.merge(_pid(w, XMPP, "bob@example.org"), _pid(w, MATRIX, "@bob:matrix.org"))
    w.snapshot(IRC, ("bob", None))
    d.reject(bob.id, _pid(w, IRC, "bob"))
    assert d.suggestions() == []
