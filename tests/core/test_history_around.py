"""A person's timeline opened in the middle (at a search hit): a page around a message, paging forwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.api import ContactRef
from tests.core.roster_helpers import IRC, XMPP, RosterWorld, world_at


@pytest.fixture
def w(tmp_path: Path) -> Iterator[RosterWorld]:
    yield from world_at(tmp_path)


def test_a_page_around_a_message_across_accounts_then_forwards(w: RosterWorld) -> None:
    ids = [w.message(XMPP if i % 2 else IRC, "bob@example.org" if i % 2 else "bob", f"m{i}", i).id for i in range(10)]
    w.message(XMPP, "carol@example.org", "not bob's", 4.5)
    assert w.roster is not None
    d = w.roster.directory
    a, b = d.person_of(ContactRef(XMPP, "bob@example.org")), d.person_of(ContactRef(IRC, "bob"))
    assert a and b
    d.merge(a.id, b.id)

    page = w.roster.history_around(a.id, ids[5], before=2, after=3)
    assert [m.body for m in page] == ["m3", "m4", "m5", "m6", "m7", "m8"]
    assert [m.body for m in w.roster.history_around(a.id, ids[1], before=5, after=0)] == ["m0", "m1"]
    assert [m.body for m in w.roster.history_around(a.id, ids[9], before=1, after=5)] == ["m8", "m9"]

    newer = w.roster.history_after(a.id, ids[8], limit=5)
    assert [m.body for m in newer] == ["m9"]
    forwards = w.roster.history_after(a.id, ids[2], limit=3)
    assert [m.body for m in forwards] == ["m3", "m4", "m5"]
    assert w.roster.history_after(a.id, ids[9]) == []
