"""Events the core publishes on the bus for the UI, the CLI and other services."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aggregator.api import AccountId, CertificateDetails, ContactRef, ConversationKey, Presence
from aggregator.archive.attachments import StoredAttachment
from aggregator.archive.records import StoredMessage
from aggregator.contacts.records import PendingRequest, RequestOutcome


class ConnectionState(enum.StrEnum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"  # lost or failed to connect; will try again
    FAILED = "failed"  # will not try again until the user acts (wrong password, untrusted certificate)
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreEvent:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountStateChanged(CoreEvent):
    account_id: AccountId
    state: ConnectionState
    reason: str = ""
    retry_in: float | None = None
    #: With FAILED on an untrusted certificate: what the server presented (the user may trust it).
    certificate: CertificateDetails | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountsChanged(CoreEvent):
    """Accounts were added, edited (renamed, enabled, disabled, another sphere…) or removed in this run."""

    account_ids: tuple[AccountId, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageStored(CoreEvent):
    """A new message row exists; ``message.id`` is its row id.

    It carries what its readers show, so no view asks the engine back to render it: the person of a
    direct conversation, the sender's display name (the person's name, a room nick, our own name), the
    conversation's title (the person's name or the room's name), whether a room message mentions us,
    and whether notifications of its account's sphere are held (off duty) as it was stored."""

    message: StoredMessage
    person_id: int | None = None
    sender_display: str = ""
    conversation_title: str = ""
    mentions_us: bool = False
    notifications_held: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageUpdated(CoreEvent):
    """A stored message changed (state, server id, error)."""

    message: StoredMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactPresenceChanged(CoreEvent):
    """One contact's presence changed; ``person_id`` / ``person_presence``: its person and that person's
    aggregated presence after the change (None when the contact belongs to no person)."""

    contact: ContactRef
    presence: Presence
    person_id: int | None = None
    person_presence: Presence | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TypingNotice(CoreEvent):
    conversation: ConversationKey
    handle: str
    typing: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountWarning(CoreEvent):
    account_id: AccountId
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactRequestReceived(CoreEvent):
    """Someone asks to become a contact or invites us (to a direct chat or a room); kept until answered
    (``aggregator.app.contacts``). ``request`` carries the names the views show."""

    request: PendingRequest


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactRequestClosed(CoreEvent):
    """A request was answered (by the user, or at once by the policy: ``DECLINED_BY_POLICY`` with the
    policy's ``reason``; such a request was never pending and has ``id`` 0)."""

    request: PendingRequest
    outcome: RequestOutcome
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactBlockChanged(CoreEvent):
    """A peer was blocked or unblocked (``name``: their buddy-list name, if any)."""

    contact: ContactRef
    blocked: bool
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveStorageChanged(CoreEvent):
    """The archive stopped taking writes (``writable`` False; ``reason`` says why, e.g. the disk is full),
    or takes them again. Meanwhile accounts that receive anything are held (disconnected, their servers
    keep new messages) and sends are refused; everything resumes by itself once a write succeeds."""

    writable: bool
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentChanged(CoreEvent):
    """A file of a message was offered, fetched, scanned, blocked or failed (``attachment.state``)."""

    attachment: StoredAttachment
    conversation: ConversationKey


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentProgress(CoreEvent):
    """A file is moving: ``done`` bytes of ``total`` (None: unknown). Published at most a few times a second."""

    attachment_id: int
    message_id: int
    conversation: ConversationKey
    done: int
    total: int | None
