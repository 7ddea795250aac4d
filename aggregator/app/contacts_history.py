"""One person's timeline across their accounts, read from the archive alone (``aggregator history
--person NAME|ADDRESS``): the person is found by id, by the name the buddy list shows, or by an address
of one of their contacts; the messages of all their direct conversations come in one list, oldest first,
as the window's person tab shows them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aggregator.accounts.config import AccountConfig
from aggregator.api import ConfigurationError
from aggregator.app.persons import resolve_person
from aggregator.archive import Archive, StoredMessage
from aggregator.policy import PolicyEngine
from aggregator.roster.naming import display_name
from aggregator.roster.records import Person
from aggregator.roster.service import Roster
from aggregator.roster.timeline import person_history


@dataclass(frozen=True, slots=True)
class PersonTimeline:
    person_id: int
    name: str
    messages: tuple[StoredMessage, ...]


def find_person(roster: Roster, who: str) -> Person:
    """By id, by name (any case; it must be one person), else by a contact's address."""
    text = who.strip()
    if not text:
        raise ConfigurationError("say whose history: a name or an address")
    if not text.isdigit():
        named = [p for p in roster.directory.persons() if display_name(p).casefold() == text.casefold()]
        if len(named) > 1:
            ids = ", ".join(str(p.id) for p in named)
            raise ConfigurationError(f"several persons are called {text!r} (ids {ids}); use an id or an address")
        if named:
            return named[0]
    return resolve_person(roster, text)


def person_timeline(
    archive: Archive, accounts: Sequence[AccountConfig], who: str, *, limit: int | None = None
) -> PersonTimeline:
    known = list(accounts)
    roster = Roster(archive, policy=PolicyEngine(), accounts=lambda: known)
    roster.load()
    person = find_person(roster, who)
    return PersonTimeline(person.id, display_name(person), tuple(person_history(archive, person, limit=limit)))
