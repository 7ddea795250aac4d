"""Routes adapter events to the service that handles them; everything else goes on the bus as is."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aggregator.api import (
    AccountId,
    Adapter,
    AdapterEvent,
    AdapterWarning,
    AggregatorError,
    ContactRef,
    ConversationKind,
    InvitedToRoom,
    MessageReceived,
    MessageStateChanged,
    PositionReached,
    PresenceChanged,
    RequestKind,
    SubscriptionRequested,
    SupportsInvitations,
    SupportsRosterEdit,
    TypingChanged,
)
from aggregator.archive import Archive, StatusKind
from aggregator.bus import EventBus
from aggregator.contacts.book import ContactBook
from aggregator.conversations.inbound import InboundPipeline
from aggregator.conversations.outbound import OutboundService
from aggregator.events import AccountWarning, ContactPresenceChanged, TypingNotice
from aggregator.policy import PolicyEngine

log = logging.getLogger(__name__)


class EventRouter:
    def __init__(
        self,
        *,
        archive: Archive,
        bus: EventBus,
        inbound: InboundPipeline,
        outbound: OutboundService,
        policy: PolicyEngine | None = None,
        adapter_of: Callable[[AccountId], Adapter] | None = None,
        contacts: ContactBook | None = None,
    ) -> None:
        #: The pending contact requests and invitations, and the blocked peers.
        self.contacts = contacts or ContactBook(archive, bus)
        self._policy = policy
        self._adapter_of = adapter_of
        self._archive = archive
        self._bus = bus
        self._inbound = inbound
        self._outbound = outbound

    async def dispatch(self, event: AdapterEvent) -> None:
        if self._from_blocked(event):
            return
        match event:
            case MessageReceived():
                self._inbound.process(event)
            case MessageStateChanged():
                self._outbound.apply_state(event)
            case PositionReached():
                self._inbound.reached(event)
            case PresenceChanged():
                detail = event.presence.kind.value + (f": {event.presence.status}" if event.presence.status else "")
                self._archive.record_status(event.account_id, StatusKind.PRESENCE, detail, handle=event.handle)
                self._bus.publish(
                    ContactPresenceChanged(contact=ContactRef(event.account_id, event.handle), presence=event.presence)
                )
            case TypingChanged():
                self._bus.publish(
                    TypingNotice(conversation=event.conversation, handle=event.handle, typing=event.typing)
                )
            case AdapterWarning():
                log.warning("%s: %s", event.account_id, event.message)
                self._bus.publish(AccountWarning(account_id=event.account_id, message=event.message))
            case SubscriptionRequested():
                await self._requested(event)
            case InvitedToRoom():
                await self._invited(event)
            case _:
                pass
        # Every adapter event is also published raw, for services that want the facts (roster, rooms).
        self._bus.publish(event)

    def _from_blocked(self, event: AdapterEvent) -> bool:
        """Whether ``event`` comes from a peer the user blocked: dropped here, whatever the adapter or the
        server let through (the adapter's own block list is the first line, this the second)."""
        match event:
            case MessageReceived() if not event.is_own_echo:
                direct = event.conversation.kind is ConversationKind.DIRECT
                peer = event.conversation.handle if direct else event.sender
                blocked = self.contacts.is_blocked(event.account_id, peer)
            case PresenceChanged() | TypingChanged():
                blocked = self.contacts.is_blocked(event.account_id, event.handle)
            case InvitedToRoom():
                blocked = self.contacts.is_blocked(event.account_id, event.inviter)
            case _:
                return False
        if blocked:
            log.debug("Dropped a %s from a blocked peer on %s", type(event).__name__, event.account_id)
        return blocked

    async def _requested(self, event: SubscriptionRequested) -> None:
        if self.contacts.is_blocked(event.account_id, event.handle):
            await self._decline(event.account_id, event.handle)
            return
        policy = self._policy
        if policy is not None:
            decision = policy.check_subscription(event.account_id, event.handle)
            if not decision.allowed:
                await self._decline(event.account_id, event.handle)
                self.contacts.declined_by_policy(event.account_id, event.kind, event.handle, decision.reason)
                return
        self.contacts.received(
            event.account_id, event.kind, event.handle, display_name=event.display_name, message=event.message
        )

    async def _invited(self, event: InvitedToRoom) -> None:
        policy = self._policy
        if policy is not None:
            decision = policy.check_subscription(event.account_id, event.inviter)
            if not decision.allowed:
                await self._decline_invitation(event.account_id, event.room)
                self.contacts.declined_by_policy(
                    event.account_id,
                    RequestKind.ROOM_INVITE,
                    event.room,
                    decision.reason,
                    inviter=event.inviter,
                    display_name=event.room_name or event.room,
                )
                return
        self.contacts.received(
            event.account_id,
            RequestKind.ROOM_INVITE,
            event.room,
            inviter=event.inviter,
            display_name=event.room_name,
            message=event.reason,
        )

    async def _decline(self, account_id: AccountId, handle: str) -> None:
        """Decline a contact request at once (from outside the allowed domains, or a blocked peer)."""
        if self._adapter_of is None:
            return
        try:
            adapter = self._adapter_of(account_id)
            if isinstance(adapter, SupportsRosterEdit):
                await adapter.answer_subscription(handle, False)
        except AggregatorError as exc:
            log.info("Could not decline the contact request of %s on %s: %s", handle, account_id, exc)

    async def _decline_invitation(self, account_id: AccountId, room: str) -> None:
        if self._adapter_of is None:
            return
        try:
            adapter = self._adapter_of(account_id)
            if isinstance(adapter, SupportsInvitations):
                await adapter.answer_invitation(room, False)
        except AggregatorError as exc:
            log.info("Could not decline the invitation to %s on %s: %s", room, account_id, exc)
