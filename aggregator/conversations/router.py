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
    MessageReceived,
    MessageStateChanged,
    PositionReached,
    PresenceChanged,
    SubscriptionRequested,
    SupportsRosterEdit,
    TypingChanged,
)
from aggregator.archive import Archive, StatusKind
from aggregator.bus import EventBus
from aggregator.conversations.inbound import InboundPipeline
from aggregator.conversations.outbound import OutboundService
from aggregator.events import AccountWarning, ContactPresenceChanged, SubscriptionRequest, TypingNotice
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
    ) -> None:
        self._policy = policy
        self._adapter_of = adapter_of
        self._archive = archive
        self._bus = bus
        self._inbound = inbound
        self._outbound = outbound

    async def dispatch(self, event: AdapterEvent) -> None:
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
                policy = self._policy
                if policy is not None and not policy.check_subscription(event.account_id, event.handle).allowed:
                    await self._decline(event.account_id, event.handle)
                    return
                self._bus.publish(
                    SubscriptionRequest(contact=ContactRef(event.account_id, event.handle), message=event.message)
                )
            case _:
                pass
        # Every adapter event is also published raw, for services that want the facts (roster, rooms).
        self._bus.publish(event)

    async def _decline(self, account_id: AccountId, handle: str) -> None:
        """The policy declines a contact request (from outside the allowed domains)."""
        if self._adapter_of is None:
            return
        try:
            adapter = self._adapter_of(account_id)
            if isinstance(adapter, SupportsRosterEdit):
                await adapter.answer_subscription(handle, False)
        except AggregatorError as exc:
            log.info("Could not decline the contact request of %s on %s: %s", handle, account_id, exc)
