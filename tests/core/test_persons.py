"""Persons: contacts appear from the roster and from messages, merge/split/rename/move, history stays
reachable, display-name fallback, persistence across restarts, the policy hook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.api import ContactRef, PolicyError, Sphere
from aggregator.policy import Decision, PolicyEngine, Verdict
from aggregator.roster.events import PersonAdded, PersonRemoved, PersonUpdated
from aggregator.roster.naming import display_name
from aggregator.roster.records import Contact, Person
from tests.core.roster_helpers import IRC, MATRIX, XMPP, RosterWorld, world_at


@pytest.fixture
def w(tmp_path: Path) -> Iterator[RosterWorld]:
    yield from world_at(tmp_path)


def test_roster_contacts_become_persons_in_their_accounts_sphere(w: RosterWorld) -> None:
    w.snapshot(XMPP, ("bob@example.org", "Bob"), ("carol@example.org", None))
    w.snapshot(MATRIX, ("@bob:matrix.org", "Bob M"))
    assert w.roster is not None
    persons = w.roster.directory.persons()
    assert [(display_name(p), p.sphere) for p in persons] == [
        ("Bob", Sphere.WORK),
        ("carol@example.org", Sphere.WORK),
        ("Bob M", Sphere.PERSONAL),
    ]
    assert len(w.of(PersonAdded)) == 3
    # A second snapshot without carol: carol stays (history), only leaves the roster.
    w.snapshot(XMPP, ("bob@example.org", "Bob"))
    carol = w.roster.directory.contact(ContactRef(XMPP, "carol@example.org"))
    assert carol is not None and not carol.in_roster
    assert len(w.roster.directory.persons()) == 3


def test_first_direct_message_from_a_new_handle_makes_a_person(w: RosterWorld) -> None:
    w.message(IRC, "dave", "hi", 1, name="Dave D")
    assert w.roster is not None
    person = w.roster.directory.person_of(ContactRef(IRC, "dave"))
    assert person is not None and display_name(person) == "Dave D" and person.sphere is Sphere.PERSONAL
    w.message(IRC, "dave", "again", 2)
    assert len(w.roster.directory.persons()) == 1


def test_merge_and_split_keep_every_message_reachable_in_one_timeline(w: RosterWorld) -> None:
    assert w.roster is not None
    d = w.roster.directory
    w.message(XMPP, "bob@example.org", "x1", 1)
    w.message(MATRIX, "@bob:matrix.org", "m1", 2)
    w.message(XMPP, "bob@example.org", "x2 (reply)", 3, out=True)
    w.message(MATRIX, "@bob:matrix.org", "m2", 4)
    w.message(IRC, "bob", "i1", 0.5)
    a = d.person_of(ContactRef(XMPP, "bob@example.org"))
    b = d.person_of(ContactRef(MATRIX, "@bob:matrix.org"))
    c = d.person_of(ContactRef(IRC, "bob"))
    assert a and b and c
    merged = d.merge(a.id, b.id)
    merged = d.merge(a.id, c.id)
    assert merged.refs == (
        ContactRef(XMPP, "bob@example.org"),
        ContactRef(MATRIX, "@bob:matrix.org"),
        ContactRef(IRC, "bob"),
    )
    assert [e.person_id for e in w.of(PersonRemoved)] == [b.id, c.id]
    history = w.roster.history(a.id)
    assert [m.body for m in history] == ["i1", "x1", "m1", "x2 (reply)", "m2"]
    assert [m.id for m in history] == sorted(m.id for m in history)
    # Paging back through the timeline.
    newest = w.roster.history(a.id, limit=2)
    assert [m.body for m in newest] == ["x2 (reply)", "m2"]
    older = w.roster.history(a.id, limit=2, before_id=newest[0].id)
    assert [m.body for m in older] == ["x1", "m1"]

    # Survives a restart.
    roster = w.reopen()
    assert roster.directory.person(a.id).refs == merged.refs
    assert [m.body for m in roster.history(a.id)] == ["i1", "x1", "m1", "x2 (reply)", "m2"]

    # Split the Matrix contact back out: its history goes with it, the rest stays.
    alone = roster.directory.split(ContactRef(MATRIX, "@bob:matrix.org"))
    assert alone.id != a.id and alone.sphere is Sphere.PERSONAL
    assert [m.body for m in roster.history(alone.id)] == ["m1", "m2"]
    assert [m.body for m in roster.history(a.id)] == ["i1", "x1", "x2 (reply)"]
    rest = roster.directory.person(a.id)
    assert [c.position for c in rest.contacts] == [0, 1]
    roster = w.reopen()
    assert {p.id: len(p.contacts) for p in roster.directory.persons()} == {a.id: 2, alone.id: 1}


def test_rename_and_move_persist(w: RosterWorld) -> None:
    assert w.roster is not None
    w.snapshot(XMPP, ("bob@example.org", "Bob"))
    (p,) = w.roster.directory.persons()
    w.roster.directory.rename(p.id, "  Robert  ")
    w.roster.directory.move(p.id, Sphere.PERSONAL)
    assert len(w.of(PersonUpdated)) == 2
    roster = w.reopen()
    again = roster.directory.person(p.id)
    assert (display_name(again), again.sphere) == ("Robert", Sphere.PERSONAL)
    roster.directory.rename(p.id, "")
    assert display_name(roster.directory.person(p.id)) == "Bob"


class NoMixing(PolicyEngine):
    def check_merge(
        self, *, target_sphere: Sphere, source_sphere: Sphere, contact_spheres: frozenset[Sphere]
    ) -> Decision:
        if target_sphere is Sphere.PERSONAL and Sphere.WORK in contact_spheres:
            return Decision(Verdict.DENY, "no-work-in-personal", "work contacts stay out of personal persons")
        return Decision(Verdict.ALLOW)


def test_policy_refuses_a_merge_with_the_reason(tmp_path: Path) -> None:
    w = RosterWorld(tmp_path / "a.sqlite3", policy=NoMixing())
    roster = w.open()
    try:
        w.snapshot(XMPP, ("bob@example.org", None))
        w.snapshot(MATRIX, ("@bob:matrix.org", None))
        work, personal = roster.directory.persons()
        with pytest.raises(PolicyError, match="work contacts stay out") as info:
            roster.directory.merge(personal.id, work.id)
        assert info.value.rule == "no-work-in-personal"
        assert len(roster.directory.persons()) == 2  # nothing changed
        merged = roster.directory.merge(work.id, personal.id)  # into the work person: allowed
        assert len(merged.contacts) == 2
    finally:
        w.close()


def _person(alias: str | None, *contacts: tuple[str | None, str | None, str]) -> Person:
    return Person(
        id=1,
        sphere=Sphere.WORK,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        alias=alias,
        contacts=tuple(
            Contact(id=i, ref=ContactRef(XMPP, h), person_id=1, position=i, alias=a, name=n)
            for i, (a, n, h) in enumerate(contacts)
        ),
    )


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        (_person("Boss", ("Bobby", "Bob", "bob@x")), "Boss"),
        (_person(None, ("Bobby", "Bob", "bob@x")), "Bobby"),
        (_person(None, (None, "Bob", "bob@x")), "Bob"),
        (_person(None, (None, None, "bob@x")), "bob@x"),
        (_person("", (None, "", "bob@x")), "bob@x"),
        # Any contact's alias beats any contact's server name; the first contact wins ties.
        (_person(None, (None, "Bob", "bob@x"), ("Robert", None, "rob@y")), "Robert"),
        (_person(None, (None, None, "bob@x"), (None, "Rob", "rob@y")), "Rob"),
        (_person(None, (None, "Bob", "bob@x"), (None, "Rob", "rob@y")), "Bob"),
    ],
)
def test_display_name_fallback(person: Person, expected: str) -> None:
    assert display_name(person) == expected
