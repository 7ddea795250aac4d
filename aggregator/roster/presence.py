"""The presence board: every contact's presence in memory, and each person's shown presence.

A person shows its best contact's presence: online before offline, then ``PresenceKind.rank``
(available < away < xa < busy < invisible), then the user's account order, then the person's own
contact order. The best contact is also the default send target. ``PersonPresenceChanged`` is
published only when what the user sees changes: the kind, the status text or the best contact.
A contact of an account that is not connected is offline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aggregator.api import AccountId, ContactRef, ConversationKey, ConversationKind, Presence
from aggregator.bus import PRIORITY_CORE, EventBus
from aggregator.events import AccountStateChanged, ConnectionState, ContactPresenceChanged
from aggregator.roster.directory import PersonDirectory
from aggregator.roster.events import PersonAdded, PersonPresenceChanged, PersonRemoved, PersonUpdated
from aggregator.roster.records import Person, PersonId

_OFFLINE = Presence.offline()

View = tuple[Presence, ContactRef]


class PresenceBoard:
    def __init__(
        self,
        directory: PersonDirectory,
        *,
        bus: EventBus | None = None,
        account_order: Callable[[], Sequence[AccountId]] = tuple,
    ) -> None:
        self._directory = directory
        self._bus = bus
        self._account_order = account_order
        self._order: tuple[AccountId, ...] = ()
        self._rank: dict[AccountId, int] = {}
        self._presences: dict[AccountId, dict[str, Presence]] = {}
        self._views: dict[PersonId, View] = {}

    def attach(self, bus: EventBus) -> None:
        self._bus = bus
        bus.subscribe(ContactPresenceChanged, lambda e: self.set(e.contact, e.presence), priority=PRIORITY_CORE + 1)
        bus.subscribe(AccountStateChanged, self._on_account_state, priority=PRIORITY_CORE + 1)
        bus.subscribe(PersonAdded, lambda e: self._update(e.person), priority=PRIORITY_CORE + 1)
        bus.subscribe(PersonUpdated, lambda e: self._update(e.person), priority=PRIORITY_CORE + 1)
        bus.subscribe(PersonRemoved, self._forget, priority=PRIORITY_CORE + 1)

    def _forget(self, event: PersonRemoved) -> None:
        self._views.pop(event.person_id, None)

    # -- facts coming in ------------------------------------------------------------------------------

    def set(self, ref: ContactRef, presence: Presence) -> None:
        per_account = self._presences.setdefault(ref.account_id, {})
        if presence == _OFFLINE:
            per_account.pop(ref.handle, None)
        else:
            per_account[ref.handle] = presence
        person = self._directory.person_of(ref)
        if person is not None:
            self._update(person)

    def account_offline(self, account_id: AccountId) -> None:
        gone = self._presences.pop(account_id, {})
        touched: dict[PersonId, Person] = {}
        for handle in gone:
            person = self._directory.person_of(ContactRef(account_id, handle))
            if person is not None:
                touched[person.id] = person
        for pid in sorted(touched):
            self._update(touched[pid])

    def _on_account_state(self, event: AccountStateChanged) -> None:
        if event.state is not ConnectionState.CONNECTED:
            self.account_offline(event.account_id)

    # -- reading --------------------------------------------------------------------------------------

    def presence_of(self, ref: ContactRef) -> Presence:
        return self._presences.get(ref.account_id, {}).get(ref.handle, _OFFLINE)

    def view(self, person: Person) -> View:
        """The person's shown presence and its best contact (the default send target)."""
        order = tuple(self._account_order())
        if order != self._order:
            self._order = order
            self._rank = {a: i for i, a in enumerate(order)}
        best: tuple[tuple[int, int, int, int], Presence, ContactRef] | None = None
        for position, ref in enumerate(person.refs):
            presence = self.presence_of(ref)
            key = (
                0 if presence.kind.is_online else 1,
                presence.kind.rank,
                self._rank.get(ref.account_id, len(self._rank)),
                position,
            )
            if best is None or key < best[0]:
                best = (key, presence, ref)
        assert best is not None, "a person always has a contact"
        return best[1], best[2]

    def person_presence(self, person_id: PersonId) -> View:
        return self.view(self._directory.person(person_id))

    def reply_target(self, person_id: PersonId, conversation: ConversationKey | None = None) -> ContactRef:
        """Where to send to this person: the contact ``conversation`` started on, if it is theirs;
        else the best contact."""
        person = self._directory.person(person_id)
        if conversation is not None and conversation.kind is ConversationKind.DIRECT:
            ref = ContactRef(conversation.account_id, conversation.handle)
            if ref in person.refs:
                return ref
        return self.view(person)[1]

    # -- announcing -----------------------------------------------------------------------------------

    def _update(self, person: Person) -> None:
        view = self.view(person)
        known = self._views.get(person.id)
        if known == view:
            return
        if known is None and not view[0].kind.is_online:
            self._views[person.id] = view  # a new person, offline: PersonAdded said all there is
            return
        self._views[person.id] = view
        if self._bus is not None:
            self._bus.publish(PersonPresenceChanged(person_id=person.id, presence=view[0], best=view[1]))
