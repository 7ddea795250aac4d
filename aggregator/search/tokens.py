"""Word tokens as the archive's full-text index sees them (FTS5 ``unicode61 remove_diacritics 2``).

A token is a run of letters, digits and private-use characters (Unicode categories L*, N*, Co, the
tokenizer's defaults); everything else separates tokens. ``fold`` is the comparison key: case folded
and without diacritics, as the index compares.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from aggregator.archive.textfold import fold

__all__ = ["fold", "spans", "tokens"]

# \w is letters, digits and the underscore (plus combining marks): close, but not the tokenizer.
_CANDIDATE = re.compile(r"[^\W_]+")


def _is_token_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    # Cn (unassigned here): SQLite's tables list separators, so what they do not know is a token char.
    return category[0] in "LN" or category in ("Co", "Cn")


def spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every token in ``text``."""
    if text.isascii():
        for m in _CANDIDATE.finditer(text):
            yield m.start(), m.end()
        return
    start = -1
    for i, ch in enumerate(text):
        if _is_token_char(ch):
            if start < 0:
                start = i
        elif start >= 0:
            yield start, i
            start = -1
    if start >= 0:
        yield start, len(text)


def tokens(text: str) -> list[str]:
    return [text[a:b] for a, b in spans(text)]
