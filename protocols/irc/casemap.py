"""Nick and channel case folding per the server's ``CASEMAPPING`` (default ``rfc1459``)."""

from __future__ import annotations

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_TABLES = {
    "ascii": str.maketrans(_UPPER, _LOWER),
    "rfc1459": str.maketrans(_UPPER + "[]\\~", _LOWER + "{}|^"),
    "strict-rfc1459": str.maketrans(_UPPER + "[]\\", _LOWER + "{}|"),
}
DEFAULT_CASEMAPPING = "rfc1459"


def casefold(name: str, casemapping: str = DEFAULT_CASEMAPPING) -> str:
    """``name`` folded as the server compares names (unknown mappings fold as ``rfc1459``)."""
    return name.translate(_TABLES.get(casemapping.lower(), _TABLES[DEFAULT_CASEMAPPING]))
