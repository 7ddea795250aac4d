"""Bytes from the wire to ``str``, never failing: UTF-8, else a per-account fallback encoding.

IRC has no declared encoding; old clients still send latin-1 or cp1252. NUL bytes are dropped.
"""

from __future__ import annotations

import codecs

DEFAULT_FALLBACK = "latin-1"


def check_encoding(name: str) -> str:
    """The canonical name of the codec ``name``; ``LookupError`` if Python has no such codec."""
    info = codecs.lookup(name)
    # A fallback must turn bytes into text: reject codecs like "base64" or "rot13".
    try:
        "x".encode(info.name)
        b"x".decode(info.name)
    except (TypeError, LookupError, UnicodeError) as exc:
        raise LookupError(f"{name!r} is not a text encoding") from exc
    return info.name


def decode(data: bytes, fallback: str = DEFAULT_FALLBACK) -> str:
    """``data`` as text: UTF-8 if valid, else ``fallback`` (undecodable bytes become U+FFFD)."""
    data = data.replace(b"\0", b"")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(fallback, errors="replace")
    except (LookupError, TypeError, UnicodeError):
        return data.decode("latin-1")
