"""Values of the buddy list: contacts, persons, merge suggestions. Frozen: change goes through commands."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from aggregator.api import ContactRef, Sphere

PersonId = int


@dataclass(frozen=True, slots=True)
class Contact:
    """One address on one account, as the archive keeps it."""

    id: int
    ref: ContactRef
    person_id: PersonId
    position: int
    name: str | None = None  # the server's (or the sender's) name
    alias: str | None = None  # the user's own name for this contact
    groups: tuple[str, ...] = ()  # the server's roster groups
    in_roster: bool = False


@dataclass(frozen=True, slots=True)
class Person:
    """One human: the user's alias, a sphere, and its contacts in the user's order."""

    id: PersonId
    sphere: Sphere
    created_at: datetime
    contacts: tuple[Contact, ...]
    alias: str | None = None
    groups: tuple[str, ...] = ()  # the user's own (local) groups, in the user's order

    @property
    def refs(self) -> tuple[ContactRef, ...]:
        return tuple(c.ref for c in self.contacts)


class SuggestionReason(enum.IntEnum):
    """Why two persons may be one human; lower is stronger."""

    SAME_ADDRESS = 1
    #: Matches contacts the user merged before (same key, or the same accounts' contacts alike).
    CONFIRMED_LINK = 2
    SAME_LOCAL_PART = 3
    SAME_NAME = 4


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Merge ``other`` into ``person``? ``person < other``; ``text`` says why, for the user."""

    person: PersonId
    other: PersonId
    reason: SuggestionReason
    text: str
