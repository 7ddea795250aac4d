"""Merge suggestions: keys, reasons, order, rejections that stick, never between one person's contacts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.api import ContactRef
from aggregator.roster.naming import email_key, local_part, name_key
from aggregator.roster.records import SuggestionReason
from tests.core.roster_helpers import IRC, MATRIX, XMPP, RosterWorld, world_at


@pytest.fixture
def w(tmp_path: Path) -> Iterator[RosterWorld]:
    yield from world_at(tmp_path)


@pytest.mark.parametrize(
    ("handle", "local"),
    [
        ("bob@example.org", "bob"),
        ("@bob:matrix.org", "bob"),
        ("Bob", "bob"),
        ("bob@fake.test", "bob"),
        ("bob@example.org/phone", "bob"),
        ("@:server", ""),
    ],
)
def test_local_part(handle: str, local: str) -> None:
    assert local_part(handle) == local


def test_email_and_name_keys() -> None:
    assert email_key("Bob@Example.org") == "bob@example.org"
    assert email_key("@bob:matrix.org") is None
    assert email_key("bob") is None
    assert name_key("  Bob   SMITH ") == "bob smith"
    assert name_key("   ") is None


def test_suggestions_with_reasons_in_order(w: RosterWorld) -> None:
    assert w.roster is not None
    w.snapshot(XMPP, ("bob@example.org", "Bob"), ("carol@example.org", "Carol Jones"), ("x@example.org", "Admin"))
    w.snapshot(MATRIX, ("@bob:matrix.org", None), ("@cj:matrix.org", "carol   jones"), ("@x:matrix.org", None))
    w.snapshot(IRC, ("bob@example.org", None), ("dave", "Dave"))
    d = w.roster.directory
    pid = {p.contacts[0].ref: p.id for p in d.persons()}
    got = [(s.person, s.other, s.reason, s.text) for s in d.suggestions()]
    bob_x, bob_m, bob_i = (
        pid[ContactRef(XMPP, "bob@example.org")],
        pid[ContactRef(MATRIX, "@bob:matrix.org")],
        pid[ContactRef(IRC, "bob@example.org")],
    )
    carol_x, carol_m = pid[ContactRef(XMPP, "carol@example.org")], pid[ContactRef(MATRIX, "@cj:matrix.org")]
    x_x, x_m = pid[ContactRef(XMPP, "x@example.org")], pid[ContactRef(MATRIX, "@x:matrix.org")]
    assert got == sorted(
        [
            (bob_x, bob_m, SuggestionReason.SAME_LOCAL_PART, "same address name 'bob'"),
            (bob_x, bob_i, SuggestionReason.SAME_ADDRESS, "same address 'bob@example.org'"),
            (bob_m, bob_i, SuggestionReason.SAME_LOCAL_PART, "same address name 'bob'"),
            (carol_x, carol_m, SuggestionReason.SAME_NAME, "same display name 'carol jones'"),
            (x_x, x_m, SuggestionReason.SAME_LOCAL_PART, "same address name 'x'"),
        ]
    )
    assert d.suggestions() == d.suggestions()  # deterministic


def test_same_account_and_same_person_are_never_suggested(w: RosterWorld) -> None:
    assert w.roster is not None
    w.snapshot(XMPP, ("bob@example.org", "Bob"), ("bob@other.org", "Bob"))
    assert w.roster.directory.suggestions() == []
    w.snapshot(MATRIX, ("@bob:matrix.org", None))
    d = w.roster.directory
    first = d.suggestions()[0]
    d.merge(first.person, first.other)
    assert all({s.person, s.other} != {first.person, first.other} for s in d.suggestions())


def test_a_rejected_suggestion_is_never_proposed_again(w: RosterWorld) -> None:
    assert w.roster is not None
    w.snapshot(XMPP, ("bob@example.org", "Bob"))
    w.snapshot(MATRIX, ("@bob:matrix.org", "Bob"))
    d = w.roster.directory
    (s,) = d.suggestions()
    d.reject(s.person, s.other)
    assert d.suggestions() == []
    roster = w.reopen()
    assert roster.directory.suggestions() == []
    # Still not after the persons change around them (the rejection is kept per contact pair).
    w.snapshot(IRC, ("bobby", "Bob"))
    irc_bob = roster.directory.person_of(ContactRef(IRC, "bobby"))
    assert irc_bob is not None
    assert {(x.person, x.other) for x in roster.directory.suggestions()} == {
        (s.person, irc_bob.id),
        (s.other, irc_bob.id),
    }
    roster.directory.merge(irc_bob.id, s.other)
    assert [(x.person, x.other) for x in roster.directory.suggestions()] == [(s.person, irc_bob.id)]
