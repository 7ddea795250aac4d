"""Unread counts per conversation, person, sphere and in total, kept in the archive.

A conversation's inbound messages above its ``last_read_id`` are unread (backfilled history never
is). Counts are loaded once, then kept in memory from ``MessageStored``; ``mark_read`` moves the
marker to the conversation's newest message. Rooms count towards their account's sphere.
"""

from __future__ import annotations

from collections.abc import Callable

from aggregator.api import AccountId, ContactRef, ConversationKey, ConversationKind, Sphere
from aggregator.archive import Archive, Direction
from aggregator.archive.roster_tables import RosterTables
from aggregator.bus import PRIORITY_CORE, EventBus
from aggregator.events import MessageStored
from aggregator.roster.directory import PersonDirectory
from aggregator.roster.events import PersonUpdated, UnreadChanged
from aggregator.roster.records import PersonId


class UnreadCounter:
    def __init__(
        self,
        store: RosterTables,
        archive: Archive,
        directory: PersonDirectory,
        *,
        bus: EventBus | None = None,
        sphere_of: Callable[[AccountId], Sphere] = lambda _a: Sphere.PERSONAL,
    ) -> None:
        self._store = store
        self._archive = archive
        self._directory = directory
        self._bus = bus
        self._sphere_of = sphere_of
        self._counts: dict[int, int] = {}
        self._keys: dict[int, ConversationKey] = {}
        self._told: dict[Sphere, int] = {}  # each sphere's count as last announced

    def load(self) -> None:
        for conv_id, key, count in self._store.unread_counts():
            self._counts[conv_id] = count
            self._keys[conv_id] = key
        self._told = {sphere: self.sphere(sphere) for sphere in Sphere}

    def attach(self, bus: EventBus) -> None:
        self._bus = bus
        # After the directory (PRIORITY_CORE) has given a new handle its person.
        bus.subscribe(MessageStored, self._on_stored, priority=PRIORITY_CORE + 2)
        bus.subscribe(PersonUpdated, self._on_person_updated, priority=PRIORITY_CORE + 2)

    def _on_stored(self, event: MessageStored) -> None:
        m = event.message
        if m.direction is not Direction.IN or m.is_backfill:
            return
        self._counts[m.conversation_id] = self._counts.get(m.conversation_id, 0) + 1
        self._keys[m.conversation_id] = m.conversation
        self._announce(m.conversation_id)

    def _on_person_updated(self, event: PersonUpdated) -> None:
        """A merge, a split or a move to the other sphere takes unread messages along: a sphere whose
        count changed that way is announced again (nothing else would tell the buddy list)."""
        if self._bus is None or not self._counts:
            return
        for sphere in Sphere:
            count = self.sphere(sphere)
            if self._told.get(sphere, 0) != count:
                self._told[sphere] = count
                person_id = event.person.id
                self._bus.publish(
                    UnreadChanged(
                        conversation_id=None,
                        person_id=person_id,
                        person_unread=self.person(person_id),
                        sphere=sphere,
                        sphere_unread=count,
                        total=self.total(),
                    )
                )

    # -- reading --------------------------------------------------------------------------------------

    def conversation(self, conversation_id: int) -> int:
        return self._counts.get(conversation_id, 0)

    def person(self, person_id: PersonId) -> int:
        refs = set(self._directory.person(person_id).refs)
        return sum(n for c, n in self._counts.items() if self._ref(c) in refs)

    def sphere(self, sphere: Sphere) -> int:
        return sum(n for c, n in self._counts.items() if self._sphere_of_conversation(c) is sphere)

    def total(self) -> int:
        return sum(self._counts.values())

    def _ref(self, conversation_id: int) -> ContactRef | None:
        key = self._keys.get(conversation_id)
        if key is None or key.kind is not ConversationKind.DIRECT:
            return None
        return ContactRef(key.account_id, key.handle)

    def _sphere_of_conversation(self, conversation_id: int) -> Sphere:
        ref = self._ref(conversation_id)
        person = None if ref is None else self._directory.person_of(ref)
        if person is not None:
            return person.sphere
        return self._sphere_of(self._keys[conversation_id].account_id)

    # -- marking read ---------------------------------------------------------------------------------

    def mark_conversation_read(self, conversation_id: int) -> None:
        self._store.mark_read([conversation_id])
        if self._counts.pop(conversation_id, 0):
            self._announce(conversation_id)

    def mark_person_read(self, person_id: PersonId) -> None:
        conv_ids: list[int] = []
        for ref in self._directory.person(person_id).refs:
            conv_id = self._archive.conversation_id(ConversationKey.direct(ref.account_id, ref.handle), create=False)
            if conv_id is not None:
                conv_ids.append(conv_id)
        self._store.mark_read(conv_ids)
        if any([self._counts.pop(c, 0) for c in conv_ids]):
            self._announce(None, person_id)

    def _announce(self, conversation_id: int | None, person_id: PersonId | None = None) -> None:
        if self._bus is None:
            return
        sphere: Sphere | None = None
        if conversation_id is not None and conversation_id in self._keys:
            ref = self._ref(conversation_id)
            person = None if ref is None else self._directory.person_of(ref)
            person_id = person.id if person is not None else person_id
            sphere = self._sphere_of_conversation(conversation_id)
        elif person_id is not None:
            sphere = self._directory.person(person_id).sphere
        if sphere is not None:
            self._told[sphere] = self.sphere(sphere)
        self._bus.publish(
            UnreadChanged(
                conversation_id=conversation_id,
                person_id=person_id,
                conversation=None if conversation_id is None else self._keys.get(conversation_id),
                conversation_unread=0 if conversation_id is None else self.conversation(conversation_id),
                person_unread=self.person(person_id) if person_id is not None else 0,
                sphere=sphere,
                sphere_unread=self.sphere(sphere) if sphere is not None else 0,
                total=self.total(),
            )
        )
