"""Case- and accent-insensitive comparison keys ("Jürgen" and "jurgen" fold alike).

Registered on every SQLite connection as the SQL function ``aggregator_fold(text)``, so that a
filter such as ``from:jurgen`` can match a sender substring without caring about case or accents.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def sql_fold(value: object) -> str | None:
    """``fold`` for SQLite: NULL stays NULL, anything else is folded as text."""
    if value is None:
        return None
    return fold(value if isinstance(value, str) else str(value))
