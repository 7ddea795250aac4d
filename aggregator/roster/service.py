"""The roster service: persons, their presence and unread counts, fed by the bus.

Built once by the bootstrap. Roster events (snapshot, item changed/removed) and the first direct
message with a new handle create contacts; presence and account state feed the presence board.
The device trust of contacts on end-to-end encrypted protocols (``DeviceTrustChanged``) is kept in
memory only: the adapters report it again after each connect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aggregator.accounts.config import AccountConfig
from aggregator.api import (
    AccountId,
    ContactRef,
    ConversationKind,
    DeviceTrustChanged,
    RosterItemChanged,
    RosterItemRemoved,
    RosterSnapshot,
    Sphere,
    TrustLevel,
)
from aggregator.archive import Archive, Direction, StoredMessage
from aggregator.archive.roster_tables import RosterTables
from aggregator.bus import PRIORITY_CORE, EventBus
from aggregator.events import MessageStored
from aggregator.policy import PolicyEngine
from aggregator.roster.buddylist import SphereSection, buddy_list
from aggregator.roster.directory import PersonDirectory
from aggregator.roster.events import ContactTrustChanged
from aggregator.roster.presence import PresenceBoard
from aggregator.roster.records import PersonId
from aggregator.roster.timeline import person_history, person_history_after, person_history_around
from aggregator.roster.unread import UnreadCounter


class Roster:
    def __init__(
        self,
        archive: Archive,
        *,
        policy: PolicyEngine,
        accounts: Callable[[], Sequence[AccountConfig]],
        bus: EventBus | None = None,
    ) -> None:
        self._archive = archive
        self._accounts = accounts
        self._bus = bus
        self._trust: dict[ContactRef, ContactTrustChanged] = {}
        store = RosterTables(archive)
        self.directory = PersonDirectory(store, policy=policy, bus=bus, sphere_of=self.sphere_of)
        self.presence = PresenceBoard(self.directory, bus=bus, account_order=self.account_order)
        self.unread = UnreadCounter(store, archive, self.directory, bus=bus, sphere_of=self.sphere_of)

    def sphere_of(self, account_id: AccountId) -> Sphere:
        return next((a.sphere for a in self._accounts() if a.id == account_id), Sphere.PERSONAL)

    def account_order(self) -> list[AccountId]:
        return [a.id for a in self._accounts()]

    def load(self) -> None:
        self.directory.load()
        self.unread.load()

    def attach(self, bus: EventBus) -> None:
        """Follow the adapters' roster events and the stored messages."""
        d = self.directory
        bus.subscribe(
            RosterSnapshot, lambda e: d.apply_roster(e.account_id, e.items, snapshot=True), priority=PRIORITY_CORE
        )
        bus.subscribe(
            RosterItemChanged, lambda e: d.apply_roster(e.account_id, (e.item,), snapshot=False), priority=PRIORITY_CORE
        )
        bus.subscribe(
            RosterItemRemoved,
            lambda e: d.remove_from_roster(ContactRef(e.account_id, e.handle)),
            priority=PRIORITY_CORE,
        )
        bus.subscribe(MessageStored, self._on_stored, priority=PRIORITY_CORE)
        bus.subscribe(DeviceTrustChanged, self._on_trust, priority=PRIORITY_CORE)
        self._bus = bus
        self.presence.attach(bus)
        self.unread.attach(bus)

    def _on_stored(self, event: MessageStored) -> None:
        m = event.message
        if m.conversation.kind is ConversationKind.DIRECT:
            name = m.sender_name if m.direction is Direction.IN else None
            self.directory.ensure_contact(ContactRef(m.account_id, m.conversation.handle), name)

    def _on_trust(self, event: DeviceTrustChanged) -> None:
        ref = ContactRef(event.account_id, event.handle)
        known = ContactTrustChanged(contact=ref, trust=event.trust, devices=event.devices, verified=event.verified)
        if self._trust.get(ref) == known:
            return
        self._trust[ref] = known
        if self._bus is not None:
            self._bus.publish(known)

    def trust_of(self, ref: ContactRef) -> TrustLevel:
        """The last reported device trust of a contact; ``NONE`` when none was (no E2E, or not yet)."""
        known = self._trust.get(ref)
        return known.trust if known is not None else TrustLevel.NONE

    def buddy_list(self) -> list[SphereSection]:
        """The buddy list as the UI shows it: sphere -> group (local groups first, then server roster
        groups, then "Ungrouped") -> person (online first, then by display name)."""
        return buddy_list(self.directory.persons(), lambda p: self.presence.view(p)[0])

    def history(
        self, person_id: PersonId, limit: int | None = None, before_id: int | None = None
    ) -> list[StoredMessage]:
        return person_history(self._archive, self.directory.person(person_id), limit=limit, before_id=before_id)

    def history_after(self, person_id: PersonId, after_id: int, limit: int | None = None) -> list[StoredMessage]:
        """The person's messages newer than ``after_id``, oldest first (the oldest ``limit``)."""
        return person_history_after(self._archive, self.directory.person(person_id), after_id, limit=limit)

    def history_around(
        self, person_id: PersonId, message_id: int, before: int = 25, after: int = 25
    ) -> list[StoredMessage]:
        """``message_id`` with up to ``before`` older and ``after`` newer messages of the person."""
        return person_history_around(
            self._archive, self.directory.person(person_id), message_id, before=before, after=after
        )
