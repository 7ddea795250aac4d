"""JIDs (RFC 7622) and the ``HOST:PORT`` server setting, validated with messages a user can act on.

Normalisation approximates nodeprep/nameprep without a stringprep dependency: NFKC, then lower case
for the localpart and the domain (the resource keeps its case), a trailing dot dropped from the
domain, and the characters RFC 7622 forbids rejected. The result is checked to be a fixed point, so
``normalize(normalize(x)) == normalize(x)`` always holds (anything unstable is refused instead).
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass

from aggregator.api import ConfigurationError

#: Characters a localpart may not contain (RFC 7622 section 3.3.1), besides spaces and controls.
_LOCALPART_FORBIDDEN = frozenset("\"&'/:<>@")
_MAX_PART_BYTES = 1023
DEFAULT_PORT = 5222
DEFAULT_DIRECT_TLS_PORT = 5223


@dataclass(frozen=True, slots=True)
class Jid:
    localpart: str
    domain: str
    resource: str = ""

    @property
    def bare(self) -> str:
        return f"{self.localpart}@{self.domain}" if self.localpart else self.domain

    def __str__(self) -> str:
        return f"{self.bare}/{self.resource}" if self.resource else self.bare


def _bad_char(char: str) -> bool:
    category = unicodedata.category(char)
    return char.isspace() or category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).lower())


def _check_length(part: str, what: str, original: str) -> None:
    if len(part.encode("utf-8", "surrogatepass")) > _MAX_PART_BYTES:
        raise ConfigurationError(f"{original[:40]!r}...: the {what} is longer than {_MAX_PART_BYTES} bytes")


def _localpart(text: str, original: str) -> str:
    folded = _fold(text)
    if not folded:
        raise ConfigurationError(f"{original!r} has an empty user name before '@'")
    bad = sorted({c for c in folded if c in _LOCALPART_FORBIDDEN or _bad_char(c)})
    if bad:
        raise ConfigurationError(f"{original!r}: the user name may not contain {', '.join(map(repr, bad))}")
    _check_length(folded, "user name", original)
    return folded


def _domain(text: str, original: str) -> str:
    if text.startswith("[") and text.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(text[1:-1]).compressed}]"
        except ValueError:
            raise ConfigurationError(f"{original!r}: {text!r} is not an IPv6 address") from None
    folded = _fold(text)
    folded = folded.removesuffix(".")
    if not folded:
        raise ConfigurationError(f"{original!r} has no server domain (expected user@example.org)")
    for label in folded.split("."):
        if not label:
            raise ConfigurationError(f"{original!r}: the domain {text!r} has an empty part between dots")
        if len(label) > 63:
            raise ConfigurationError(f"{original!r}: a part of the domain is longer than 63 characters")
        if label.startswith("-") or label.endswith("-") or not all(c.isalnum() or c in "-_" for c in label):
            raise ConfigurationError(
                f"{original!r}: the domain {text!r} may contain only letters, digits, '-' and '_' between dots"
            )
    _check_length(folded, "domain", original)
    return folded


def _resource(text: str, original: str) -> str:
    resource = unicodedata.normalize("NFKC", text)
    if not resource:
        raise ConfigurationError(f"{original!r} ends with '/' but has no resource after it")
    if any(_bad_char(c) and c != " " for c in resource):
        raise ConfigurationError(f"{original!r}: the resource contains control characters")
    _check_length(resource, "resource", original)
    return resource


def parse_jid(text: str, *, require_localpart: bool = False, allow_resource: bool = True) -> Jid:
    """Parses and normalises ``text``; raises ``ConfigurationError`` naming the problem."""
    original = text
    text = text.strip()
    if not text:
        raise ConfigurationError("the address is empty (expected user@example.org)")
    bare, slash, resource = text.partition("/")
    localpart, at, domain = bare.rpartition("@")
    if at and not localpart:
        raise ConfigurationError(f"{original!r} has an empty user name before '@'")
    if require_localpart and not at:
        raise ConfigurationError(f"{original!r} is not a Jabber address: expected user@example.org")
    if slash and not allow_resource:
        raise ConfigurationError(f"{original!r} has a resource ('/...'); give the bare address user@example.org")
    jid = Jid(
        _localpart(localpart, original) if at else "",
        _domain(domain, original),
        _resource(resource, original) if slash else "",
    )
    # A fixed point, or refused: normalising must be idempotent.
    if str(jid) != text and _reparse(str(jid)) != jid:
        raise ConfigurationError(f"{original!r} has no stable normal form")
    return jid


def _reparse(text: str) -> Jid | None:
    try:
        bare, slash, resource = text.partition("/")
        localpart, at, domain = bare.rpartition("@")
        return Jid(
            _localpart(localpart, text) if at else "",
            _domain(domain, text),
            _resource(resource, text) if slash else "",
        )
    except ConfigurationError:
        return None


def normalize_address(address: str) -> str:
    """An account's bare JID ``user@domain`` in normal form."""
    return str(parse_jid(address, require_localpart=True, allow_resource=False))


def normalize_handle(handle: str) -> str:
    """A contact or room handle: a bare JID (``user@domain`` or ``domain``), or a full JID if it has a resource."""
    return str(parse_jid(handle))


def parse_server(server: str | None, *, direct_tls: bool) -> tuple[str, int] | None:
    """``HOST[:PORT]`` -> (host, port); None when unset (then DNS SRV records decide)."""
    if server is None or not server.strip():
        return None
    text = server.strip()
    default = DEFAULT_DIRECT_TLS_PORT if direct_tls else DEFAULT_PORT
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ConfigurationError(f"server {server!r} is not HOST:PORT ([IPv6]:PORT for IPv6)")
        port_text = rest[1:] if rest else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    elif ":" in text:
        raise ConfigurationError(f"server {server!r}: write an IPv6 address in brackets, e.g. [::1]:5222")
    else:
        host, port_text = text, ""
    if not host or any(_bad_char(c) for c in host):
        raise ConfigurationError(f"server {server!r} has no valid host name")
    if not port_text:
        return host, default
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigurationError(f"server {server!r} has no valid port (1-65535)")
    return host, int(port_text)
