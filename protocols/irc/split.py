"""Splitting a long message body into pieces that each fit one IRC line of 512 bytes.

Each piece ends on a word boundary where possible (the space stays at the end of the piece, so the
pieces joined give back the text), and never in the middle of a UTF-8 character.
"""

from __future__ import annotations

from protocols.irc.params import clean_body_line

#: The longest IRC line, CR LF included (tags have their own budget).
LINE_LIMIT = 512
#: What a server adds as our source (":nick!user@host "): user up to 10 and host up to 64 bytes here.
_USER_HOST_ESTIMATE = 1 + 10 + 1 + 64


def body_budget(nick: str, command: str, target: str, *, action: bool = False) -> int:
    """Bytes left for the text in ``:<nick>!<user>@<host> <command> <target> :<text>\\r\\n``."""
    prefix = f":{nick}{'x' * _USER_HOST_ESTIMATE} {command} {target} :"
    used = len(prefix.encode("utf-8")) + 2
    if action:
        used += len("\x01ACTION \x01")
    return max(LINE_LIMIT - used, 16)


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-8 bytes each, joining back to ``text``."""
    if limit < 4:
        raise ValueError("limit must hold at least one character (4 bytes)")
    pieces: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > limit:
        # The longest prefix that fits, counted in whole characters.
        size = 0
        cut = 0
        for index, char in enumerate(rest):
            size += len(char.encode("utf-8"))
            if size > limit:
                cut = index
                break
        space = rest.rfind(" ", 0, cut)
        if space > 0 and rest[:space].strip():
            cut = space + 1  # keep the space at the end of this piece
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def split_message(text: str, limit: int) -> list[str]:
    """Lines of ``text`` (split at line breaks, cleaned by ``params.clean_body_line``, empty lines dropped),
    each split to fit ``limit``. A body with line breaks goes out as one PRIVMSG per line: IRC has no
    line break inside a message, and a CR or LF must never reach the wire inside one."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = clean_body_line(line)
        if line:
            out.extend(split_text(line, limit))
    return out
