"""IRC: an own sans-I/O IRCv3 client (``client``) under a thin asyncio transport, and its adapter.

Registered as the ``irc`` entry point of ``aggregator.protocols``.
"""

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
)
from protocols.irc.adapter import IrcAdapter
from protocols.irc.addresses import normalize_address, normalize_handle


def _create(settings: AccountSettings, sink: EventSink) -> Adapter:
    return IrcAdapter(settings, sink)


PROTOCOL = ProtocolInfo(
    id="irc",
    name="IRC",
    address_label="Nick",
    address_example="alice",
    fields=(
        AccountField("address", "Nick", required=True, help="also the NickServ account name for SASL"),
        AccountField(
            "password", "Password", FieldKind.PASSWORD, secret=True, help="NickServ password (SASL); empty: none"
        ),
        AccountField("server", "Server", required=True, help="HOST:PORT, e.g. irc.libera.chat:6697"),
        AccountField("ca_file", "CA certificate", FieldKind.FILE, help="PEM file to trust instead of the system CAs"),
        AccountField(
            "client_cert",
            "Client certificate",
            FieldKind.FILE,
            help="PEM with the certificate (and its key, unless given below) for SASL EXTERNAL; "
            "register its fingerprint with NickServ (CERT ADD). The password is then only a fallback.",
        ),
        AccountField(
            "client_key", "Client key", FieldKind.FILE, help="PEM private key, if not in the certificate file"
        ),
        AccountField(
            "allow_plaintext",
            "Connect without encryption",
            FieldKind.BOOL,
            default="false",
            help="Plain TCP (e.g. port 6667). Off: TLS with certificate verification.",
        ),
        AccountField("autojoin", "Channels", FieldKind.LIST, help="joined on connect, e.g. #team, #random"),
        AccountField("encoding", "Fallback encoding", default="latin-1", help="for lines that are not UTF-8"),
        AccountField("realname", "Real name"),
    ),
    capabilities=Capability.DIRECT_MESSAGES | Capability.GROUP_CHAT,
    presence_kinds=(PresenceKind.AVAILABLE, PresenceKind.AWAY, PresenceKind.OFFLINE),
    normalize_address=normalize_address,
    normalize_handle=normalize_handle,
    create=_create,
    max_body_length=None,  # long bodies are split into several lines
    is_room_handle=lambda handle: handle[:1] in ("#", "&"),
)

__all__ = ["PROTOCOL", "IrcAdapter"]
