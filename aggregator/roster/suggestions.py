"""Merge suggestions: persons that may be one human, each with the reason. Never merges anything.

Two contacts on different accounts, of different persons, match on (strongest first):
the same e-mail-looking address, a link the user confirmed before for a similar contact, the same
address local-part, the same display name (casefolded, whitespace normalised; the person's alias
counts for each of its contacts). A confirmed link is a pair of contacts the user merged: a local part
or name match says more when (a) one side is a person whose linked contacts share that very key
("bob" on XMPP and Matrix, now "bob" on IRC too), or (b) the two contacts are on the same two accounts
as a linked pair that matched the same way (the user linked bob@corp and @bob:corp; now carol@corp and
@carol:corp). The suggestion's text names that link. A contact pair the user
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
    SuggestionReason.CONFIRMED_LINK: "{what} {key!r}, like {a} and {b}, which you linked",
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


_WHAT = {SuggestionReason.SAME_LOCAL_PART: "same address name", SuggestionReason.SAME_NAME: "same display name"}

Link = tuple[Contact, Contact]


def suggest(
    persons: Iterable[Person], rejected: set[tuple[int, int]], links: Iterable[tuple[int, int]] = ()
) -> list[Suggestion]:
    groups: dict[tuple[SuggestionReason, str], list[Contact]] = defaultdict(list)
    keys: dict[int, set[tuple[SuggestionReason, str]]] = {}
    by_id: dict[int, Contact] = {}
    for person in persons:
        for contact in person.contacts:
            by_id[contact.id] = contact
            keys[contact.id] = set(_keys(person, contact))
            for group in keys[contact.id]:
                groups[group].append(contact)
    # (reason, key) -> a link whose two contacts share that key: (person, link)
    linked_keys: dict[tuple[SuggestionReason, str], tuple[PersonId, Link]] = {}
    # (accounts, reason) -> a link between those accounts that matched that way
    linked_accounts: dict[tuple[frozenset[str], SuggestionReason], tuple[PersonId, Link]] = {}
    for a_id, b_id in sorted(links):
        a, b = by_id.get(a_id), by_id.get(b_id)
        if a is None or b is None or a.person_id != b.person_id or a.ref.account_id == b.ref.account_id:
            continue
        for reason, value in sorted(keys[a_id] & keys[b_id]):
            if reason in _WHAT:
                linked_keys.setdefault((reason, value), (a.person_id, (a, b)))
                pair_accounts = frozenset((a.ref.account_id, b.ref.account_id))
                linked_accounts.setdefault((pair_accounts, reason), (a.person_id, (a, b)))
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
                why, text = reason, _TEXT[reason].format(key=value)
                link = _confirmed(reason, value, a, b, linked_keys, linked_accounts)
                if link is not None:
                    x, y = link
                    why = SuggestionReason.CONFIRMED_LINK
                    text = _TEXT[why].format(what=_WHAT[reason], key=value, a=x.ref.handle, b=y.ref.handle)
                if known is None or (why, text) < (known.reason, known.text):
                    best[pair] = Suggestion(pair[0], pair[1], why, text)
    return sorted(best.values(), key=lambda s: (s.person, s.other))


def _confirmed(
    reason: SuggestionReason,
    value: str,
    a: Contact,
    b: Contact,
    linked_keys: dict[tuple[SuggestionReason, str], tuple[PersonId, Link]],
    linked_accounts: dict[tuple[frozenset[str], SuggestionReason], tuple[PersonId, Link]],
) -> Link | None:
    """The confirmed link that makes this match stronger, if any."""
    if reason not in _WHAT:
        return None
    found = linked_keys.get((reason, value))
    if found is not None and found[0] in (a.person_id, b.person_id):
        return found[1]
    found = linked_accounts.get((frozenset((a.ref.account_id, b.ref.account_id)), reason))
    if found is not None and found[0] not in (a.person_id, b.person_id):
        return found[1]
    return None
