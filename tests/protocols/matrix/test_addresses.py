"""Matrix ids and the homeserver setting."""

from __future__ import annotations

import pytest

from aggregator.api import ConfigurationError
from protocols.matrix.addresses import homeserver_url, normalize_address, normalize_handle


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("@alice:example.org", "@alice:example.org"),
        ("  @Alice:Example.ORG ", "@alice:example.org"),
        ("alice:example.org", "@alice:example.org"),
        ("@a.b_c=d-e/f+g:localhost:8448", "@a.b_c=d-e/f+g:localhost:8448"),
        ("@bob:127.0.0.1", "@bob:127.0.0.1"),
        ("@bob:[::1]:8008", "@bob:[::1]:8008"),
    ],
)
def test_user_ids_are_normalised(given: str, expected: str) -> None:
    assert normalize_address(given) == expected


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "@",
        "@alice",
        "@:example.org",
        "@al ice:example.org",
        "@alice:exa mple.org",
        "@a:host:99999",
        "alice@example.org",
        "@alice:-bad-.org",
        "@" + "a" * 300 + ":x.org",
    ],
)
def test_bad_user_ids_are_configuration_errors(garbage: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        normalize_address(garbage)
    assert "Matrix" in str(raised.value) or "port" in str(raised.value)


def test_room_ids_keep_their_case_and_user_ids_are_lowered() -> None:
    assert normalize_handle("!AbCd:example.org") == "!AbCd:example.org"
    assert normalize_handle("#Room:example.org") == "#Room:example.org"
    assert normalize_handle("@Bob:Example.org") == "@bob:example.org"
    assert normalize_handle("!v12RoomIdWithoutServer") == "!v12RoomIdWithoutServer"
    with pytest.raises(ConfigurationError):
        normalize_handle("!")


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        (None, "https://example.org"),
        ("", "https://example.org"),
        ("matrix.example.org", "https://matrix.example.org"),
        ("https://matrix.example.org/", "https://matrix.example.org"),
        ("http://127.0.0.1:8008", "http://127.0.0.1:8008"),
        ("https://example.org/matrix/", "https://example.org/matrix"),
    ],
)
def test_homeserver_url(server: str | None, expected: str) -> None:
    assert homeserver_url(server, "@alice:example.org") == expected


@pytest.mark.parametrize("server", ["ftp://example.org", "https://", "https://example.org:99999", "https://u:p@x.org"])
def test_bad_homeserver_urls(server: str) -> None:
    with pytest.raises(ConfigurationError):
        homeserver_url(server, "@alice:example.org")
