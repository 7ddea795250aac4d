"""JID normalisation and the server setting (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.api import AccountSettings, ConfigurationError
from protocols.xmpp import PROTOCOL
from protocols.xmpp.adapter import XmppAdapter
from protocols.xmpp.addresses import normalize_address, normalize_handle, parse_server


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Alice@Example.ORG", "alice@example.org"),
        ("  alice@example.org.  ", "alice@example.org"),
        ("ÄLICE@Bücher.example", "älice@bücher.example"),
        ("".join(chr(ord(c) + 0xFEE0) for c in "fullwidth") + "@example.org", "fullwidth@example.org"),
    ],
)
def test_addresses_are_normalised(text: str, normal: str) -> None:
    assert normalize_address(text) == normal
    assert normalize_address(normal) == normal


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("example.org", "expected user@example.org"),
        ("alice@example.org/phone", "resource"),
        ("al ice@example.org", "may not contain"),
        ("al'ice@example.org", "may not contain"),
        ("alice@exa mple.org", "letters, digits"),
        ("alice@example..org", "empty part"),
        ("alice@", "no server domain"),
        ("@example.org", "empty user name"),
        ("a@b@example.org", "may not contain"),
        ("x" * 1100 + "@example.org", "longer than 1023 bytes"),
    ],
)
def test_bad_addresses_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        normalize_address(text)
    assert problem in str(raised.value)


def test_handles_may_be_domains_or_full_jids() -> None:
    assert normalize_handle("Conference.Example.org") == "conference.example.org"
    assert normalize_handle("Room@Conference.example.org/Nick Name") == "room@conference.example.org/Nick Name"
    with pytest.raises(ConfigurationError):
        normalize_handle("room@conference.example.org/")


@pytest.mark.parametrize(
    ("server", "direct_tls", "parsed"),
    [
        (None, False, None),
        ("  ", False, None),
        ("xmpp.example.org", False, ("xmpp.example.org", 5222)),
        ("xmpp.example.org", True, ("xmpp.example.org", 5223)),
        ("127.0.0.1:15222", False, ("127.0.0.1", 15222)),
        ("[::1]:5222", False, ("::1", 5222)),
    ],
)
def test_server_setting(server: str | None, direct_tls: bool, parsed: tuple[str, int] | None) -> None:
    assert parse_server(server, direct_tls=direct_tls) == parsed


@pytest.mark.parametrize("server", ["host:0", "host:99999", "host:abc", "::1:5222", "[::1", ":5222"])
def test_bad_server_settings(server: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_server(server, direct_tls=False)


def test_create_checks_settings(tmp_path: Path) -> None:
    sink = list[object]().append
    with pytest.raises(ConfigurationError, match="CA file"):
        PROTOCOL.create(AccountSettings("a", "a@example.org", ca_file=tmp_path / "missing.pem"), sink)
    with pytest.raises(ConfigurationError, match="direct_tls"):
        PROTOCOL.create(AccountSettings("a", "a@example.org", options={"direct_tls": "maybe"}), sink)
    with pytest.raises(ConfigurationError):
        PROTOCOL.create(AccountSettings("a", "not an address"), sink)
    assert isinstance(PROTOCOL.create(AccountSettings("a", "A@Example.org"), sink), XmppAdapter)
