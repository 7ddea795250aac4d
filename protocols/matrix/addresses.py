"""Matrix identifiers: user ids (``@alice:example.org``), room ids (``!opaque:example.org``) and the
homeserver URL setting.

User ids are normalised to lower case: the spec has required lower-case localparts since 2019 and
Synapse registers nothing else (historical mixed-case ids are not supported). Room ids are
case-sensitive opaque strings and are kept as they are.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from aggregator.api import ConfigurationError

# localpart: the spec's grammar for user ids (a-z 0-9 . _ = - / +); server name: DNS name, IPv4 or
# [IPv6] with an optional port.
_LOCALPART = r"[a-z0-9._=\-/+]+"
_HOSTNAME = r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*"
_IPV6 = r"\[[0-9a-f:.]+\]"
_SERVER_NAME = rf"(?:{_HOSTNAME}|{_IPV6})(?::[0-9]{{1,5}})?"
_USER_ID = re.compile(rf"@({_LOCALPART}):({_SERVER_NAME})", re.ASCII)
# opaque[:server], printable ASCII; room version 12 ids have no server part (MSC4291)
_ROOM_ID = re.compile(r"![\x21-\x39\x3b-\x7e]+(?::[\x21-\x7e]+)?", re.ASCII)
_ROOM_ALIAS = re.compile(rf"#[^\s:]+:{_SERVER_NAME}", re.ASCII)
#: Longest user id the spec allows.
MAX_ID_LENGTH = 255


def normalize_address(address: str) -> str:
    """``@user:server`` in lower case (a missing leading ``@`` is added), or ``ConfigurationError``."""
    candidate = address.strip().lower()
    if candidate and not candidate.startswith("@"):
        candidate = "@" + candidate
    if len(candidate) > MAX_ID_LENGTH or not _USER_ID.fullmatch(candidate):
        raise ConfigurationError(f"{address!r} is not a Matrix user id: expected @user:server, e.g. @alice:matrix.org")
    port = candidate.rpartition(":")[2]
    if "]" not in port and port.isdigit() and candidate.count(":") > 1 and not 0 < int(port) < 65536:
        raise ConfigurationError(f"{address!r} has an invalid port in its server name")
    return candidate


def server_name(user_id: str) -> str:
    """The server part of a (normalised) user id: ``example.org`` of ``@alice:example.org``."""
    return user_id.partition(":")[2]


def is_room_id(handle: str) -> bool:
    return handle.startswith("!")


def normalize_handle(handle: str) -> str:
    """A user id in normal form, or a room id / room alias as it is (they are case-sensitive)."""
    stripped = handle.strip()
    if stripped.startswith("!"):
        if len(stripped) > MAX_ID_LENGTH or not _ROOM_ID.fullmatch(stripped):
            raise ConfigurationError(f"{handle!r} is not a Matrix room id: expected !opaque or !opaque:server")
        return stripped
    if stripped.startswith("#"):
        if len(stripped) > MAX_ID_LENGTH or not _ROOM_ALIAS.fullmatch(stripped):
            raise ConfigurationError(f"{handle!r} is not a Matrix room alias: expected #name:server")
        return stripped
    return normalize_address(stripped)


def homeserver_url(server: str | None, user_id: str) -> str:
    """The homeserver base URL from the ``server`` setting (https unless a scheme is given), or the
    user id's domain over https when no server is set. Raises ``ConfigurationError`` when unusable."""
    text = (server or "").strip()
    if not text:
        return f"https://{server_name(user_id)}"
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(f"server {server!r}: the homeserver URL must start with https:// (or http://)")
    try:
        parts.port  # noqa: B018 (validates the port)
    except ValueError:
        raise ConfigurationError(f"server {server!r} has no valid port (1-65535)") from None
    if not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(f"server {server!r} is not a homeserver URL like https://matrix.example.org")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
