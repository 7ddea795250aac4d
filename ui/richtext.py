"""Message bodies as HTML for Qt's rich text: plain text, escaped, with http(s) links made clickable.

Nothing from a message is ever passed through as markup: the body is split around URLs, every
piece is escaped, and only the anchors this module writes are HTML.
"""

from __future__ import annotations

import html
import re

from aggregator.app.types import Segment

# A URL ends at whitespace or at characters that cannot be part of one; trailing punctuation is
# left outside ("see https://x.test/a." links https://x.test/a).
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"


def linkify(text: str) -> str:
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        url = match.group(0)
        stripped = url.rstrip(_TRAILING)
        if url.endswith(")") and "(" in stripped:
            stripped += ")"  # https://en.wikipedia.org/wiki/Foo_(bar)
        end = match.start() + len(stripped)
        out.append(html.escape(text[pos : match.start()]))
        out.append(f'<a href="{html.escape(stripped, quote=True)}">{html.escape(stripped)}</a>')
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def segments_html(segments: tuple[Segment, ...] | list[Segment]) -> str:
    """A search snippet: every piece escaped, the matches in bold."""
    parts = []
    for segment in segments:
        escaped = html.escape(segment.text).replace("\n", " ")
        parts.append(f"<b>{escaped}</b>" if segment.is_match else escaped)
    return "".join(parts)
