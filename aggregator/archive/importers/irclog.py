"""What the IRC text logs (irssi, WeeChat, HexChat) share: formatting codes, own nicks, system lines, zones,
and the steps of reading one file (its text, its lines, a time that cannot be read, the account)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Protocol

from aggregator.api import ConversationKind, MessageKind
from aggregator.archive.importers.common import LogFile, LogLine, Skipped, read_text
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


def read_log(path: Path, shown: str, what: str) -> str | Skipped:
    """The text of the log file at ``path``, or why it is skipped (unreadable, or binary: not ``what``)."""
    try:
        text = read_text(path.read_bytes())
    except OSError as exc:
        return Skipped(shown, f"cannot read it: {exc.strerror or exc}")
    if "\x00" in text:
        return Skipped(shown, f"a binary file, not {what}")
    return text


def start_log(shown: str, ident: str, name: str, me: Iterable[str]) -> tuple[LogFile, OwnNicks]:
    """An empty log of the conversation ``name`` (a channel or a query) and the user's nicks in it;
    the account is set by ``finish``."""
    kind = conversation_kind(name)
    own = OwnNicks(me, None if kind is ConversationKind.ROOM else name)
    log = LogFile(path=shown, ident=ident, protocol="irc", account="", handle=name, kind=kind)
    return log, own


def network_of(rel: Path) -> str:
    """The network of a log stored as ``<network>/<name>.log`` below the log root."""
    return rel.parts[-2] if len(rel.parts) >= 2 else "irc"


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """The non-empty lines of ``text`` with their (1-based) line numbers."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if line.strip():
            yield number, line


def time_or_previous(
    log: LogFile, number: int, stamp: str, at: datetime | None, last: datetime | None
) -> datetime | None:
    """``at``; for a line whose time (``stamp``) could not be read, the previous line's time, with a
    warning; None (the line is skipped) when there is no previous line."""
    if at is not None:
        return at
    if last is None:
        log.skipped.append(Skipped(log.path, f"unreadable time ({stamp})", number))
        return None
    log.skipped.append(Skipped(log.path, f"unreadable time ({stamp}): kept with the previous time", number))
    return last


def add(log: LogFile, number: int, entry: LogLine | None) -> None:
    """Keeps a read line (None: an empty message, skipped)."""
    if entry is None:
        log.skipped.append(Skipped(log.path, "an empty message", number))
    else:
        log.lines.append(entry)


def system_line(number: int, at: datetime, body: str) -> LogLine | None:
    """A join, part, quit, nick change, topic or mode line (None when it says nothing)."""
    return LogLine(number, at, "", body, MessageKind.SYSTEM, Direction.IN) if body else None


def spoken(number: int, at: datetime, nick: str, text: str, kind: MessageKind, own: OwnNicks) -> LogLine:
    """A message, action or notice by ``nick``, outgoing when ``nick`` is one of the user's."""
    return LogLine(number, at, nick, text, kind, own.direction(nick))


def finish(log: LogFile, own: OwnNicks, me: Sequence[str], network: str) -> LogFile | Skipped:
    """The read log with its account set, or why the file is skipped (nothing in it)."""
    log.account = account_name(own, list(me), network)
    if not log.lines and not log.skipped:
        return Skipped(log.path, "no messages in it")
    return log


class FileParser(Protocol):
    def __call__(
        self, root: Path, path: Path, *, me: Sequence[str] = (), zone: tzinfo | None = None
    ) -> LogFile | Skipped: ...


class ParseAll(Protocol):
    def __call__(
        self, root: Path, files: list[Path], *, me: Sequence[str] = (), zone: tzinfo | None = None
    ) -> Iterator[LogFile | Skipped]: ...


def parse_all_with(parse_file: FileParser) -> ParseAll:
    """A format's ``parse_all`` (the registry's module convention): each file read by ``parse_file``."""

    def parse_all(
        root: Path, files: list[Path], *, me: Sequence[str] = (), zone: tzinfo | None = None
    ) -> Iterator[LogFile | Skipped]:
        for path in files:
            yield parse_file(root, path, me=me, zone=zone)

    return parse_all
