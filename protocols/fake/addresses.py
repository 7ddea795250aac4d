"""Addresses (``user@host``) and the server setting (``HOST:PORT``) of the fake protocol."""

from __future__ import annotations

import re

from aggregator.api import ConfigurationError

_ADDRESS = re.compile(r"[a-z0-9._+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*", re.ASCII)


def normalize_address(address: str) -> str:
    """Returns ``address`` in lower case, or raises ``ConfigurationError`` naming the problem."""
    candidate = address.strip().lower()
    if not _ADDRESS.fullmatch(candidate):
        raise ConfigurationError(f"{address!r} is not a fake address: expected user@host")
    return candidate


def parse_server(server: str | None) -> tuple[str, int]:
    """Splits the ``HOST:PORT`` setting, or raises ``ConfigurationError`` naming the problem."""
    if not server or not server.strip():
        raise ConfigurationError("the fake protocol needs a server setting: HOST:PORT")
    host, sep, port_text = server.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host:
        raise ConfigurationError(f"server {server!r} is not HOST:PORT")
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigurationError(f"server {server!r} has no valid port (1-65535)")
    return host, int(port_text)
