"""Merge suggestions: persons that may be one human, each with the reason. Never merges anything.

Two contacts on different accounts, of different persons, match on (strongest first):
the same e-mail-looking address, the same address local-part, the same display name (casefolded,
whitespace normalised; the person's alias counts for each of its contacts). A contact pair the user
rejected is never proposed again. Keys shared by more than ``MAX_GROUP`` persons ("admin", "Unknown")
say nothing and are skipped. The result is one suggestion per pair of persons, sorted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from aggregator.roster.naming import email_key, local_part, name_key
from aggregator.roster.records import Contact, Person, PersonId, Suggestion, SuggestionReason

MAX_GROUP = 8

_TEXT = {
    SuggestionReason.SAME_ADDRESS: "same address {key!r}",
    SuggestionReason.SAME_LOCAL_PART: "same address name {key!r}",
    SuggestionReason.SAME_NAME: "same display name {key!r}",
}


def _keys(person: Person, contact: Contact) -> Iterable[tuple[SuggestionReason, str]]:
    email = email_key(contact.ref.handle)
    if email:
        yield SuggestionReason.SAME_ADDRESS, email
    local = local_part(contact.ref.handle)
    if local:
        yield SuggestionReason.SAME_LOCAL_PART, local
    names = {name_key(person.alias), name_key(contact.alias), name_key(contact.name)}
    for key in sorted(n for n in names if n):
        yield SuggestionReason.SAME_NAME, key


def suggest(persons: Iterable[Person], rejected: set[tuple[int, int]]) -> list[Suggestion]:
    groups: dict[tuple[SuggestionReason, str], list[Contact]] = defaultdict(list)
    for person in persons:
        for contact in person.contacts:
            for group in _keys(person, contact):
                groups[group].append(contact)
    best: dict[tuple[PersonId, PersonId], Suggestion] = {}
    for (reason, value), contacts in groups.items():
        if len(contacts) < 2 or len({c.person_id for c in contacts}) > MAX_GROUP:
            continue
        for i, a in enumerate(contacts):
            for b in contacts[i + 1 :]:
                if a.person_id == b.person_id or a.ref.account_id == b.ref.account_id:
                    continue
                if (min(a.id, b.id), max(a.id, b.id)) in rejected:
                    continue
                pair = (min(a.person_id, b.person_id), max(a.person_id, b.person_id))
                known = best.get(pair)
                text = _TEXT[reason].format(key=value)
                if known is None or (reason, text) < (known.reason, known.text):
                    best[pair] = Suggestion(pair[0], pair[1], reason, text)
    return sorted(best.values(), key=lambda s: (s.person, s.other))
