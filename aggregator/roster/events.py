"""Events of the buddy list, published on the bus (the UI's roster model listens to these)."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.api import ContactRef, ConversationKey, Presence, Sphere, TrustLevel
from aggregator.events import CoreEvent
from aggregator.roster.records import Person, PersonId


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonAdded(CoreEvent):
    person: Person


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonUpdated(CoreEvent):
    """Alias, sphere, contacts or their names changed."""

    person: Person


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonRemoved(CoreEvent):
    """The person is gone (merged into ``merged_into``, if set)."""

    person_id: PersonId
    merged_into: PersonId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonPresenceChanged(CoreEvent):
    """What the user sees of a person changed: its presence (kind, status text) or best contact."""

    person_id: PersonId
    presence: Presence
    best: ContactRef


@dataclass(frozen=True, slots=True, kw_only=True)
class UnreadChanged(CoreEvent):
    """Unread inbound messages: of the conversation that changed, its person, its sphere, in total."""

    conversation_id: int | None
    person_id: PersonId | None
    #: The conversation that changed and its own unread count (a room's row shows it as it is).
    conversation: ConversationKey | None = None
    conversation_unread: int = 0
    person_unread: int
    sphere: Sphere | None
    sphere_unread: int
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactTrustChanged(CoreEvent):
    """How far a contact's end-to-end encryption devices are verified changed (``TrustLevel``)."""

    contact: ContactRef
    trust: TrustLevel
    devices: int = 0
    verified: int = 0
