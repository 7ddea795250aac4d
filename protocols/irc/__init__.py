"""IRC: an own sans-I/O IRCv3 client (``client``) under a thin asyncio transport, and its adapter.

Registered as the ``irc`` entry point of ``aggregator.protocols``. Light: the adapter (with its TLS and
certificate code) is imported when the first IRC account is created.
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
    standard_fields,
)
from protocols.irc.addresses import normalize_address, normalize_handle


def _create(settings: AccountSettings, sink: EventSink) -> Adapter:
    from protocols.irc.adapter import IrcAdapter

    return IrcAdapter(settings, sink)


PROTOCOL = ProtocolInfo(
    id="irc",
    name="IRC",
    address_label="Nick",
    address_example="alice",
    fields=(
        *standard_fields(
            "Nick",
            "also the services account name for SASL, unless an account name is given below",
            password_required=False,
            credential_help="NickServ password (SASL); empty: none",
            server_required=True,
            server_help="HOST:PORT, e.g. irc.libera.chat:6697",
            ca_file_label="CA certificate",
            ca_file_help="PEM file to trust instead of the system CAs",
            after_ca_file=(
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
            ),
            plaintext_label="Connect without encryption",
            plaintext_help="Plain TCP (e.g. port 6667). Off: TLS with certificate verification.",
        ),
        AccountField(
            "sasl_account",
            "Account name",
            help="the services (NickServ) account to log in to with SASL, when it is not the nick",
        ),
        AccountField("autojoin", "Channels", FieldKind.LIST, help="joined on connect, e.g. #team, #random"),
        AccountField("encoding", "Fallback encoding", default="latin-1", help="for lines that are not UTF-8"),
        AccountField("realname", "Real name"),
    ),
    capabilities=Capability.DIRECT_MESSAGES | Capability.GROUP_CHAT | Capability.ROSTER_EDIT,
    presence_kinds=(PresenceKind.AVAILABLE, PresenceKind.AWAY, PresenceKind.OFFLINE),
    normalize_address=normalize_address,
    normalize_handle=normalize_handle,
    create=_create,
    max_body_length=None,  # long bodies are split into several lines
    is_room_handle=lambda handle: handle[:1] in ("#", "&"),
)

__all__ = ["PROTOCOL"]
