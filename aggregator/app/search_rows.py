"""What the log viewer shows, as frozen values built on the engine thread (through ``Bridge.run``).

A search answer names each hit's conversation (the person's name for a direct conversation, the
room's address otherwise), account and sender; a hit's context comes with the ``SenderNames`` a
conversation tab would use (the person's name, our name or room nick, the account's label), and each
hit's sender is named by them too. The filter choices are the buddy list's persons and the accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.api import ContactRef, ConversationKey, ConversationKind, Sphere
from aggregator.app.account_selves import account_selves
from aggregator.app.names import SenderNames
from aggregator.archive.records import StoredMessage
from aggregator.core import Core
from aggregator.rooms.mentions import own_names
from aggregator.roster.naming import display_name
from aggregator.roster.records import PersonId
from aggregator.search.filters import SearchFilters, filtered_query
from aggregator.search.service import Context, SearchService
from aggregator.search.snippet import Segment


@dataclass(frozen=True, slots=True)
class ResultRow:
    message: StoredMessage
    snippet: tuple[Segment, ...]
    conversation: str  # the person's name, or the room (or contact) address
    person_id: PersonId | None  # None: a room, or a contact without a person
    account: str  # the account's label or address
    sender: str  # as the conversation names them: the person's name, a nick, our name or "me"


@dataclass(frozen=True, slots=True)
class SearchAnswer:
    rows: tuple[ResultRow, ...]
    more: bool  # the limit was reached: there are probably more matches


@dataclass(frozen=True, slots=True)
class ContextAnswer:
    context: Context
    names: SenderNames  # how the pane names the senders, as the conversation's tab would


@dataclass(frozen=True, slots=True)
class PersonChoice:
    id: PersonId
    name: str
    contacts: tuple[ContactRef, ...]


@dataclass(frozen=True, slots=True)
class AccountChoice:
    id: str
    name: str
    sphere: Sphere


@dataclass(frozen=True, slots=True)
class FilterChoices:
    persons: tuple[PersonChoice, ...]
    accounts: tuple[AccountChoice, ...]


def _account_name(core: Core, account_id: str) -> str:
    try:
        return core.accounts.config(account_id).display_name
    except KeyError:
        return account_id  # an account removed since: its messages stay in the archive


def run_search(core: Core, text: str, filters: SearchFilters, limit: int) -> SearchAnswer:
    """Raises ``SearchError`` for a query that cannot be understood."""
    query = filtered_query(text, filters)
    hits = SearchService(core.archive).search(query, limit=limit)
    names: dict[ContactRef, tuple[PersonId, str] | None] = {}
    accounts: dict[str, str] = {}
    senders: dict[ConversationKey, SenderNames] = {}
    rows = []
    for hit in hits:
        m = hit.message
        person: tuple[PersonId, str] | None = None
        if m.conversation.kind is ConversationKind.DIRECT:
            ref = ContactRef(m.account_id, m.conversation.handle)
            if ref not in names:
                found = core.roster.directory.person_of(ref)
                names[ref] = None if found is None else (found.id, display_name(found))
            person = names[ref]
        if m.account_id not in accounts:
            accounts[m.account_id] = _account_name(core, m.account_id)
        if m.conversation not in senders:
            senders[m.conversation] = context_names(core, m)
        rows.append(
            ResultRow(
                message=m,
                snippet=hit.snippet,
                conversation=person[1] if person else m.conversation.handle,
                person_id=person[0] if person else None,
                account=accounts[m.account_id],
                sender=senders[m.conversation].name(m),
            )
        )
    return SearchAnswer(tuple(rows), more=len(hits) >= limit)


def filter_choices(core: Core) -> FilterChoices:
    persons = sorted(
        (PersonChoice(p.id, display_name(p), p.refs) for p in core.roster.directory.persons()),
        key=lambda c: (c.name.casefold(), c.id),
    )
    accounts = tuple(AccountChoice(c.id, c.display_name, c.sphere) for c in core.accounts.configs())
    return FilterChoices(tuple(persons), accounts)


def context_names(core: Core, message: StoredMessage) -> SenderNames:
    """How a conversation tab names the senders of ``message``'s conversation: the person's display
    name (a direct conversation with a known person), our name on the account (in a room, our nick
    there when it is joined) and the account's label; in a room, what mentions us."""
    account_id, key = message.account_id, message.conversation
    selves = account_selves(core, (account_id,))
    own = {a: s.name for a, s in selves.items() if s.name}
    person: str | None = None
    mention: tuple[str, ...] = ()
    if key.kind is ConversationKind.DIRECT:
        found = core.roster.directory.person_of(ContactRef(account_id, key.handle))
        person = None if found is None else display_name(found)
    else:
        room = core.rooms.room(key)
        if room is not None and room.nick:
            own[account_id] = room.nick
        mention = own_names(room, selves[account_id].address if account_id in selves else "")
    return SenderNames(person=person, own=own, accounts={account_id: _account_name(core, account_id)}, mention=mention)


def message_context(core: Core, message_id: int, n: int) -> ContextAnswer | None:
    context = SearchService(core.archive).context(message_id, n)
    return None if context is None else ContextAnswer(context, context_names(core, context.message))
