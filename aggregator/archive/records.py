"""Values the archive hands out. Frozen: readers never mutate the store through them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from aggregator.api import AccountId, ConversationKey, MessageKind, MessageState


class Direction(enum.IntEnum):
    IN = 1
    OUT = 2

    @property
    def label(self) -> str:
        return "in" if self is Direction.IN else "out"


class StatusKind(enum.IntEnum):
    """Codes of the status events recorded beside the messages."""

    CONNECTING = 1
    CONNECTED = 2
    DISCONNECTED = 3
    FAILED = 4
    PRESENCE = 5
    OWN_PRESENCE = 6


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    account_id: AccountId
    conversation_id: int
    conversation: ConversationKey
    direction: Direction
    kind: MessageKind
    sender: str
    body: str
    sent_at: datetime
    received_at: datetime
    state: MessageState
    server_id: str | None = None
    idempotency_key: str | None = None
    error: str = ""
    sender_name: str | None = None
    edit_of: int | None = None
    is_backfill: bool = False


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a message goes among the stored ones of its conversation (``Archive.placement``)."""

    #: The id the message must sort after.
    after: int
    #: A message of the conversation that must stay later is already stored after ``after``: the
    #: message takes the next free id, not the next millisecond.
    before_stored: bool


@dataclass(frozen=True, slots=True)
class StatusEvent:
    id: int
    account_id: AccountId
    kind: StatusKind
    at: datetime
    handle: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class NewMessage:
    """One message for ``Archive.import_messages`` (history imports); the archive assigns the id."""

    conversation_id: int
    account_id: AccountId
    direction: Direction
    sender: str
    body: str
    sent_at: datetime
    state: MessageState
    kind: MessageKind = MessageKind.CHAT
    server_id: str | None = None
    idempotency_key: str | None = None
    sender_name: str | None = None
    received_at: datetime | None = None
    is_backfill: bool = True


@dataclass(frozen=True, slots=True)
class ImportResult:
    inserted: int
    duplicates: int
