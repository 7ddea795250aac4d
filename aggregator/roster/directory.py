"""The persons of one profile, in memory and in the archive: who is who, and the user's commands.

Every contact belongs to exactly one person. A contact appears from the roster or from the first
direct message with a new handle, as its own person in its account's sphere. The user merges, splits,
renames and moves persons; policy may refuse a merge. Each change is stored, then announced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from aggregator.api import AccountId, AggregatorError, ContactRef, PolicyError, RosterItem, Sphere
from aggregator.archive.roster_tables import NewContact, PersonFields, RosterTables
from aggregator.bus import EventBus
from aggregator.policy import PolicyEngine
from aggregator.roster.events import PersonAdded, PersonRemoved, PersonUpdated
from aggregator.roster.records import Contact, Person, PersonId, Suggestion
from aggregator.roster.suggestions import suggest

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class UnknownPersonError(AggregatorError):
    """No such person or contact."""


class PersonDirectory:
    def __init__(
        self,
        store: RosterTables,
        *,
        policy: PolicyEngine,
        bus: EventBus | None = None,
        sphere_of: Callable[[AccountId], Sphere] = lambda _a: Sphere.PERSONAL,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._policy = policy
        self._bus = bus
        self._sphere_of = sphere_of
        self._now = clock or (lambda: datetime.now(UTC))
        self._persons: dict[PersonId, Person] = {}
        self._contacts: dict[ContactRef, Contact] = {}

    # -- loading and reading -------------------------------------------------------------------------

    def load(self) -> None:
        fields, contacts = self._store.load()
        members: dict[PersonId, list[Contact]] = {f.id: [] for f in fields}
        for c in contacts:
            members.setdefault(c.person_id, []).append(c)
            self._contacts[c.ref] = c
        for f in fields:
            if members[f.id]:
                self._persons[f.id] = self._assemble(f, members[f.id])
        orphans = self._store.orphans()
        if orphans:
            log.info("Giving %d contacts of an older archive their own person", len(orphans))
            self._add(orphans)

    @staticmethod
    def _assemble(f: PersonFields, contacts: Iterable[Contact]) -> Person:
        ordered = tuple(sorted(contacts, key=lambda c: (c.position, c.id)))
        return Person(
            id=f.id, sphere=f.sphere, created_at=f.created_at, contacts=ordered, alias=f.alias, groups=f.groups
        )

    def persons(self) -> list[Person]:
        return [self._persons[k] for k in sorted(self._persons)]

    def person(self, person_id: PersonId) -> Person:
        found = self._persons.get(person_id)
        if found is None:
            raise UnknownPersonError(f"no person {person_id}")
        return found

    def person_of(self, ref: ContactRef) -> Person | None:
        contact = self._contacts.get(ref)
        return None if contact is None else self._persons.get(contact.person_id)

    def contact(self, ref: ContactRef) -> Contact | None:
        return self._contacts.get(ref)

    def find_contacts(self, handle: str) -> list[Contact]:
        return sorted((c for c in self._contacts.values() if c.ref.handle == handle), key=lambda c: c.id)

    def suggestions(self) -> list[Suggestion]:
        return suggest(self.persons(), self._store.rejections(), self._store.links())

    def local_groups(self) -> list[str]:
        """Every local group name in use, sorted for display."""
        return sorted({g for p in self._persons.values() for g in p.groups}, key=lambda g: (g.casefold(), g))

    # -- contacts appearing ---------------------------------------------------------------------------

    def ensure_contact(self, ref: ContactRef, name: str | None = None) -> Contact:
        """The contact of ``ref``; a new one (its own person) if this handle was never seen."""
        found = self._contacts.get(ref)
        if found is not None:
            if name and not found.name:
                self._update([replace(found, name=name)])
                return self._contacts[ref]
            return found
        self._add([NewContact(ref, self._sphere_of(ref.account_id), name=name)])
        return self._contacts[ref]

    def apply_roster(self, account_id: AccountId, items: Sequence[RosterItem], *, snapshot: bool) -> None:
        """Roster items reported by the server; with ``snapshot``, the others left the roster."""
        sphere = self._sphere_of(account_id)
        new: list[NewContact] = []
        changed: list[Contact] = []
        seen: set[ContactRef] = set()
        for item in items:
            ref = ContactRef(account_id, item.handle)
            seen.add(ref)
            found = self._contacts.get(ref)
            if found is None:
                new.append(NewContact(ref, sphere, name=item.name, groups=tuple(item.groups), in_roster=True))
                continue
            updated = replace(found, name=item.name or found.name, groups=tuple(item.groups), in_roster=True)
            if updated != found:
                changed.append(updated)
        if snapshot:
            for ref, c in self._contacts.items():
                if ref.account_id == account_id and c.in_roster and ref not in seen:
                    changed.append(replace(c, in_roster=False, groups=()))
        self._update(changed)
        self._add(new)

    def remove_from_roster(self, ref: ContactRef) -> None:
        """The server dropped the contact; the person and its history stay."""
        found = self._contacts.get(ref)
        if found is not None and found.in_roster:
            self._update([replace(found, in_roster=False, groups=())])

    def _add(self, new: Sequence[NewContact]) -> None:
        unique = list({n.ref: n for n in new if n.ref not in self._contacts}.values())
        if not unique:
            return
        fields, contacts = self._store.add_contacts(unique)
        for f, c in zip(fields, contacts, strict=True):
            self._contacts[c.ref] = c
            person = self._assemble(f, [c])
            self._persons[f.id] = person
            self._publish(PersonAdded(person=person))

    def _update(self, contacts: Sequence[Contact]) -> None:
        if not contacts:
            return
        self._store.update_contacts(contacts)
        touched: set[PersonId] = set()
        for c in contacts:
            self._contacts[c.ref] = c
            touched.add(c.person_id)
        for pid in sorted(touched):
            self._refresh(pid)

    def _refresh(self, person_id: PersonId) -> Person:
        old = self._persons[person_id]
        person = replace(old, contacts=tuple(self._contacts[c.ref] for c in old.contacts))
        self._persons[person_id] = person
        self._publish(PersonUpdated(person=person))
        return person

    # -- the user's commands --------------------------------------------------------------------------

    def merge(self, into: PersonId, other: PersonId) -> Person:
        """Move every contact of ``other`` into ``into`` (after its own); ``other`` is deleted."""
        if into == other:
            raise AggregatorError("a person cannot be merged with itself")
        target, source = self.person(into), self.person(other)
        decision = self._policy.check_merge(
            target_sphere=target.sphere,
            source_sphere=source.sphere,
            contact_spheres=frozenset(self._sphere_of(r.account_id) for r in (*target.refs, *source.refs)),
        )
        if not decision.allowed:
            raise PolicyError(decision.reason or "the organisation's policy forbids this merge", decision.rule)
        base = len(target.contacts)
        moved = [replace(c, person_id=into, position=base + i) for i, c in enumerate(source.contacts)]
        self._store.regroup(moved, new_person=None, drop=other)
        self._store.add_links((a.id, b.id) for a in target.contacts for b in source.contacts)
        for c in moved:
            self._contacts[c.ref] = c
        del self._persons[other]
        groups = _unique((*target.groups, *source.groups))
        merged = replace(target, contacts=target.contacts + tuple(moved), groups=groups)
        if groups != target.groups:
            self._store.update_person(PersonFields(into, merged.alias, merged.sphere, merged.created_at, groups))
        self._persons[into] = merged
        self._publish(PersonRemoved(person_id=other, merged_into=into))
        self._publish(PersonUpdated(person=merged))
        return merged

    def split(self, ref: ContactRef) -> Person:
        """Make the contact its own person (in its account's sphere); returns that person."""
        contact = self._contacts.get(ref)
        if contact is None:
            raise UnknownPersonError(f"no contact {ref.handle} on {ref.account_id}")
        old = self._persons[contact.person_id]
        if len(old.contacts) == 1:
            return old
        fields = PersonFields(
            self._store.next_person_id(), None, self._sphere_of(ref.account_id), self._now(), old.groups
        )
        alone = replace(contact, person_id=fields.id, position=0)
        rest = [replace(c, position=i) for i, c in enumerate(c for c in old.contacts if c.ref != ref)]
        self._store.regroup([alone, *rest], new_person=fields, drop=None)
        self._store.drop_links(contact.id)
        for c in (alone, *rest):
            self._contacts[c.ref] = c
        remaining = replace(old, contacts=tuple(rest))
        self._persons[old.id] = remaining
        person = self._assemble(fields, [alone])
        self._persons[fields.id] = person
        self._publish(PersonUpdated(person=remaining))
        self._publish(PersonAdded(person=person))
        return person

    def rename(self, person_id: PersonId, alias: str | None) -> Person:
        person = self.person(person_id)
        return self._set_fields(replace(person, alias=(alias or "").strip() or None))

    def move(self, person_id: PersonId, sphere: Sphere) -> Person:
        return self._set_fields(replace(self.person(person_id), sphere=sphere))

    def group(self, person_id: PersonId, *groups: str) -> Person:
        """Put the person in the user's (local) groups, after the ones it is in already."""
        person = self.person(person_id)
        names = [g.strip() for g in groups]
        if not all(names):
            raise AggregatorError("a group needs a name")
        return self._set_fields(replace(person, groups=_unique((*person.groups, *names))))

    def ungroup(self, person_id: PersonId, group: str) -> Person:
        """Take the person out of one local group (the group's name compared case-insensitively)."""
        person = self.person(person_id)
        key = group.strip().casefold()
        if key not in {g.casefold() for g in person.groups}:
            raise UnknownPersonError(f"person {person_id} is not in the group {group.strip()!r}")
        return self._set_fields(replace(person, groups=tuple(g for g in person.groups if g.casefold() != key)))

    def set_contact_alias(self, ref: ContactRef, alias: str | None) -> Person:
        contact = self._contacts.get(ref)
        if contact is None:
            raise UnknownPersonError(f"no contact {ref.handle} on {ref.account_id}")
        self._update([replace(contact, alias=(alias or "").strip() or None)])
        return self._persons[contact.person_id]

    def reject(self, person_id: PersonId, other: PersonId) -> None:
        """The user says these two are different humans: never suggest merging their contacts."""
        a, b = self.person(person_id), self.person(other)
        self._store.add_rejections((x.id, y.id) for x in a.contacts for y in b.contacts)

    def _set_fields(self, person: Person) -> Person:
        self._store.update_person(
            PersonFields(person.id, person.alias, person.sphere, person.created_at, person.groups)
        )
        self._persons[person.id] = person
        self._publish(PersonUpdated(person=person))
        return person

    def _publish(self, event: object) -> None:
        if self._bus is not None:
            self._bus.publish(event)


def _unique(groups: Iterable[str]) -> tuple[str, ...]:
    """Group names in order, each once (case-insensitively: the first spelling wins)."""
    seen: set[str] = set()
    kept: list[str] = []
    for g in groups:
        if g.casefold() not in seen:
            seen.add(g.casefold())
            kept.append(g)
    return tuple(kept)
