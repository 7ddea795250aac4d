"""A person's presence is its best contact's; events only when what the user sees changes; unread counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.api import ContactRef, ConversationKey, Presence, PresenceKind
from aggregator.events import AccountStateChanged, ConnectionState, ContactPresenceChanged
from aggregator.roster.events import PersonPresenceChanged, UnreadChanged
from tests.core.roster_helpers import IRC, MATRIX, XMPP, RosterWorld, world_at

A = PresenceKind.AVAILABLE
AW = PresenceKind.AWAY
XA = PresenceKind.EXTENDED_AWAY
B = PresenceKind.BUSY
OFF = PresenceKind.OFFLINE
X, M, R = ContactRef(XMPP, "bob@example.org"), ContactRef(MATRIX, "@bob:matrix.org"), ContactRef(IRC, "bob")


@pytest.fixture
def w(tmp_path: Path) -> Iterator[RosterWorld]:
    yield from world_at(tmp_path)


def _bob(w: RosterWorld, *refs: ContactRef) -> int:
    assert w.roster is not None
    for ref in refs:
        w.snapshot(ref.account_id, (ref.handle, None))
    d = w.roster.directory
    ids = [p.id for r in refs if (p := d.person_of(r)) is not None]
    for other in ids[1:]:
        d.merge(ids[0], other)
    return ids[0]


def _set(w: RosterWorld, ref: ContactRef, kind: PresenceKind, status: str = "") -> None:
    assert w.bus is not None
    w.bus.publish(ContactPresenceChanged(contact=ref, presence=Presence(kind, status)))


# (presences of X, M, R) -> (shown kind, best contact). Account order: XMPP, Matrix, IRC.
@pytest.mark.parametrize(
    ("kinds", "kind", "best"),
    [
        ((OFF, OFF, OFF), OFF, X),
        ((OFF, AW, OFF), AW, M),
        ((AW, A, OFF), A, M),
        ((A, A, A), A, X),
        ((B, AW, XA), AW, M),
        ((XA, B, XA), XA, X),
        ((OFF, B, PresenceKind.INVISIBLE), B, M),
        ((OFF, OFF, B), B, R),
    ],
)
def test_presence_ordering(
    w: RosterWorld, kinds: tuple[PresenceKind, ...], kind: PresenceKind, best: ContactRef
) -> None:
    assert w.roster is not None
    pid = _bob(w, X, M, R)
    for ref, k in zip((X, M, R), kinds, strict=True):
        _set(w, ref, k)
    presence, target = w.roster.presence.person_presence(pid)
    assert (presence.kind, target) == (kind, best)
    assert w.roster.presence.reply_target(pid) == best


def test_account_order_breaks_ties(w: RosterWorld) -> None:
    assert w.roster is not None
    pid = _bob(w, X, M)
    _set(w, X, A)
    _set(w, M, A)
    assert w.roster.presence.person_presence(pid)[1] == X
    w.accounts.reverse()
    assert w.roster.presence.person_presence(pid)[1] == M


def test_events_only_when_what_the_user_sees_changes(w: RosterWorld) -> None:
    pid = _bob(w, X, M)
    w.events.clear()
    _set(w, X, AW, "lunch")
    _set(w, X, AW, "lunch")  # same again: nothing
    _set(w, M, B)  # worse than away: nothing visible changes
    _set(w, M, A)  # better: best contact and kind change
    _set(w, X, A)  # X available too, and first in account order: best contact changes
    _set(w, X, A, "back")  # the status text shown changes
    _set(w, M, OFF)  # M was not shown: nothing
    seen = [(e.person_id, e.presence, e.best) for e in w.of(PersonPresenceChanged)]
    assert seen == [
        (pid, Presence(AW, "lunch"), X),
        (pid, Presence(A), M),
        (pid, Presence(A), X),
        (pid, Presence(A, "back"), X),
    ]


def test_a_disconnected_account_takes_its_contacts_offline(w: RosterWorld) -> None:
    assert w.roster is not None and w.bus is not None
    pid = _bob(w, X, M)
    _set(w, X, A)
    _set(w, M, AW)
    w.bus.publish(AccountStateChanged(account_id=XMPP, state=ConnectionState.WAITING))
    assert w.roster.presence.person_presence(pid) == (Presence(AW), M)
    assert w.roster.presence.presence_of(X) == Presence.offline()
    w.bus.publish(AccountStateChanged(account_id=MATRIX, state=ConnectionState.OFFLINE))
    assert w.roster.presence.person_presence(pid)[0] == Presence.offline()


def test_replies_stay_on_the_contact_the_conversation_started_on(w: RosterWorld) -> None:
    assert w.roster is not None
    pid = _bob(w, X, M)
    _set(w, X, A)
    board = w.roster.presence
    assert board.reply_target(pid, ConversationKey.direct(MATRIX, M.handle)) == M
    assert board.reply_target(pid, ConversationKey.direct(IRC, "stranger")) == X
    assert board.reply_target(pid, ConversationKey.room(MATRIX, "!room:matrix.org")) == X


def test_a_merge_or_split_updates_the_shown_presence(w: RosterWorld) -> None:
    assert w.roster is not None
    pid = _bob(w, X)
    w.snapshot(MATRIX, (M.handle, None))
    _set(w, M, A)
    other = w.roster.directory.person_of(M)
    assert other is not None
    w.roster.directory.merge(pid, other.id)
    assert w.roster.presence.person_presence(pid) == (Presence(A), M)
    w.roster.directory.split(M)
    assert w.roster.presence.person_presence(pid) == (Presence.offline(), X)


def test_unread_counts_per_person_sphere_and_total_survive_a_restart(w: RosterWorld) -> None:
    assert w.roster is not None
    pid = _bob(w, X, M)  # a work person (first contact on the work account)
    w.message(XMPP, X.handle, "1", 1)
    w.message(MATRIX, M.handle, "2", 2)
    w.message(MATRIX, M.handle, "mine", 3, out=True)
    w.message(IRC, "dave", "3", 4)
    u = w.roster.unread
    from aggregator.api import Sphere

    dave = w.roster.directory.person_of(ContactRef(IRC, "dave"))
    assert dave is not None
    assert (u.person(pid), u.person(dave.id), u.sphere(Sphere.WORK), u.sphere(Sphere.PERSONAL), u.total()) == (
        2,
        1,
        2,
        1,
        3,
    )
    last = w.of(UnreadChanged)[-1]
    assert (last.person_id, last.person_unread, last.sphere, last.sphere_unread, last.total) == (
        dave.id,
        1,
        Sphere.PERSONAL,
        1,
        3,
    )
    roster = w.reopen()
    assert (roster.unread.person(pid), roster.unread.total()) == (2, 3)
    roster.unread.mark_person_read(pid)
    assert (roster.unread.person(pid), roster.unread.total()) == (0, 1)
    assert w.of(UnreadChanged)[-1].total == 1
    roster = w.reopen()
    assert roster.unread.total() == 1
    assert w.archive is not None
    conv = w.archive.conversation_id(ConversationKey.direct(IRC, "dave"), create=False)
    assert conv is not None
    roster.unread.mark_conversation_read(conv)
    assert roster.unread.total() == 0
    w.message(XMPP, X.handle, "new", 10)
    assert w.reopen().unread.person(pid) == 1
