"""Names: the person's display name and the keys merge suggestions compare."""

from __future__ import annotations

import re

from aggregator.roster.records import Contact, Person

_EMAIL = re.compile(r"[^@\s:/]+@[^@\s:/]+\.[^@\s:/.]+")


def display_name(person: Person) -> str:
    """The user's person alias -> a contact's alias -> the server's name -> the handle.

    Contacts are looked at in the person's order (the user's order: the first contact's names win).
    """
    if person.alias:
        return person.alias
    for pick in (_alias, _name, _handle):
        for contact in person.contacts:
            value = pick(contact)
            if value:
                return value
    return f"person {person.id}"


def contact_display_name(contact: Contact) -> str:
    return contact.alias or contact.name or contact.ref.handle


def _alias(contact: Contact) -> str | None:
    return contact.alias


def _name(contact: Contact) -> str | None:
    return contact.name


def _handle(contact: Contact) -> str | None:
    return contact.ref.handle


def local_part(handle: str) -> str:
    """The user part of any address: ``bob@host`` (XMPP, fake), ``@bob:server`` (Matrix), ``bob`` (IRC).

    Protocol-neutral: strip a leading ``@``, cut at the first ``@`` or ``:``, casefold.
    """
    value = handle.removeprefix("@")
    cut = min((i for i in (value.find("@"), value.find(":")) if i >= 0), default=len(value))
    return value[:cut].casefold()


def email_key(handle: str) -> str | None:
    """The handle itself when it looks like an e-mail address (``user@domain.tld``), casefolded."""
    return handle.casefold() if _EMAIL.fullmatch(handle) else None


def name_key(name: str | None) -> str | None:
    """A display name for comparison: casefolded, runs of whitespace made one space."""
    if not name:
        return None
    key = " ".join(name.casefold().split())
    return key or None
