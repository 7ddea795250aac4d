"""Links (``xmpp:``, ``matrix:``, ``irc:`` URIs handed to the window): which conversation they open."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.api import ContactRef, ConversationKey, ConversationKind
from aggregator.app.rows import person_of_contact
from aggregator.core import Core
from aggregator.desktop.uri import LinkTarget, candidates
from aggregator.roster.records import PersonId

__all__ = ["LinkTarget", "Resolved", "resolve"]


@dataclass(frozen=True, slots=True)
class Resolved:
    keys: tuple[ConversationKey, ...]
    person: PersonId | None
    key: ConversationKey | None  # the key that found the person


def resolve(core: Core, target: LinkTarget) -> Resolved:  # engine thread
    keys = tuple(candidates(target, core.accounts.configs()))
    if target.kind is ConversationKind.DIRECT:
        for key in keys:
            for handle in dict.fromkeys((key.handle, key.handle.lower())):
                person = person_of_contact(core, ContactRef(key.account_id, handle))
                if person is not None:
                    return Resolved(keys, person, ConversationKey.direct(key.account_id, handle))
    return Resolved(keys, None, None)
