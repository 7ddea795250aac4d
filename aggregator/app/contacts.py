"""Contact commands: add, rename, remove, block, unblock; the pending requests and invitations, and
their answers (accept, decline, block). One implementation for the window (``App.contacts``), the
control socket and so the CLI (``aggregator contacts ...``, ``run`` below).

Each command calls the account's adapter through its capability (``SupportsRosterEdit``,
``SupportsBlocking``, ``SupportsInvitations``); an adapter without it gives an ``UnsupportedError`` that
says, in words, what that kind of account cannot do. Requests need a connected account
(``NotConnectedError`` otherwise).

Control requests: ``contacts.add`` (``account``, ``address``, optional ``name``, ``group``),
``contacts.rename`` (``account``, ``address``, ``name``), ``contacts.remove`` / ``contacts.block`` /
``contacts.unblock`` (``account``, ``address``), ``contacts.requests``, ``contacts.blocked``,
``contacts.accept`` / ``contacts.decline`` (``request``: its id).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aggregator.api import (
    AccountId,
    Adapter,
    ConfigurationError,
    ContactRef,
    ConversationKey,
    RequestKind,
    SupportsBlocking,
    SupportsInvitations,
    SupportsRosterEdit,
    UnsupportedError,
)
from aggregator.contacts.book import ContactBook
from aggregator.contacts.records import PendingRequest, RequestOutcome
from aggregator.core import Core
from aggregator.events import ConnectionState
from aggregator.roster.naming import display_name

log = logging.getLogger(__name__)

__all__ = ["AccountChoice", "Answered", "ContactCommands", "PendingRequest", "RequestOutcome", "request_json", "run"]

OPS = frozenset(
    {
        "contacts.add",
        "contacts.rename",
        "contacts.remove",
        "contacts.block",
        "contacts.unblock",
        "contacts.requests",
        "contacts.blocked",
        "contacts.accept",
        "contacts.decline",
    }
)


@dataclass(frozen=True, slots=True)
class Answered:
    """What answering a request did: the request, and the conversation it opened (None: none)."""

    request: PendingRequest
    outcome: RequestOutcome
    conversation: ConversationKey | None = None


@dataclass(frozen=True, slots=True)
class AccountChoice:
    """An account a contact can be added on (the add-contact dialog): its name, its protocol's name and
    the example address of that protocol; ``connected`` accounts can add at once."""

    id: AccountId
    name: str
    protocol: str
    address_example: str
    connected: bool


class ContactCommands:
    """Engine thread. The contact commands over one running core."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @property
    def _book(self) -> ContactBook:
        return self._core.router.contacts

    # -- helpers --------------------------------------------------------------------------------

    def _protocol_name(self, account_id: AccountId) -> str:
        try:
            protocol = self._core.accounts.config(account_id).protocol
            return self._core.registry.get(protocol).name
        except (KeyError, ConfigurationError):
            return account_id

    def _account_name(self, account_id: AccountId) -> str:
        try:
            return self._core.accounts.config(account_id).display_name
        except KeyError:
            raise ConfigurationError(f"there is no account {account_id}") from None

    def ref(self, account_id: AccountId, address: str) -> ContactRef:
        """The contact of ``address`` on the account (its handle in canonical form)."""
        self._account_name(account_id)
        protocol = self._core.accounts.config(account_id).protocol
        address = address.strip()
        if not address:
            raise ConfigurationError("the address is empty")
        return ContactRef(account_id, self._core.registry.get(protocol).normalize_handle(address))

    def _adapter(self, account_id: AccountId) -> Adapter:
        self._account_name(account_id)
        return self._core.accounts.connected_adapter(account_id)

    def _roster_editor(self, account_id: AccountId, what: str) -> SupportsRosterEdit:
        adapter = self._adapter(account_id)
        if not isinstance(adapter, SupportsRosterEdit):
            raise UnsupportedError(f"{self._protocol_name(account_id)} accounts cannot {what}")
        return adapter

    def _blocker(self, account_id: AccountId) -> SupportsBlocking:
        adapter = self._adapter(account_id)
        if not isinstance(adapter, SupportsBlocking):
            raise UnsupportedError(f"{self._protocol_name(account_id)} accounts cannot block anyone")
        return adapter

    def _name(self, ref: ContactRef) -> str:
        """The person's name where the buddy list has one, else the address."""
        person = self._core.roster.directory.person_of(ref)
        return ref.handle if person is None else display_name(person)

    # -- contacts -------------------------------------------------------------------------------

    def account_choices(self, address: str | None = None) -> list[AccountChoice]:
        """The enabled accounts, in order; with ``address``, only those whose protocol takes it."""
        found: list[AccountChoice] = []
        for config in self._core.accounts.configs():
            if not config.enabled:
                continue
            try:
                info = self._core.registry.get(config.protocol)
                if address is not None:
                    info.normalize_handle(address.strip())
            except (ConfigurationError, ValueError):
                continue
            connected = self._core.accounts.state(config.id) is ConnectionState.CONNECTED
            found.append(AccountChoice(config.id, config.display_name, info.name, info.address_example, connected))
        return found

    def start_conversation(self, account_id: AccountId, address: str) -> int:
        """The person to write to at ``address`` on the account (a new one for an address never seen);
        its id, for the window to open the conversation."""
        ref = self.ref(account_id, address)
        contact = self._core.roster.directory.ensure_contact(ref)
        return int(contact.person_id)

    async def add(
        self, account_id: AccountId, address: str, name: str | None = None, group: str | None = None
    ) -> ContactRef:
        """Add ``address`` to the account's contacts (an XMPP roster item with a subscription request,
        a Matrix direct chat, an IRC watch) and to the buddy list at once. A pending request of the same
        person is answered with yes."""
        ref = self.ref(account_id, address)
        name = (name or "").strip() or None
        groups = (group.strip(),) if group and group.strip() else ()
        await self._roster_editor(account_id, "add contacts").add_contact(ref.handle, name, groups)
        self._core.roster.directory.ensure_contact(ref, name)
        for request in self._book.pending(account_id):
            if request.peer == ref.handle and request.kind is not RequestKind.ROOM_INVITE:
                await self._answer(request, True)
        log.info("Added %s on %s", ref.handle, account_id)
        return ref

    def rename(self, ref: ContactRef, name: str | None) -> str:
        """Give the contact the user's own name (None or blank: clear it). Returns the name now shown."""
        self._core.roster.directory.set_contact_alias(ref, name)
        return self._name(ref)

    async def remove(self, ref: ContactRef) -> None:
        """Remove the contact from the account's contacts (the person and the history stay)."""
        await self._roster_editor(ref.account_id, "remove contacts").remove_contact(ref.handle)
        self._core.roster.directory.remove_from_roster(ref)

    async def block(self, ref: ContactRef) -> None:
        """Block the peer on the server (their messages, presence and requests stop) and in the core."""
        await self._blocker(ref.account_id).block(ref.handle)
        self._book.set_blocked(ref, True)

    async def unblock(self, ref: ContactRef) -> None:
        await self._blocker(ref.account_id).unblock(ref.handle)
        self._book.set_blocked(ref, False)

    def is_blocked(self, ref: ContactRef) -> bool:
        return self._book.is_blocked(ref.account_id, ref.handle)

    def blocked(self, account_id: AccountId | None = None) -> list[ContactRef]:
        return self._book.blocked(account_id)

    # -- requests -------------------------------------------------------------------------------

    def requests(self) -> list[PendingRequest]:
        """The requests and invitations waiting for an answer, oldest first."""
        return self._book.pending()

    def request(self, request_id: int) -> PendingRequest:
        found = self._book.get(request_id)
        if found is None:
            raise ConfigurationError(f"there is no pending request {request_id}")
        return found

    async def accept(self, request_id: int) -> Answered:
        return await self._answer(self.request(request_id), True)

    async def decline(self, request_id: int) -> Answered:
        return await self._answer(self.request(request_id), False)

    async def block_request(self, request_id: int) -> Answered:
        """Decline the request and block the person asking."""
        request = self.request(request_id)
        await self._answer(request, False)
        await self.block(request.contact)
        return Answered(request, RequestOutcome.BLOCKED)

    async def _answer(self, request: PendingRequest, accept: bool) -> Answered:
        outcome = RequestOutcome.ACCEPTED if accept else RequestOutcome.DECLINED
        account_id = request.account_id
        if request.kind is RequestKind.ROOM_INVITE:
            adapter = self._adapter(account_id)
            room: ConversationKey | None = None
            if isinstance(adapter, SupportsInvitations):
                room = await adapter.answer_invitation(request.handle, accept)
            # else: a protocol with no answer to an invitation: accepting joins, declining only forgets it
            if accept:
                joined = await self._core.rooms.join(account_id, room.handle if room else request.handle)
                room = joined.key
            self._book.close(request, outcome)
            return Answered(request, outcome, room)
        await self._roster_editor(account_id, "answer contact requests").answer_subscription(request.handle, accept)
        conversation = None
        if accept:
            ref = ContactRef(account_id, request.handle)
            self._core.roster.directory.ensure_contact(ref, request.display_name)
            conversation = ConversationKey.direct(account_id, request.handle)
        self._book.close(request, outcome)
        return Answered(request, outcome, conversation)


# -- the JSON shapes and the control socket's requests ---------------------------------------------


def request_json(r: PendingRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "account": r.account_id,
        "account_label": r.account_label,
        "kind": r.kind.value,
        "address": r.peer,
        "room": r.handle if r.kind is RequestKind.ROOM_INVITE else None,
        "name": r.who,
        "display_name": r.display_name,
        "message": r.message,
        "received_at": r.received_at.isoformat().replace("+00:00", "Z"),
        "text": r.sentence(),
    }


async def run(commands: ContactCommands, request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "contacts.requests":
        return {"ok": True, "requests": [request_json(r) for r in commands.requests()]}
    if op == "contacts.blocked":
        return {"ok": True, "blocked": [{"account": r.account_id, "address": r.handle} for r in commands.blocked()]}
    if op in ("contacts.accept", "contacts.decline"):
        answer = commands.accept if op == "contacts.accept" else commands.decline
        try:
            request_id = int(request["request"])
        except (TypeError, ValueError):
            raise ConfigurationError(f"not a request number: {request.get('request')!r}") from None
        done = await answer(request_id)
        return {
            "ok": True,
            "request": request_json(done.request),
            "outcome": done.outcome.value,
            "conversation": done.conversation.handle if done.conversation else None,
        }
    ref = commands.ref(str(request["account"]), str(request["address"]))
    contact = {"account": ref.account_id, "address": ref.handle}
    if op == "contacts.add":
        name, group = request.get("name"), request.get("group")
        await commands.add(ref.account_id, ref.handle, str(name) if name else None, str(group) if group else None)
    elif op == "contacts.rename":
        name = request.get("name")
        contact["name"] = commands.rename(ref, str(name) if name else None)
    elif op == "contacts.remove":
        await commands.remove(ref)
    elif op == "contacts.block":
        await commands.block(ref)
    elif op == "contacts.unblock":
        await commands.unblock(ref)
    else:
        raise ValueError(f"unknown op {op!r}")
    return {"ok": True, "op": op, "contact": contact}
