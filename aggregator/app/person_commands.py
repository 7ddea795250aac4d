"""The user's person commands, as plain functions run on the engine thread (through ``Bridge.run``).

Each one changes the core's person directory; the directory stores the change and announces it
(``PersonAdded`` / ``PersonUpdated`` / ``PersonRemoved``), and the buddy list follows those events.
A refusal (unknown person, the organisation's policy) is raised and reaches the GUI as the error.
Also here: the merge suggestions as frozen rows for the suggestions dialog.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.api import ContactRef, Sphere
from aggregator.app.rows import account_name
from aggregator.core import Core
from aggregator.roster.naming import display_name
from aggregator.roster.records import Person, PersonId


@dataclass(frozen=True, slots=True)
class SuggestionRow:
    """Merge ``other`` into ``person``? With both sides' names and contacts, and the reason."""

    person: PersonId
    other: PersonId
    person_name: str
    other_name: str
    person_contacts: tuple[str, ...]  # "handle on account"
    other_contacts: tuple[str, ...]
    reason: str
    person_sphere: Sphere = Sphere.PERSONAL
    other_sphere: Sphere = Sphere.PERSONAL

    @property
    def key(self) -> tuple[PersonId, PersonId]:
        return self.person, self.other


def merge(core: Core, into: PersonId, other: PersonId) -> PersonId:
    """Merge ``other`` into ``into``; the person that remains."""
    return core.roster.directory.merge(into, other).id


def split(core: Core, ref: ContactRef) -> PersonId:
    """Make the contact its own person; that person's id."""
    return core.roster.directory.split(ref).id


def rename(core: Core, person_id: PersonId, alias: str | None) -> PersonId:
    return core.roster.directory.rename(person_id, alias).id


def move_to_sphere(core: Core, person_id: PersonId, sphere: Sphere, *, leave_groups: bool = False) -> PersonId:
    """Move the person to ``sphere``; with ``leave_groups`` also out of every local group (a drop on
    the sphere's header puts it right under the sphere)."""
    d = core.roster.directory
    person = d.person(person_id)
    if person.sphere is not sphere:
        person = d.move(person_id, sphere)
    if leave_groups:
        for group in person.groups:
            person = d.ungroup(person_id, group)
    return person.id


def move_to_group(core: Core, person_id: PersonId, group: str, sphere: Sphere | None = None) -> PersonId:
    """Put the person in the local ``group`` only (out of its other local groups); in ``sphere`` if given."""
    name = group.strip()
    if not name:
        raise ValueError("a group needs a name")
    d = core.roster.directory
    person = d.person(person_id)
    if sphere is not None and person.sphere is not sphere:
        person = d.move(person_id, sphere)
    if name.casefold() not in {g.casefold() for g in person.groups}:
        person = d.group(person_id, name)
    for old in person.groups:
        if old.casefold() != name.casefold():
            person = d.ungroup(person_id, old)
    return person.id


def remove_from_group(core: Core, person_id: PersonId, group: str) -> PersonId:
    return core.roster.directory.ungroup(person_id, group).id


def reject(core: Core, person_id: PersonId, other: PersonId) -> None:
    core.roster.directory.reject(person_id, other)


def local_groups(core: Core) -> list[str]:
    return core.roster.directory.local_groups()


def _contacts(core: Core, person: Person) -> tuple[str, ...]:
    return tuple(f"{c.ref.handle} on {account_name(core, c.ref.account_id)}" for c in person.contacts)


def suggestion_rows(core: Core) -> list[SuggestionRow]:
    d = core.roster.directory
    rows = []
    for s in d.suggestions():
        person, other = d.person(s.person), d.person(s.other)
        rows.append(
            SuggestionRow(
                person=person.id,
                other=other.id,
                person_name=display_name(person),
                other_name=display_name(other),
                person_contacts=_contacts(core, person),
                other_contacts=_contacts(core, other),
                reason=s.text,
                person_sphere=person.sphere,
                other_sphere=other.sphere,
            )
        )
    return rows
