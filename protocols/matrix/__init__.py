"""Matrix on matrix-nio (with vodozemac end-to-end encryption). Registered as the ``matrix`` entry point
of ``aggregator.protocols``."""

from __future__ import annotations

from aggregator.api import (
    AccountField,
    AccountSettings,
    Adapter,
    Capability,
    EventSink,
    FieldKind,
    PresenceKind,
    ProtocolInfo,
    standard_fields,
)
from protocols.matrix.addresses import normalize_address, normalize_handle


def _create(settings: AccountSettings, sink: EventSink) -> Adapter:
    from protocols.matrix.adapter import MatrixAdapter

    return MatrixAdapter(settings, sink)


PROTOCOL = ProtocolInfo(
    id="matrix",
    name="Matrix",
    address_label="Matrix ID",
    address_example="@alice:matrix.org",
    fields=(
        *standard_fields(
            "Matrix ID",
            "@user:server, e.g. @alice:matrix.org",
            server_label="Homeserver",
            server_help="The homeserver URL (https://matrix.example.org), if it is not the Matrix ID's domain",
            plaintext_help="Needed for an http:// homeserver URL: the password and messages then travel unencrypted",
        ),
        AccountField(
            "device_name", "Device name", default="Aggregator", help="How this login is listed among your devices"
        ),
        AccountField(
            "encrypt_new_chats",
            "Encrypt new direct chats",
            FieldKind.BOOL,
            default="true",
            help="Turn on end-to-end encryption in direct chats this client starts",
        ),
        AccountField("display_name", "Your name", help='Shown on your own messages in this app; "me" if empty'),
    ),
    capabilities=(
        Capability.DIRECT_MESSAGES
        | Capability.GROUP_CHAT
        | Capability.TYPING
        | Capability.READ_MARKERS
        | Capability.ROSTER_EDIT
        | Capability.SUBSCRIPTION_REQUESTS
        | Capability.CORRECTIONS
        | Capability.HISTORY_FETCH
    ),
    # Matrix has online / unavailable / offline: AWAY, XA and BUSY all go out as "unavailable" with the
    # status text; INVISIBLE is "offline" while staying connected.
    presence_kinds=(
        PresenceKind.AVAILABLE,
        PresenceKind.AWAY,
        PresenceKind.EXTENDED_AWAY,
        PresenceKind.BUSY,
        PresenceKind.INVISIBLE,
        PresenceKind.OFFLINE,
    ),
    normalize_address=normalize_address,
    normalize_handle=normalize_handle,
    create=_create,
    max_body_length=None,  # limited only by the 64 KiB event size
)

__all__ = ["PROTOCOL"]
