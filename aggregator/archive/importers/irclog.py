"""What the IRC text logs (irssi, WeeChat, HexChat) share: formatting codes, own nicks, system lines, zones."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, tzinfo
from pathlib import Path

from aggregator.api import ConversationKind
from aggregator.archive.records import Direction

#: mIRC/irssi formatting: bold, colour (with its digits), hex colour, italics, strike, underline, reverse, reset.
_FORMATTING = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9A-Fa-f]{6}(?:,[0-9A-Fa-f]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]"
)
_CHANNEL_PREFIXES = ("#", "&", "!", "+")
_NICK_MODES = "@+%~&!"
_NOW_KNOWN = re.compile(r"^You(?:'re| are) now known as (?P<nick>\S+)$")


def strip_formatting(text: str) -> str:
    """The text without IRC formatting codes (colours, bold, ...), and without other control characters."""
    text = _FORMATTING.sub("", text)
    return "".join(ch for ch in text if ch >= " " or ch in "\t")


def bare_nick(nick: str) -> str:
    """A nick without its channel-mode prefix (``@op``, ``+voiced``)."""
    return nick.lstrip(_NICK_MODES) or nick


def conversation_kind(name: str) -> ConversationKind:
    return ConversationKind.ROOM if name.startswith(_CHANNEL_PREFIXES) else ConversationKind.DIRECT


def as_local(naive: datetime, zone: tzinfo | None) -> datetime:
    """A clock time the log wrote without a zone, in ``zone`` (default: this machine's zone)."""
    return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()


class OwnNicks:
    """The user's own nicks: given (``--me``), learned from "You are now known as X", and, in a query,
    any sender other than the person the query is with."""

    def __init__(self, given: Iterable[str], query_with: str | None) -> None:
        self._nicks = {n.casefold() for n in given if n}
        self._query_with = query_with.casefold() if query_with else None
        self.learned: list[str] = []

    def learn(self, nick: str) -> None:
        key = nick.casefold()
        if key and key not in self._nicks and key != self._query_with:
            self._nicks.add(key)
            self.learned.append(nick)

    def learn_from_system(self, text: str) -> None:
        m = _NOW_KNOWN.match(text.strip())
        if m is not None:
            self.learn(m["nick"])

    def direction(self, nick: str) -> Direction:
        key = bare_nick(nick).casefold()
        if key in self._nicks:
            return Direction.OUT
        if self._query_with is not None and key and key != self._query_with:
            self.learn(bare_nick(nick))
            return Direction.OUT
        return Direction.IN


def account_name(own: OwnNicks, given: list[str], network: str) -> str:
    """The IRC account the log belongs to: the user's nick (given first, else learned), else the network."""
    if given:
        return given[0]
    if own.learned:
        return own.learned[0]
    return network


def files_with(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(suffixes))


def starts_with(path: Path, pattern: re.Pattern[str], lines: int = 5) -> bool:
    """Whether one of the first non-empty lines of ``path`` matches ``pattern`` (for format detection)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    seen = 0
    for raw in head.decode("utf-8", "replace").splitlines():
        if raw.strip():
            if pattern.search(raw):
                return True
            seen += 1
            if seen >= lines:
                break
    return False
