"""XMPP (Jabber) on slixmpp. Registered as the ``xmpp`` entry point of ``aggregator.protocols``."""

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
from protocols.xmpp.addresses import normalize_address, normalize_handle


def _create(settings: AccountSettings, sink: EventSink) -> Adapter:
    from protocols.xmpp.adapter import XmppAdapter

    return XmppAdapter(settings, sink)


PROTOCOL = ProtocolInfo(
    id="xmpp",
    name="XMPP (Jabber)",
    address_label="Jabber ID",
    address_example="alice@example.org",
    fields=(
        *standard_fields(
            "Jabber ID",
            "user@example.org",
            server_help="HOST or HOST:PORT to connect to instead of looking up the domain's DNS records",
            plaintext_help="Only for servers without TLS: the password is then protected by SCRAM alone",
        ),
        AccountField("resource", "Resource", help="The name of this device; a random one if empty"),
        AccountField(
            "direct_tls",
            "Direct TLS",
            FieldKind.BOOL,
            default="false",
            help="Start TLS right away (XEP-0368, usually port 5223) instead of STARTTLS",
        ),
        AccountField(
            "autojoin",
            "Group chats to join",
            FieldKind.LIST,
            help="Rooms joined on every connect: room@conference.example.org[/nick], comma-separated",
        ),
        AccountField("display_name", "Your name", help='Shown on your own messages in this app; "me" if empty'),
    ),
    capabilities=(
        Capability.DIRECT_MESSAGES
        | Capability.TYPING
        | Capability.DELIVERY_RECEIPTS
        | Capability.ROSTER_EDIT
        | Capability.SUBSCRIPTION_REQUESTS
        | Capability.GROUP_CHAT
        | Capability.HISTORY_FETCH
        | Capability.CORRECTIONS
    ),
    # No INVISIBLE: servers rarely implement XEP-0186 (see adapter.py).
    presence_kinds=(
        PresenceKind.AVAILABLE,
        PresenceKind.AWAY,
        PresenceKind.EXTENDED_AWAY,
        PresenceKind.BUSY,
        PresenceKind.OFFLINE,
    ),
    normalize_address=normalize_address,
    normalize_handle=normalize_handle,
    create=_create,
)

__all__ = ["PROTOCOL"]
