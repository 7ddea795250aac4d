"""A ``SearchQuery``'s words as an FTS5 MATCH expression in which every token is quoted.

Every term is one quoted string (``"tok"``, a ``"`` doubled; a phrase is one string, which FTS5
tokenizes into its words), a prefix is ``"tok" *``: nothing the user typed can be an FTS5 operator,
column filter or syntax error.
"""

from __future__ import annotations

from collections.abc import Sequence

from aggregator.search.query import Term


def quote(text: str) -> str:
    # FTS5 reads the expression as a C string: a NUL would end it inside the quotes.
    return '"' + text.replace("\x00", " ").replace('"', '""') + '"'


def term_expression(term: Term) -> str:
    phrase = quote(term.text)
    return f"{phrase} *" if term.prefix else phrase


def any_of(terms: Sequence[Term]) -> str:
    """``a OR b OR ...`` (one term: just it)."""
    return " OR ".join(term_expression(t) for t in terms)


def match_expression(terms: Sequence[Term], excluded: Sequence[Term] = ()) -> str:
    """All of ``terms`` and none of ``excluded``. ``terms`` must not be empty (FTS5 has no bare NOT)."""
    if not terms:
        raise ValueError("a MATCH expression needs at least one term")
    positive = " AND ".join(term_expression(t) for t in terms)
    if not excluded:
        return positive
    return f"({positive}) NOT ({any_of(excluded)})"
