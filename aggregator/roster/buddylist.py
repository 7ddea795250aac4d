"""The buddy list's shape, as the UI shows it: sphere -> group -> person. Pure.

* Spheres in ``Sphere`` order (work, then personal); a sphere without persons is left out.
* Groups in a sphere: the user's local groups first (sorted by name), then the servers' roster groups
  (sorted by name), then ``UNGROUPED``. A person is under every local group it is in; a person in no
  local group is under every server roster group of its contacts (server groups are shown, local
  groups are ours); a person in neither is under ``UNGROUPED``. Group names are compared
  case-insensitively (the first spelling met, in person order, is shown).
* Persons in a group: online first, then by display name (casefolded), then by id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aggregator.api import Presence, Sphere
from aggregator.roster.naming import display_name
from aggregator.roster.records import Person

UNGROUPED = "Ungrouped"


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    #: Whether the user made this group (False: a server roster group, or ``UNGROUPED``).
    local: bool
    persons: tuple[Person, ...]


@dataclass(frozen=True, slots=True)
class SphereSection:
    sphere: Sphere
    groups: tuple[Group, ...]


def groups_of(person: Person) -> tuple[tuple[str, bool], ...]:
    """(group, local) pairs the person is listed under."""
    if person.groups:
        return tuple((g, True) for g in person.groups)
    server = sorted({g for c in person.contacts for g in c.groups if g.strip()}, key=_name_key)
    if server:
        return tuple((g, False) for g in server)
    return ((UNGROUPED, False),)


def _name_key(name: str) -> tuple[str, str]:
    return name.casefold(), name


def buddy_list(persons: Iterable[Person], presence_of: Callable[[Person], Presence]) -> list[SphereSection]:
    """The persons grouped and ordered for display; ``presence_of`` is the person's shown presence."""
    cells: dict[Sphere, dict[tuple[str, bool], list[Person]]] = {}
    spelling: dict[tuple[Sphere, str, bool], str] = {}
    for person in persons:
        cell = cells.setdefault(person.sphere, {})
        for name, local in groups_of(person):
            key = (name.casefold(), local)
            spelling.setdefault((person.sphere, *key), name)
            members = cell.setdefault(key, [])
            if not members or members[-1] is not person:
                members.append(person)

    def group_order(key: tuple[str, bool]) -> tuple[int, str]:
        folded, local = key
        rank = 0 if local else (2 if folded == UNGROUPED.casefold() else 1)
        return rank, folded

    shown: dict[int, tuple[int, str, int]] = {}

    def person_order(p: Person) -> tuple[int, str, int]:
        found = shown.get(p.id)
        if found is None:
            found = (0 if presence_of(p).kind.is_online else 1, display_name(p).casefold(), p.id)
            shown[p.id] = found
        return found

    sections: list[SphereSection] = []
    for sphere in Sphere:
        groups = cells.get(sphere)
        if not groups:
            continue
        sections.append(
            SphereSection(
                sphere,
                tuple(
                    Group(spelling[(sphere, *key)], key[1], tuple(sorted(groups[key], key=person_order)))
                    for key in sorted(groups, key=group_order)
                ),
            )
        )
    return sections
