"""The fake protocol: a scripted IM server (``server.FakeServer``) and its adapter, for tests.

Registered as the ``fake`` entry point of ``aggregator.protocols``; hidden from users (``testing``).
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
from protocols.fake.adapter import FakeAdapter
from protocols.fake.addresses import normalize_address
from protocols.fake.wire import MAX_BODY_LENGTH


def _create(settings: AccountSettings, sink: EventSink) -> Adapter:
    return FakeAdapter(settings, sink)


PROTOCOL = ProtocolInfo(
    id="fake",
    name="Fake (testing)",
    address_label="Address",
    address_example="alice@fake.test",
    fields=(
        AccountField("address", "Address", required=True, help="user@host"),
        AccountField("password", "Password", FieldKind.PASSWORD, required=True, secret=True),
        AccountField("server", "Server", required=True, help="HOST:PORT of the fake server"),
        AccountField(
            "allow_plaintext",
            "Allow unencrypted connection",
            FieldKind.BOOL,
            default="false",
            help="The fake server offers no encryption: it only works with this on.",
        ),
        AccountField("display_name", "Your name", help='Shown on your own messages in this app; "me" if empty'),
    ),
    capabilities=Capability.DIRECT_MESSAGES | Capability.TYPING | Capability.GROUP_CHAT,
    presence_kinds=tuple(PresenceKind),
    normalize_address=normalize_address,
    normalize_handle=normalize_address,
    create=_create,
    max_body_length=MAX_BODY_LENGTH,
    testing=True,
)

__all__ = ["PROTOCOL", "FakeAdapter"]
