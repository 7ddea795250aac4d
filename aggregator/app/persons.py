"""The roster's commands as JSON requests: one implementation for the control socket (a running
instance) and for the CLI working on the archive directly.

Requests: ``{"op": "persons"}``, ``persons.suggestions``, ``persons.merge`` (``into``, ``other``),
``persons.reject`` (``person``, ``other``), ``persons.split`` (``contact``, ``account``),
``persons.rename`` (``person``, ``alias``), ``persons.move`` (``person``, ``sphere``),
``persons.read`` (``person``), ``persons.group`` (``person``, ``groups``: a list),
``persons.ungroup`` (``person``, ``group``). A person is named by its id or by one of its contacts'
handles. The ``persons`` reply also has ``list``: the buddy list's spheres -> groups -> person ids,
in display order (``Roster.buddy_list``).
"""

from __future__ import annotations

from typing import Any

from aggregator.api import ConfigurationError, ContactRef, Sphere
from aggregator.roster.directory import UnknownPersonError
from aggregator.roster.naming import display_name
from aggregator.roster.records import Person, Suggestion
from aggregator.roster.service import Roster

OPS = frozenset(
    {
        "persons",
        "persons.suggestions",
        "persons.merge",
        "persons.reject",
        "persons.split",
        "persons.rename",
        "persons.move",
        "persons.read",
        "persons.group",
        "persons.ungroup",
    }
)


def person_json(roster: Roster, person: Person) -> dict[str, Any]:
    presence, best = roster.presence.view(person)
    return {
        "id": person.id,
        "name": display_name(person),
        "alias": person.alias,
        "sphere": person.sphere.value,
        "groups": list(person.groups),
        "presence": presence.kind.value,
        "status": presence.status,
        "best": {"account": best.account_id, "handle": best.handle},
        "unread": roster.unread.person(person.id),
        "contacts": [
            {
                "account": c.ref.account_id,
                "handle": c.ref.handle,
                "name": c.name,
                "alias": c.alias,
                "groups": list(c.groups),
                "in_roster": c.in_roster,
                "presence": roster.presence.presence_of(c.ref).kind.value,
                "trust": roster.trust_of(c.ref).value,
            }
            for c in person.contacts
        ],
    }


def buddy_list_json(roster: Roster) -> list[dict[str, Any]]:
    return [
        {
            "sphere": section.sphere.value,
            "groups": [
                {"name": g.name, "local": g.local, "persons": [p.id for p in g.persons]} for g in section.groups
            ],
        }
        for section in roster.buddy_list()
    ]


def suggestion_json(roster: Roster, s: Suggestion) -> dict[str, Any]:
    d = roster.directory
    return {
        "person": s.person,
        "other": s.other,
        "person_name": display_name(d.person(s.person)),
        "other_name": display_name(d.person(s.other)),
        "reason": s.reason.name.lower(),
        "text": s.text,
    }


def resolve_person(roster: Roster, ref: object) -> Person:
    text = str(ref).strip()
    d = roster.directory
    if text.isdigit():
        found = {p.id: p for p in d.persons()}.get(int(text))
        if found is None:
            raise ConfigurationError(f"no person {text}")
        return found
    persons = {p.id: p for c in d.find_contacts(text) if (p := d.person_of(c.ref)) is not None}
    if not persons:
        raise ConfigurationError(f"no person or contact {text!r}")
    if len(persons) > 1:
        raise ConfigurationError(
            f"{text!r} is a contact of several persons ({', '.join(map(str, sorted(persons)))}); use the id"
        )
    return next(iter(persons.values()))


def resolve_contact(roster: Roster, handle: str, account: str | None) -> ContactRef:
    found = [c.ref for c in roster.directory.find_contacts(handle) if account in (None, c.ref.account_id)]
    if not found:
        raise ConfigurationError(f"no contact {handle!r}" + (f" on {account}" if account else ""))
    if len(found) > 1:
        accounts = ", ".join(r.account_id for r in found)
        raise ConfigurationError(f"{handle!r} is a contact on several accounts ({accounts}); add --account")
    return found[0]


def run(roster: Roster, request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    d = roster.directory
    if op == "persons":
        return {"ok": True, "persons": [person_json(roster, p) for p in d.persons()], "list": buddy_list_json(roster)}
    if op == "persons.suggestions":
        return {"ok": True, "suggestions": [suggestion_json(roster, s) for s in d.suggestions()]}
    if op == "persons.merge":
        into, other = resolve_person(roster, request["into"]), resolve_person(roster, request["other"])
        return {"ok": True, "person": person_json(roster, d.merge(into.id, other.id)), "removed": other.id}
    if op == "persons.reject":
        person, other = resolve_person(roster, request["person"]), resolve_person(roster, request["other"])
        d.reject(person.id, other.id)
        return {"ok": True}
    if op == "persons.split":
        ref = resolve_contact(roster, str(request["contact"]), request.get("account"))
        return {"ok": True, "person": person_json(roster, d.split(ref))}
    if op == "persons.rename":
        person = resolve_person(roster, request["person"])
        return {"ok": True, "person": person_json(roster, d.rename(person.id, request.get("alias")))}
    if op == "persons.move":
        person = resolve_person(roster, request["person"])
        try:
            sphere = Sphere(str(request["sphere"]))
        except ValueError:
            raise ConfigurationError(f"a sphere is 'work' or 'personal', not {request['sphere']!r}") from None
        return {"ok": True, "person": person_json(roster, d.move(person.id, sphere))}
    if op == "persons.read":
        person = resolve_person(roster, request["person"])
        roster.unread.mark_person_read(person.id)
        return {"ok": True, "person": person_json(roster, person)}
    if op == "persons.group":
        person = resolve_person(roster, request["person"])
        groups = [str(g) for g in request.get("groups") or []]
        if not groups or not all(g.strip() for g in groups):
            raise ConfigurationError("name at least one group")
        return {"ok": True, "person": person_json(roster, d.group(person.id, *groups))}
    if op == "persons.ungroup":
        person = resolve_person(roster, request["person"])
        try:
            changed = d.ungroup(person.id, str(request["group"]))
        except UnknownPersonError as exc:
            raise ConfigurationError(str(exc)) from None
        return {"ok": True, "person": person_json(roster, changed)}
    raise ValueError(f"unknown op {op!r}")
