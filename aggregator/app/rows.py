"""What the UI shows, as frozen values built on the engine thread from the core's services.

The functions here run on the engine thread only (through ``Bridge.run``): the core's services are
not thread-safe. The GUI thread gets immutable rows and never touches a service.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.accounts.trust import pinned_warning
from aggregator.api import AccountId, CertificateDetails, ConfigurationError, ContactRef, PresenceKind, Sphere
from aggregator.core import Core
from aggregator.events import ConnectionState
from aggregator.roster.buddylist import UNGROUPED, groups_of
from aggregator.roster.naming import contact_display_name, display_name
from aggregator.roster.records import Person, PersonId


@dataclass(frozen=True, slots=True)
class ContactRow:
    ref: ContactRef
    name: str
    presence: PresenceKind
    status: str
    account: str  # the account's label or address
    protocol: str  # the protocol's display name


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: PersonId
    sphere: Sphere
    name: str
    group: str  # "" when the roster offers none
    presence: PresenceKind
    status: str
    best: ContactRef
    protocols: tuple[str, ...]
    unread: int
    contacts: tuple[ContactRow, ...]
    #: The user's own groups of the person (``group`` is the first of them, when there are any).
    local_groups: tuple[str, ...] = ()
    #: Every group the buddy list shows the person under (the user's own groups, else its contacts'
    #: server roster groups, as the core's ``buddy_list``); empty: right under the sphere.
    groups: tuple[str, ...] = ()

    def shown_groups(self) -> tuple[str, ...]:
        """The groups the person is shown under (``group`` alone for rows built without ``groups``)."""
        return self.groups or ((self.group,) if self.group else ())


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: AccountId
    name: str
    protocol: str
    sphere: Sphere
    enabled: bool
    state: ConnectionState
    reason: str = ""
    #: The untrusted certificate the account FAILED on (the user may review and trust it).
    certificate: CertificateDetails | None = None
    #: The warning shown while the account trusts a pinned certificate (``accounts.trust.pinned_warning``).
    pinned_warning: str | None = None


def _protocol_name(core: Core, account_id: AccountId) -> tuple[str, str]:
    """(account name, protocol name) of an account; the id when the account is gone."""
    try:
        config = core.accounts.config(account_id)
    except KeyError:
        return account_id, account_id.partition(":")[0]
    try:
        protocol = core.registry.get(config.protocol).name
    except ConfigurationError:
        protocol = config.protocol
    return config.display_name, protocol


def account_name(core: Core, account_id: AccountId) -> str:
    """The account's label or address (the id when the account is gone)."""
    return _protocol_name(core, account_id)[0]


def person_row(core: Core, person: Person) -> PersonRow:
    board = core.roster.presence
    presence, best = board.view(person)
    contacts = []
    groups = tuple(name for name, local in groups_of(person) if local or name != UNGROUPED)
    for contact in person.contacts:
        p = board.presence_of(contact.ref)
        account, protocol = _protocol_name(core, contact.ref.account_id)
        contacts.append(ContactRow(contact.ref, contact_display_name(contact), p.kind, p.status, account, protocol))
    return PersonRow(
        id=person.id,
        sphere=person.sphere,
        name=display_name(person),
        group=groups[0] if groups else "",
        presence=presence.kind,
        status=presence.status,
        best=best,
        protocols=tuple(dict.fromkeys(c.protocol for c in contacts)),
        unread=core.roster.unread.person(person.id),
        contacts=tuple(contacts),
        local_groups=person.groups,
        groups=groups,
    )


def all_persons(core: Core) -> list[PersonRow]:
    return [person_row(core, p) for p in core.roster.directory.persons()]


def person_rows(core: Core, ids: set[PersonId]) -> tuple[list[PersonRow], list[PersonId]]:
    """Fresh rows for ``ids``, and the ids that no longer exist."""
    rows: list[PersonRow] = []
    gone: list[PersonId] = []
    for pid in sorted(ids):
        try:
            person = core.roster.directory.person(pid)
        except Exception:  # UnknownPersonError: merged away or removed meanwhile
            gone.append(pid)
            continue
        rows.append(person_row(core, person))
    return rows, gone


def person_of_contact(core: Core, ref: ContactRef) -> PersonId | None:
    person = core.roster.directory.person_of(ref)
    return None if person is None else person.id


def all_accounts(core: Core) -> list[AccountRow]:
    rows = []
    for config in core.accounts.configs():
        _name, protocol = _protocol_name(core, config.id)
        rows.append(
            AccountRow(
                id=config.id,
                name=config.display_name,
                protocol=protocol,
                sphere=config.sphere,
                enabled=config.enabled,
                state=core.accounts.state(config.id),
                reason=core.accounts.reason(config.id),
                certificate=core.accounts.presented_certificate(config.id),
                pinned_warning=pinned_warning(config),
            )
        )
    return rows
