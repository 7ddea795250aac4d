"""Routes adapter events to the service that handles them; everything else goes on the bus as is."""

from __future__ import annotations

import logging

from aggregator.api import (
    AdapterEvent,
    AdapterWarning,
    ContactRef,
    MessageReceived,
    MessageStateChanged,
    PresenceChanged,
    SubscriptionRequested,
    TypingChanged,
)
from aggregator.archive import Archive, StatusKind
from aggregator.bus import EventBus
from aggregator.conversations.inbound import InboundPipeline
from aggregator.conversations.outbound import OutboundService
from aggregator.events import AccountWarning, ContactPresenceChanged, SubscriptionRequest, TypingNotice

log = logging.getLogger(__name__)


class EventRouter:
    def __init__(self, *, archive: Archive, bus: EventBus, inbound: InboundPipeline, outbound: OutboundService) -> None:
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
                self._bus.publish(
                    SubscriptionRequest(contact=ContactRef(event.account_id, event.handle), message=event.message)
                )
            case _:
                pass
        # Every adapter event is also published raw, for services that want the facts (roster, rooms).
        self._bus.publish(event)
