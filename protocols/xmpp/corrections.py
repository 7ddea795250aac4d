"""Message corrections (XEP-0308): the replaced message's local id mapped to the server id the core stored.

A correction names the message it replaces by that message's ``id`` attribute (or origin-id), while
the core keys messages by server id (the stanza-id). The ids seen in this process are remembered
(``ID_MAP_SIZE`` most recent, per conversation and sender); an unknown id passes through unchanged, so
the core finds no target and keeps the correction as a message of its own (nothing is lost).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Iterable

from aggregator.api import ConversationKind, MessageReceived

#: This many recent ids are mapped to the server ids the core stored (per process: older corrections
#: are stored as new messages).
ID_MAP_SIZE = 5000


class Corrections:
    """The local-id -> server-id map of recent messages."""

    def __init__(self) -> None:
        self._ids: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    def resolve(self, event: MessageReceived, local_ids: Iterable[str | None]) -> MessageReceived:
        """``event`` with a correction's target mapped to the stored server id; remembers the server id
        of ``event`` under each of its ``local_ids`` (its ``id`` and origin-id)."""
        handle = event.conversation.handle
        sender = event.sender_name if event.conversation.kind is ConversationKind.ROOM else event.sender
        who = sender or event.sender
        if event.replaces_server_id is not None:
            mapped = self._ids.get((handle, who, event.replaces_server_id))
            if mapped is not None and mapped != event.replaces_server_id:
                event = dataclasses.replace(event, replaces_server_id=mapped)
        if event.server_id is not None:
            for local_id in set(local_ids):
                if local_id:
                    self._ids[(handle, who, local_id)] = event.server_id
                    self._ids.move_to_end((handle, who, local_id))
            while len(self._ids) > ID_MAP_SIZE:
                self._ids.popitem(last=False)
        return event
