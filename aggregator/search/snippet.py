"""Snippets as (text, is_match) segments: unambiguous whatever the (untrusted) body contains.

The archive computes snippets with FTS5 ``snippet()`` for the returned rows only, with private-use
characters as markers. A body that itself contains a marker character is highlighted here instead,
in Python, with the tokenizer's rules (``tokens.py``), so a marker in a message can never fake a match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aggregator.search.query import Term
from aggregator.search.tokens import fold, spans

OPEN, CLOSE, ELLIPSIS = "\ue000", "\ue001", "\ue002"
#: Tokens of context ``snippet()`` may return (its maximum is 64); most chat messages fit whole.
SNIPPET_TOKENS = 48
#: Characters of context kept on each side of the first match by the Python fallback.
FALLBACK_CONTEXT = 160
_SPLIT = re.compile(f"([{OPEN}{CLOSE}{ELLIPSIS}])")


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    is_match: bool


def has_markers(text: str) -> bool:
    return OPEN in text or CLOSE in text or ELLIPSIS in text


def from_marked(marked: str) -> tuple[Segment, ...]:
    """Segments of ``snippet()`` output produced with ``OPEN``/``CLOSE``/``ELLIPSIS`` markers."""
    out: list[Segment] = []
    in_match = False
    for part in _SPLIT.split(marked):
        if part == OPEN:
            in_match = True
        elif part == CLOSE:
            in_match = False
        elif part == ELLIPSIS:
            out.append(Segment("…", False))
        elif part:
            out.append(Segment(part, in_match))
    return merge(out)


def merge(segments: Sequence[Segment]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for s in segments:
        if out and out[-1].is_match == s.is_match:
            out[-1] = Segment(out[-1].text + s.text, s.is_match)
        elif s.text:
            out.append(s)
    return tuple(out)


def match_spans(body: str, terms: Sequence[Term]) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of a term in ``body``, by token, as the index matches."""
    body_spans = list(spans(body))
    folded = [fold(body[a:b]) for a, b in body_spans]
    found: list[tuple[int, int]] = []
    for term in terms:
        wanted = [fold(t) for t in term.tokens]
        n = len(wanted)
        for i in range(len(folded) - n + 1):
            head_ok = all(folded[i + k] == wanted[k] for k in range(n - 1))
            last = folded[i + n - 1]
            last_ok = last.startswith(wanted[-1]) if term.prefix else last == wanted[-1]
            if head_ok and last_ok:
                found.append((body_spans[i][0], body_spans[i + n - 1][1]))
    return sorted(found)


def highlight(body: str, terms: Sequence[Term]) -> tuple[Segment, ...]:
    """The Python fallback: ``body`` (cut around the first match when long) with the matches marked."""
    found = match_spans(body, terms)
    lo, hi = 0, len(body)
    if found and len(body) > 2 * FALLBACK_CONTEXT:
        lo = max(0, found[0][0] - FALLBACK_CONTEXT // 2)
        hi = min(len(body), lo + 2 * FALLBACK_CONTEXT)
    elif len(body) > 2 * FALLBACK_CONTEXT:
        hi = 2 * FALLBACK_CONTEXT
    out: list[Segment] = [Segment("…", False)] if lo > 0 else []
    pos = lo
    for a, b in found:
        a, b = max(a, pos), min(b, hi)
        if a >= b:
            continue
        out.append(Segment(body[pos:a], False))
        out.append(Segment(body[a:b], True))
        pos = b
    out.append(Segment(body[pos:hi], False))
    if hi < len(body):
        out.append(Segment("…", False))
    return merge(out)


def plain(body: str) -> tuple[Segment, ...]:
    """A snippet without matches (a search by filters only)."""
    return highlight(body, ())


def marked_text(segments: Sequence[Segment], open_mark: str = "[[", close_mark: str = "]]") -> str:
    """One string with the matches between ``open_mark`` and ``close_mark`` (display only: a body may
    contain the marks itself; ``segments`` are the unambiguous form)."""
    return "".join(f"{open_mark}{s.text}{close_mark}" if s.is_match else s.text for s in segments)
