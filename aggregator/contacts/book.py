"""``ContactBook``: the pending contact requests and invitations, and the blocked peers.

A request is stored as it arrives (a request that comes while the window is closed shows at the next
start) and published as ``ContactRequestReceived`` with what the views show; answering it forgets it and
publishes ``ContactRequestClosed``. The blocked peers are kept in memory too: the router asks about every
inbound message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aggregator.api import AccountId, ContactRef, RequestKind
from aggregator.archive import Archive
from aggregator.archive.contact_requests import ContactRequestTable, StoredRequest
from aggregator.bus import EventBus
from aggregator.contacts.records import PendingRequest, RequestOutcome
from aggregator.events import ContactBlockChanged, ContactRequestClosed, ContactRequestReceived
from aggregator.roster.naming import display_name
from aggregator.roster.service import Roster

log = logging.getLogger(__name__)

#: The name of an account as the user knows it (its label or address).
LabelOf = Callable[[AccountId], str]
#: The buddy-list name of the person a contact belongs to (None: nobody yet).
NameOf = Callable[[ContactRef], str | None]


class ContactBook:
    def __init__(
        self, archive: Archive, bus: EventBus, *, label_of: LabelOf | None = None, name_of: NameOf | None = None
    ) -> None:
        self._table = ContactRequestTable(archive)
        self._bus = bus
        self._label_of = label_of or (lambda account_id: account_id)
        self._name_of = name_of or (lambda _ref: None)
        self._blocked: set[tuple[str, str]] | None = None

    # -- requests -------------------------------------------------------------------------------

    def received(
        self,
        account_id: AccountId,
        kind: RequestKind,
        handle: str,
        *,
        inviter: str | None = None,
        display_name: str | None = None,
        message: str = "",
    ) -> PendingRequest:
        stored = self._table.put(
            account_id=account_id,
            kind=kind.value,
            handle=handle,
            inviter=inviter,
            display_name=display_name,
            message=message,
            at=datetime.now(UTC),
        )
        request = self._view(stored)
        self._bus.publish(ContactRequestReceived(request=request))
        return request

    def declined_by_policy(self, account_id: AccountId, kind: RequestKind, handle: str, reason: str, **kw: str) -> None:
        """A request the policy declined at once: never stored, only told."""
        request = PendingRequest(
            id=0,
            account_id=account_id,
            kind=kind,
            handle=handle,
            received_at=datetime.now(UTC),
            inviter=kw.get("inviter"),
            display_name=kw.get("display_name"),
            account_label=self._label_of(account_id),
        )
        self._bus.publish(
            ContactRequestClosed(request=request, outcome=RequestOutcome.DECLINED_BY_POLICY, reason=reason)
        )

    def pending(self, account_id: AccountId | None = None) -> list[PendingRequest]:
        return [self._view(r) for r in self._table.pending(account_id)]

    def get(self, request_id: int) -> PendingRequest | None:
        stored = self._table.get(request_id)
        return None if stored is None else self._view(stored)

    def close(self, request: PendingRequest, outcome: RequestOutcome) -> None:
        if self._table.drop(request.id):
            self._bus.publish(ContactRequestClosed(request=request, outcome=outcome))

    def close_peer(self, ref: ContactRef, outcome: RequestOutcome) -> None:
        """Every pending request of this person on the account is answered (they were blocked, added)."""
        for request in self.pending(ref.account_id):
            if request.peer == ref.handle:
                self.close(request, outcome)

    def _view(self, r: StoredRequest) -> PendingRequest:
        kind = RequestKind(r.kind)
        peer = r.inviter if kind is RequestKind.ROOM_INVITE and r.inviter else r.handle
        return PendingRequest(
            id=r.id,
            account_id=r.account_id,
            kind=kind,
            handle=r.handle,
            received_at=r.received_at,
            inviter=r.inviter,
            display_name=r.display_name,
            message=r.message,
            account_label=self._label_of(r.account_id),
            person_name=self._name_of(ContactRef(r.account_id, peer)),
        )

    # -- blocked peers --------------------------------------------------------------------------

    def _blocked_set(self) -> set[tuple[str, str]]:
        if self._blocked is None:
            self._blocked = self._table.blocked()
        return self._blocked

    def is_blocked(self, account_id: AccountId, handle: str) -> bool:
        return (account_id, handle) in self._blocked_set()

    def blocked(self, account_id: AccountId | None = None) -> list[ContactRef]:
        return sorted(
            (ContactRef(a, h) for a, h in self._blocked_set() if account_id in (None, a)),
            key=lambda ref: (ref.account_id, ref.handle),
        )

    def set_blocked(self, ref: ContactRef, blocked: bool) -> None:
        peers = self._blocked_set()
        key = (ref.account_id, ref.handle)
        if blocked:
            self._table.block(ref.account_id, ref.handle, datetime.now(UTC))
            peers.add(key)
            self.close_peer(ref, RequestOutcome.BLOCKED)
        else:
            self._table.unblock(ref.account_id, ref.handle)
            peers.discard(key)
        log.info("%s %s on %s", "Blocked" if blocked else "Unblocked", ref.handle, ref.account_id)
        self._bus.publish(ContactBlockChanged(contact=ref, blocked=blocked, name=self._name_of(ref)))


def roster_names(roster: Roster) -> NameOf:
    """``NameOf`` from the buddy list: the person's display name, None where it is only the address."""

    def name_of(ref: ContactRef) -> str | None:
        person = roster.directory.person_of(ref)
        if person is None:
            return None
        name = display_name(person)
        return None if name == ref.handle else name

    return name_of
