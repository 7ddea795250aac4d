"""Nicks (the account address), handles (casefolded nicks and channels) and the ``HOST:PORT`` setting."""

from __future__ import annotations

import re

from aggregator.api import ConfigurationError
from protocols.irc.casemap import casefold
from protocols.irc.params import InvalidTarget, check_target

#: RFC 2812 nick characters: a letter or special first, then letters, digits, specials and '-'.
_NICK = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,29}", re.ASCII)


def normalize_address(address: str) -> str:
    """The nick ``address`` (surrounding blanks removed, case kept), or ``ConfigurationError``."""
    candidate = address.strip()
    if not _NICK.fullmatch(candidate):
        raise ConfigurationError(
            f"{address!r} is not an IRC nick: 1-30 letters, digits or []\\`_^{{|}}-, not starting with a digit or '-'"
        )
    return candidate


def normalize_handle(handle: str) -> str:
    """A nick or channel as the server compares it (``rfc1459`` case folding).

    Raises ``ConfigurationError`` for a name that cannot be an IRC target (empty, a space, a comma, CR,
    LF, NUL or another control character, a leading ``:``): such a message is refused before it is
    stored, so it can never wait in the queue (``params.check_target``)."""
    candidate = handle.strip()
    try:
        check_target(candidate)
    except InvalidTarget as exc:
        raise ConfigurationError(str(exc)) from None
    return casefold(candidate)


def parse_server(server: str | None) -> tuple[str, int]:
    """Splits the ``HOST:PORT`` setting, or raises ``ConfigurationError`` naming the problem."""
    if not server or not server.strip():
        raise ConfigurationError("IRC needs a server setting: HOST:PORT (e.g. irc.libera.chat:6697)")
    host, sep, port_text = server.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host:
        raise ConfigurationError(f"server {server!r} is not HOST:PORT")
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigurationError(f"server {server!r} has no valid port (1-65535)")
    return host, int(port_text)
