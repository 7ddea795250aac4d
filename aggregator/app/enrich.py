"""Events that carry what their readers need.

The inner services publish bare events (a stored row, one contact's presence). Before a front end gets
one, ``Enricher`` adds what it shows, on the engine thread and after the core's own handlers ran (the
directory has given a new sender its person, the presence board has aggregated): the person of a
direct message, the sender's display name, the conversation's title, whether a room message mentions
us, whether notifications are held; the person and aggregated presence of a contact's presence change.
So no view asks the engine back to render one event.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, Protocol

from aggregator.accounts.own_name import own_display_name
from aggregator.api import ContactRef, ConversationKind
from aggregator.archive.records import Direction
from aggregator.bus import PRIORITY_UI, Subscription
from aggregator.core import Core
from aggregator.events import ContactPresenceChanged, MessageStored
from aggregator.rooms.mentions import is_mention
from aggregator.roster.naming import display_name

log = logging.getLogger(__name__)


class EventSource(Protocol):
    def subscribe(
        self, event_type: type[Any], handler: Callable[[Any], None], *, priority: int = ...
    ) -> Subscription: ...


class Enricher:
    """Engine thread only. ``subscribe`` is ``EventBus.subscribe`` with the events enriched."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def subscribe(
        self, event_type: type[Any], handler: Callable[[Any], None], *, priority: int = PRIORITY_UI
    ) -> Subscription:
        return self._core.bus.subscribe(event_type, lambda e: handler(self.enrich(e)), priority=priority)

    def enrich(self, event: object) -> object:
        try:
            if isinstance(event, MessageStored):
                return self.message(event)
            if isinstance(event, ContactPresenceChanged):
                return self.presence(event)
        except Exception:  # a view still gets the bare event
            log.exception("Could not describe %s", type(event).__name__)
        return event

    def _account_address(self, account_id: str) -> tuple[str, str | None]:
        try:
            config = self._core.accounts.config(account_id)
        except KeyError:
            return "", None
        return config.address, own_display_name(config)

    def message(self, event: MessageStored) -> MessageStored:
        core, m = self._core, event.message
        held = core.status.notifications_held(m.account_id)
        address, own = self._account_address(m.account_id)
        if m.conversation.kind is ConversationKind.ROOM:
            room = core.rooms.room(m.conversation)
            title = room.name if room is not None and room.name else m.conversation.handle
            if m.direction is Direction.OUT:
                sender = (room.nick if room is not None else None) or own or m.sender_name or m.sender
            else:
                sender = m.sender_name or m.sender
            return dataclasses.replace(
                event,
                sender_display=sender,
                conversation_title=title,
                mentions_us=is_mention(m, room, address),
                notifications_held=held,
            )
        person = core.roster.directory.person_of(ContactRef(m.account_id, m.conversation.handle))
        title = display_name(person) if person is not None else (m.sender_name or m.conversation.handle)
        if m.direction is Direction.OUT:
            sender = own or m.sender_name or m.sender
        else:
            sender = title if person is not None else (m.sender_name or m.sender)
        return dataclasses.replace(
            event,
            person_id=None if person is None else person.id,
            sender_display=sender,
            conversation_title=title,
            notifications_held=held,
        )

    def presence(self, event: ContactPresenceChanged) -> ContactPresenceChanged:
        person = self._core.roster.directory.person_of(event.contact)
        if person is None:
            return event
        aggregated, _best = self._core.roster.presence.view(person)
        return dataclasses.replace(event, person_id=person.id, person_presence=aggregated)
