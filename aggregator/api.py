"""The contract between the core and the protocol adapters.

This is the only module of the core that ``protocols/`` may import. It holds:

* value types (account ids, contact references, conversation keys, presence, outgoing messages);
* the declarative ``ProtocolInfo`` (account fields as data, presence kinds, capabilities);
* the adapter interface (``Adapter``) and optional capability protocols, queried by capability;
* the adapter events that adapters hand to the core through one sink, ``emit(event)``;
* the one error hierarchy.

Everything here is plain Python: no Qt, no protocol library, no database.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

# --------------------------------------------------------------------------------------------------
# Errors: one hierarchy. Messages never contain secrets.
# --------------------------------------------------------------------------------------------------


class AggregatorError(Exception):
    """Base of every error the core or an adapter raises on purpose."""


class AccountError(AggregatorError):
    """Something went wrong with an account's connection."""

    #: Whether the account manager should try again later.
    retryable: bool = True


class AuthenticationError(AccountError):
    """The server refused the credentials. Retrying cannot help."""

    retryable = False


@dataclass(frozen=True, slots=True)
class CertificateDetails:
    """The certificate a server presented, as the user needs to see it before deciding to trust it."""

    #: Where the certificate was presented ("host:port").
    host: str
    #: Why verification failed, in OpenSSL's words (e.g. "self-signed certificate").
    problem: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    #: SHA-256 of the DER leaf, upper-case hex pairs joined by ":".
    fingerprint_sha256: str
    #: The leaf certificate (PEM).
    pem: str
    #: The chain as presented, leaf first (PEM each); empty when the TLS library does not expose it.
    chain_pem: tuple[str, ...] = ()

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer


#: How a ``CertificateError``'s ``problem`` starts when the server presented another certificate than
#: the one pinned for the account (the review dialog then says "the certificate changed").
CERTIFICATE_CHANGED = "the certificate changed"


class CertificateError(AccountError):
    """The server's TLS certificate was not trusted. The message names the problem; ``certificate``
    holds what the server presented when the adapter could read it (None otherwise); ``problem`` is
    the verification problem alone (e.g. "self-signed certificate"), empty when unknown."""

    retryable = False

    def __init__(self, message: str, certificate: CertificateDetails | None = None, problem: str = "") -> None:
        super().__init__(message)
        self.certificate = certificate
        self.problem = problem or (certificate.problem if certificate is not None else "")


class PlaintextRefusedError(AccountError):
    """The server offers no encryption and the account does not allow plaintext."""

    retryable = False


class NetworkError(AccountError):
    """The server could not be reached or the connection dropped. Retrying may help."""


class ProtocolError(AccountError):
    """The server said something the adapter could not handle."""


class ConfigurationError(AggregatorError):
    """An account's settings are unusable (bad address, unreadable CA file, ...)."""


class PolicyError(AggregatorError):
    """The organisation's policy refused the action. ``rule`` names the rule."""

    def __init__(self, message: str, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


class NotConnectedError(NetworkError):
    """The account is not connected right now."""


class UnsupportedError(AggregatorError):
    """The protocol does not offer this capability."""


# --------------------------------------------------------------------------------------------------
# Value types
# --------------------------------------------------------------------------------------------------


class Sphere(enum.StrEnum):
    """Which part of the user's life an account belongs to."""

    WORK = "work"
    PERSONAL = "personal"


class PresenceKind(enum.StrEnum):
    """Presence kinds every protocol maps onto. Stored as their string value."""

    AVAILABLE = "available"
    AWAY = "away"
    EXTENDED_AWAY = "xa"
    BUSY = "busy"
    INVISIBLE = "invisible"
    OFFLINE = "offline"

    @property
    def is_online(self) -> bool:
        return self is not PresenceKind.OFFLINE

    @property
    def rank(self) -> int:
        """Lower is 'more reachable': available < away < xa < busy < invisible < offline."""
        return _PRESENCE_RANK[self]


_PRESENCE_RANK = {
    PresenceKind.AVAILABLE: 0,
    PresenceKind.AWAY: 1,
    PresenceKind.EXTENDED_AWAY: 2,
    PresenceKind.BUSY: 3,
    PresenceKind.INVISIBLE: 4,
    PresenceKind.OFFLINE: 5,
}


@dataclass(frozen=True, slots=True)
class Presence:
    kind: PresenceKind
    status: str = ""

    @classmethod
    def offline(cls) -> Presence:
        return cls(PresenceKind.OFFLINE)


AccountId = str
"""The stable id of an account in one profile, e.g. ``"xmpp:alice@example.org"``."""


@dataclass(frozen=True, slots=True)
class ContactRef:
    """One address on one account: the stable key of a contact."""

    account_id: AccountId
    handle: str


class ConversationKind(enum.IntEnum):
    DIRECT = 1
    ROOM = 2


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """A conversation on one account: a direct chat with ``handle`` or the room ``handle``."""

    account_id: AccountId
    kind: ConversationKind
    handle: str

    @classmethod
    def direct(cls, account_id: AccountId, handle: str) -> ConversationKey:
        return cls(account_id, ConversationKind.DIRECT, handle)

    @classmethod
    def room(cls, account_id: AccountId, handle: str) -> ConversationKey:
        return cls(account_id, ConversationKind.ROOM, handle)


class MessageKind(enum.IntEnum):
    CHAT = 1
    ACTION = 2  # /me
    NOTICE = 3
    SYSTEM = 4


class TimestampPrecision(enum.Enum):
    """How finely a server's timestamp orders messages (``MessageReceived.timestamp_precision``)."""

    #: Milliseconds or finer, or the local receive time: the timestamp alone orders messages.
    EXACT = "exact"
    #: Whole seconds (XEP-0203 stamps of Prosody's MAM, InspIRCd's history replay): messages of one
    #: second are in the server's order only as the server lists them.
    SECOND = "second"

    @classmethod
    def of_stamp(cls, stamp: datetime | None) -> TimestampPrecision:
        """For a protocol whose stamps may omit the fraction of a second: SECOND when ``stamp`` has none."""
        return cls.SECOND if stamp is not None and stamp.microsecond == 0 else cls.EXACT


class MessageState(enum.IntEnum):
    """Delivery state of a message. Stored as the integer."""

    PENDING = 1
    SENT = 2
    DELIVERED = 3
    READ = 4
    FAILED = 5
    RECEIVED = 6  # an inbound message


class TextStyle(enum.StrEnum):
    """Formatting a message can carry (stored code: keep the values)."""

    BOLD = "bold"
    ITALIC = "italic"
    STRIKE = "strike"
    CODE = "code"  # inline code
    PRE = "pre"  # a code block
    QUOTE = "quote"  # a quoted block
    LINK = "link"  # ``url`` says where


@dataclass(frozen=True, slots=True)
class StyleSpan:
    """``style`` over ``body[start:end]`` of the plain body (offsets in characters). The plain body is what
    is archived and searched; spans only say how to show it. Adapters read and write their protocol's own
    form (XEP-0393 styling, Matrix ``formatted_body`` HTML, IRC formatting codes)."""

    start: int
    end: int
    style: TextStyle
    url: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What the core asks an adapter to send.

    ``idempotency_key`` is stable across retries of the same message: adapters pass it to the
    server where the protocol has such a thing (Matrix txn id, XMPP origin-id, IRC label), so
    that a retried send is never delivered twice.
    """

    body: str
    idempotency_key: str
    kind: MessageKind = MessageKind.CHAT
    #: A file to send with the message (``body`` is its caption, possibly empty). Adapters that cannot
    #: send files raise ``UnsupportedError``.
    file: OutgoingFile | None = None
    #: Formatting over ``body`` (the adapter writes its protocol's form; without it the plain body goes).
    styles: tuple[StyleSpan, ...] = ()
    #: The server id of the message this one replies to (the adapter adds its protocol's reply form and
    #: fallback quote).
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """A local file, already checked by the policy: ``name`` is the name the peer sees."""

    path: Path
    name: str
    mime_type: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FileOffer:
    """A file a message carries, as the peer announced it. Everything here is untrusted.

    ``url`` is the adapter's reference to fetch it (``https://``, ``mxc://``, a DCC offer...), opaque to
    the core, which hands it back to ``SupportsFiles.download``. ``encrypted``: an end-to-end encrypted
    file this client cannot open (an OMEMO ``aesgcm://`` link), shown as such, never fetched."""

    url: str
    name: str
    size: int | None = None
    mime_type: str | None = None
    encrypted: bool = False
    thumbnail_url: str | None = None
    #: Fetched only when the user asks: a link anyone may post, a DCC offer from a stranger (connecting to
    #: an address a peer sent is never automatic).
    fetch_on_request: bool = False


@dataclass(frozen=True, slots=True)
class SendReceipt:
    """The server accepted a message."""

    remote_id: str | None
    timestamp: datetime | None = None
    #: Where a sent file can be fetched (the upload's URL, the Matrix mxc:// URI).
    file_url: str | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """Secrets for one account, read from the keyring. Never logged, never stored in a file."""

    password: str | None
    tokens: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never show secrets, even in a traceback
        return f"Credentials(password={'***' if self.password else None}, tokens=[{', '.join(self.tokens)}])"


# --------------------------------------------------------------------------------------------------
# What a protocol declares about itself (data, so one generic dialog and CLI serve every protocol)
# --------------------------------------------------------------------------------------------------


class FieldKind(enum.StrEnum):
    TEXT = "text"
    PASSWORD = "password"  # noqa: S105 (a field kind, not a password)
    BOOL = "bool"
    INT = "int"
    FILE = "file"
    LIST = "list"  # comma-separated in text form


@dataclass(frozen=True, slots=True)
class AccountField:
    """One setting of an account, described as data."""

    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    default: str = ""
    help: str = ""
    secret: bool = False  # goes to the keyring, never to a file


_CA_FILE_HELP = "PEM file of the CAs to trust (for a private CA); the system's CAs otherwise"


def standard_fields(
    address_label: str,
    address_help: str,
    *,
    plaintext_help: str,
    server_help: str,
    server_label: str = "Server",
    server_required: bool = False,
    password_required: bool = True,
    credential_help: str = "",
    ca_file: bool = True,
    ca_file_label: str = "CA certificates",
    ca_file_help: str = _CA_FILE_HELP,
    after_ca_file: tuple[AccountField, ...] = (),
    plaintext_label: str = "Allow unencrypted connection",
) -> tuple[AccountField, ...]:
    """The fields every protocol has, in the order the account dialog shows them: ``address``,
    ``password`` (secret; ``credential_help`` is its help text), ``server``, ``ca_file`` (unless
    ``ca_file`` is false; ``after_ca_file`` comes right after it) and ``allow_plaintext`` (off by
    default). A protocol appends its own fields."""
    fields = [
        AccountField("address", address_label, required=True, help=address_help),
        AccountField(
            "password", "Password", FieldKind.PASSWORD, required=password_required, help=credential_help, secret=True
        ),
        AccountField("server", server_label, required=server_required, help=server_help),
    ]
    if ca_file:
        fields.append(AccountField("ca_file", ca_file_label, FieldKind.FILE, help=ca_file_help))
    fields += after_ca_file
    fields.append(
        AccountField("allow_plaintext", plaintext_label, FieldKind.BOOL, default="false", help=plaintext_help)
    )
    return tuple(fields)


class Capability(enum.Flag):
    NONE = 0
    DIRECT_MESSAGES = enum.auto()
    GROUP_CHAT = enum.auto()
    ROSTER_EDIT = enum.auto()
    TYPING = enum.auto()
    DELIVERY_RECEIPTS = enum.auto()
    READ_MARKERS = enum.auto()
    HISTORY_FETCH = enum.auto()
    SUBSCRIPTION_REQUESTS = enum.auto()
    CORRECTIONS = enum.auto()
    FILE_TRANSFER = enum.auto()


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """The non-secret settings an adapter is created with."""

    account_id: AccountId
    address: str
    server: str | None = None
    ca_file: Path | None = None
    allow_plaintext: bool = False
    options: Mapping[str, str] = field(default_factory=dict)
    #: A directory the adapter may keep protocol state in (e.g. a crypto store). Created by the core.
    data_dir: Path | None = None
    #: The SHA-256 fingerprint (``AB:CD:...``) of the one server certificate the user trusts for this
    #: account: the adapter accepts exactly that leaf even if self-signed, misnamed or expired, and
    #: refuses any other before sending credentials. None: the usual verification (``ca_file`` or the
    #: system's CAs).
    pinned_certificate: str | None = None


class EventSink(Protocol):
    """Where an adapter reports facts. Never blocks and never raises."""

    def __call__(self, event: AdapterEvent, /) -> None: ...


AdapterFactory = Callable[[AccountSettings, EventSink], "Adapter"]


@dataclass(frozen=True, slots=True)
class ProtocolInfo:
    """Everything the core and the UI need to know about a protocol, without importing it."""

    id: str
    name: str
    address_label: str
    address_example: str
    fields: tuple[AccountField, ...]
    capabilities: Capability
    presence_kinds: tuple[PresenceKind, ...]
    #: Account fields named ``address``, ``server``, ``ca_file`` and ``allow_plaintext`` fill the
    #: matching ``AccountSettings`` attributes; every other non-secret field goes to ``options``.
    #: Returns the canonical form of an address, or raises ``ConfigurationError`` naming the problem.
    normalize_address: Callable[[str], str]
    #: Normalises a contact or room handle so that ``ContactRef`` is a stable key.
    normalize_handle: Callable[[str], str]
    #: Builds the adapter for one account. May raise ``ConfigurationError`` for unusable settings
    #: (the core reports that account as failed and goes on with the others).
    create: AdapterFactory
    #: The longest body one message may carry, in characters (None: no limit worth telling).
    max_body_length: int | None = None
    #: For development and tests only (the fake protocol); hidden from users' account dialogs.
    testing: bool = False
    #: Whether a (normalised) handle names a group chat rather than a person, e.g. ``#team`` on IRC.
    #: Where a protocol cannot tell from the address alone, it answers False.
    is_room_handle: Callable[[str], bool] = lambda _handle: False


# --------------------------------------------------------------------------------------------------
# The adapter interface
# --------------------------------------------------------------------------------------------------


@runtime_checkable
class Adapter(Protocol):
    """One instance per account. Required methods only; capabilities are separate protocols.

    * ``connect`` returns once the account is usable, or raises an ``AccountError``.
    * After a successful connect, a lost connection is reported with ``ConnectionLost`` (at most once
      per successful connect); the core then calls ``disconnect`` and decides when to connect again.
    * ``disconnect`` is idempotent and never raises.
    * ``send_message`` returns once the server has accepted the message.
    """

    async def connect(self, credentials: Credentials) -> None: ...

    async def disconnect(self) -> None: ...

    async def set_presence(self, presence: Presence) -> None: ...

    async def send_message(self, conversation: ConversationKey, message: OutgoingMessage) -> SendReceipt: ...


@runtime_checkable
class SupportsGroupChat(Protocol):
    async def join_room(self, room: str, nick: str | None = None) -> ConversationKey: ...

    async def leave_room(self, room: ConversationKey) -> None: ...

    async def set_topic(self, room: ConversationKey, topic: str) -> None: ...


@runtime_checkable
class SupportsRosterEdit(Protocol):
    async def add_contact(self, handle: str, name: str | None = None, groups: tuple[str, ...] = ()) -> None: ...

    async def remove_contact(self, handle: str) -> None: ...

    async def answer_subscription(self, handle: str, accept: bool) -> None: ...


@runtime_checkable
class SupportsFiles(Protocol):
    """Fetch the files peers send (``send_message`` sends ours: ``OutgoingMessage.file``)."""

    def download(self, offer: FileOffer) -> AsyncIterator[bytes]:
        """The file's bytes in chunks. Raises ``NetworkError`` (with a sentence) when it cannot be fetched;
        refuses redirects to anything but HTTPS."""
        ...

    def max_upload_bytes(self) -> int | None:
        """The largest file the server accepts (None: unknown or no limit)."""
        ...


@runtime_checkable
class SupportsBlocking(Protocol):
    """Block and unblock a peer: XEP-0191 on XMPP, the ``m.ignored_user_list`` on Matrix, a client-side
    ignore list on IRC. A blocked peer's messages, presence and requests no longer reach the core."""

    async def block(self, handle: str) -> None: ...

    async def unblock(self, handle: str) -> None: ...

    async def blocked(self) -> tuple[str, ...]: ...


@runtime_checkable
class SupportsInvitations(Protocol):
    """Answer an invitation to a room (Matrix invite to a room, XMPP XEP-0249 direct MUC invitation)."""

    async def answer_invitation(self, room: str, accept: bool) -> ConversationKey | None: ...


@runtime_checkable
class SupportsTyping(Protocol):
    async def set_typing(self, conversation: ConversationKey, typing: bool) -> None: ...


@runtime_checkable
class SupportsResume(Protocol):
    """An adapter that catches up from positions the core keeps with the messages they cover.

    Before every ``connect`` the core calls ``resume_from`` with the positions it has stored for the
    account (stream -> value, as the adapter gave them in ``ResumePosition``; empty the first time).
    The adapter starts its catch-up there, and keeps no position of its own on disk: a position the
    core holds was committed together with (or after) every message before it, so a crash between an
    emit and the archive's commit costs a re-fetch, never a message.
    """

    def resume_from(self, positions: Mapping[str, str]) -> None: ...


@runtime_checkable
class SupportsHistoryFetch(Protocol):
    async def fetch_history(self, conversation: ConversationKey, after: datetime | None, limit: int) -> int: ...


# --------------------------------------------------------------------------------------------------
# Adapter events: facts an adapter reports through ``emit``. Frozen, typed, no library objects.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AdapterEvent:
    account_id: AccountId


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionLost(AdapterEvent):
    """The connection dropped after a successful connect."""

    reason: str
    retryable: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class RosterItem:
    handle: str
    name: str | None = None
    groups: tuple[str, ...] = ()
    subscription: str = "both"


@dataclass(frozen=True, slots=True, kw_only=True)
class RosterSnapshot(AdapterEvent):
    items: tuple[RosterItem, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RosterItemChanged(AdapterEvent):
    item: RosterItem


@dataclass(frozen=True, slots=True, kw_only=True)
class RosterItemRemoved(AdapterEvent):
    handle: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceChanged(AdapterEvent):
    handle: str
    presence: Presence


@dataclass(frozen=True, slots=True)
class ResumePosition:
    """Where an adapter's catch-up of one stream resumes: opaque to the core, which stores it per
    (account, ``stream``) and hands it back through ``SupportsResume.resume_from``.

    ``stream`` names what is caught up (an XMPP message archive, the Matrix sync, an IRC target);
    ``value`` is the adapter's own encoding of the position (an archive id, a sync token, ...).
    """

    stream: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReceived(AdapterEvent):
    """A message seen on the server: from a peer, our own echo, or backfilled history.

    ``server_id`` is the server's own id (stanza-id, event id, msgid) and the deduplication key.
    ``idempotency_key`` is set when the message carries our own key back (origin-id, txn id, label),
    so the core can match an echo to the pending row it sent.

    For our own echo (``is_own_echo``: sent by us, from this or another session/device),
    ``conversation`` is the peer's conversation and ``sender`` is our own address.
    """

    conversation: ConversationKey
    sender: str
    body: str
    server_id: str | None = None
    timestamp: datetime | None = None
    kind: MessageKind = MessageKind.CHAT
    is_backfill: bool = False
    is_own_echo: bool = False
    idempotency_key: str | None = None
    sender_name: str | None = None
    #: A correction / edit of an earlier message. When equal to ``server_id``, the event completes a
    #: message stored before as a placeholder (e.g. undecryptable until its keys arrived): the stored
    #: body is replaced, no new row is made.
    replaces_server_id: str | None = None
    #: The catch-up position this message completes: the core stores it in the same transaction as
    #: the message (or on its own when the message is a duplicate or held by policy). Only set when
    #: every earlier message of that stream has been emitted before.
    position: ResumePosition | None = None
    #: ``SECOND``: ``timestamp`` is the server's stamp in whole seconds. A backfilled message (later in
    #: the server's order than what the account stored before this connection) is then placed after
    #: the conversation's messages the server had before it, though stored later than its stamp
    #: (see ``aggregator/conversations/inbound.py``); its ``timestamp`` is stored unchanged.
    timestamp_precision: TimestampPrecision = TimestampPrecision.EXACT
    #: The files this message carries (an XMPP OOB/SIMS link, a Matrix m.file/m.image...).
    files: tuple[FileOffer, ...] = ()
    #: The server id of the message this one replies to; ``body`` is without the protocol's quoted
    #: fallback (XEP-0461 fallback, Matrix reply fallback).
    reply_to: str | None = None
    #: Formatting over ``body`` read from the protocol's own form (never raw HTML).
    styles: tuple[StyleSpan, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionReached(AdapterEvent):
    """A catch-up position reached without a message to carry it (a page that ended on a result that
    is no message, a sync without messages): every event emitted before it covers the stream up to
    ``position``. The core stores it once it has handled those events."""

    position: ResumePosition


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageStateChanged(AdapterEvent):
    conversation: ConversationKey
    state: MessageState
    remote_id: str | None = None
    idempotency_key: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TypingChanged(AdapterEvent):
    conversation: ConversationKey
    handle: str
    typing: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomJoined(AdapterEvent):
    conversation: ConversationKey
    nick: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomLeft(AdapterEvent):
    conversation: ConversationKey
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomMembers(AdapterEvent):
    conversation: ConversationKey
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomTopic(AdapterEvent):
    conversation: ConversationKey
    topic: str
    set_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionRequested(AdapterEvent):
    """Someone asks to become a contact: an XMPP subscription request, a Matrix invitation to a direct
    chat (``kind=DIRECT_INVITE``). Answered with ``SupportsRosterEdit.answer_subscription``."""

    handle: str
    message: str = ""
    kind: RequestKind = field(default_factory=lambda: RequestKind.CONTACT)
    display_name: str | None = None


class RequestKind(enum.StrEnum):
    """What a contact request or invitation asks for (stored code: keep the values)."""

    CONTACT = "contact"  # XMPP presence subscription
    DIRECT_INVITE = "direct-invite"  # Matrix invitation to a direct chat
    ROOM_INVITE = "room-invite"  # invitation to a group room


@dataclass(frozen=True, slots=True, kw_only=True)
class InvitedToRoom(AdapterEvent):
    """An invitation to a group room. Answered with ``SupportsInvitations.answer_invitation``."""

    room: str
    inviter: str
    room_name: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialsUpdated(AdapterEvent):
    """The adapter obtained tokens (e.g. a Matrix access token) the core must keep in the keyring."""

    tokens: Mapping[str, str]

    def __repr__(self) -> str:
        return f"CredentialsUpdated(account_id={self.account_id!r}, tokens=[{', '.join(self.tokens)}])"


class TrustLevel(enum.StrEnum):
    """How far the user can trust a contact's end-to-end encryption devices."""

    NONE = "none"  # the contact has no encryption devices (or the protocol has no E2E)
    UNVERIFIED = "unverified"  # devices exist, none verified by the user
    PARTLY_VERIFIED = "partly_verified"  # some verified, some not
    VERIFIED = "verified"  # every device verified
    BLOCKED = "blocked"  # at least one device blacklisted by the user


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceTrustChanged(AdapterEvent):
    """The encryption devices of a contact, and how far they are verified, changed."""

    handle: str
    trust: TrustLevel
    devices: int = 0
    verified: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AdapterWarning(AdapterEvent):
    """Something odd arrived (malformed input); the adapter kept running."""

    message: str


# --------------------------------------------------------------------------------------------------
# Conversations beyond text (issue 17): reactions, retractions, read markers.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionsChanged(AdapterEvent):
    """``sender`` reacted to the message with server id ``target``.

    ``replace=True`` (XEP-0444, IRC): ``emojis`` is the sender's whole set now (empty: all removed).
    ``replace=False`` (Matrix ``m.reaction``): ``emojis`` are added, one event each, ``server_id`` the
    reaction's own id (a later ``MessageRetracted`` naming it removes it)."""

    conversation: ConversationKey
    target: str
    sender: str
    emojis: tuple[str, ...]
    replace: bool
    server_id: str | None = None
    is_own_echo: bool = False
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRetracted(AdapterEvent):
    """``sender`` retracted (XEP-0424) or redacted (Matrix) the message or reaction with server id ``target``."""

    conversation: ConversationKey
    target: str
    sender: str
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadUpTo(AdapterEvent):
    """Everything up to the message with server id ``server_id`` was read: by us on another device or
    session (``by_us``: clear the unread count here), or by the peer (our messages up to it are read)."""

    conversation: ConversationKey
    server_id: str
    by_us: bool
    reader: str | None = None


@runtime_checkable
class SupportsReactions(Protocol):
    async def react(self, conversation: ConversationKey, target: str, emojis: tuple[str, ...]) -> None:
        """Make our reactions to ``target`` exactly ``emojis`` (the adapter adds and removes as its protocol
        needs)."""
        ...


@runtime_checkable
class SupportsCorrections(Protocol):
    async def correct(self, conversation: ConversationKey, target: str, message: OutgoingMessage) -> SendReceipt:
        """Replace our message ``target`` with ``message`` (XEP-0308, Matrix ``m.replace``)."""
        ...


@runtime_checkable
class SupportsRetraction(Protocol):
    async def retract(self, conversation: ConversationKey, target: str) -> None:
        """Retract our message ``target`` (XEP-0424, a Matrix redaction)."""
        ...


@runtime_checkable
class SupportsReadMarkers(Protocol):
    async def mark_read(self, conversation: ConversationKey, server_id: str) -> None:
        """Tell the server (and so our other devices and the peer) that we read up to ``server_id``
        (XEP-0333 displayed with XEP-0490, Matrix read receipt and ``m.fully_read``)."""
        ...
