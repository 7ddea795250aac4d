"""HexChat's (and XChat's) logs: ``logs/<network>/<#channel or nick>.log`` (its default log mask ``%n/%c.log``).

* ``**** BEGIN LOGGING AT Mon Dec 31 21:11:55 2011`` opens a session (the words are translated, the
  date is not): it gives the year; each line starts with the default stamp ``%b %d %H:%M:%S`` (month
  names in the user's language, no year, no zone: ``--timezone`` or this machine's zone).
* ``<nick>`` then the text (a tab in HexChat, a space in XChat) is a message, ``-nick-`` a notice,
  ``*`` a nick's action (or, for XChat's own lines, a status line), ``-->`` / ``<--`` / ``---`` joins,
  parts, quits, nick changes, topics and modes (stored as system lines).
* Own messages: ``--me NICK``; in a query every sender other than the person the file is named after;
  ``You are now known as X`` is learned.
* A line whose clock cannot be read keeps the previous line's time, with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime, tzinfo
from pathlib import Path

from aggregator.api import MessageKind
from aggregator.archive.importers.common import LogFile, LogLine, Skipped, read_text
from aggregator.archive.importers.irclog import (
    OwnNicks,
    account_name,
    as_local,
    bare_nick,
    conversation_kind,
    files_with,
    starts_with,
    strip_formatting,
)
from aggregator.archive.records import Direction

SOURCE = "hexchat"
TITLE = "HexChat"
DESCRIPTION = "HexChat's or XChat's IRC logs (logs/<network>/<#channel or nick>.log)"
_SESSION = re.compile(
    r"^\*\*\*\* (?P<words>.+?) (?P<when>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d{2}:\d{2}:\d{2} \d{4})\s*$"
)
_LINE = re.compile(r"^\s*(?P<month>[^\W\d_]{3,5})\.? (?P<day>\d{1,2}) (?P<time>\d{1,2}:\d{2}:\d{2}) ?(?P<rest>.*)$")
_MESSAGE = re.compile(r"^\s*<(?P<nick>[^>\s]+)>(?:\t| )?(?P<text>.*)$")
_NOTICE = re.compile(r"^\s*-(?P<nick>[^\s-][^\s]*?)-(?:\t| )(?P<text>.*)$")
_SYSTEM = re.compile(r"^\s*(?:-->|<--|---|<->|=!=)(?:\t| )\s*(?P<text>.*)$")
_STAR = re.compile(r"^\s*\*(?:\t| +)(?P<text>.*)$")
_STATUS_WORDS = re.compile(
    r"\b(?:has joined|has left|has quit|is now known as|now talking on|topic|gives|removes|sets mode|"
    r"has kicked|disconnected|connected|looking up|connecting|ping reply)\b",
    re.IGNORECASE,
)
#: Month abbreviations HexChat writes with ``%b`` in the locales its users used most.
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "janv", "ene", "gen", "jän"),
            ("feb", "févr", "fev", "fév"),
            ("mar", "mär", "mrt", "mars"),
            ("apr", "avr", "abr"),
            ("may", "mai", "mei", "mag"),
            ("jun", "juin", "giu"),
            ("jul", "juil", "lug"),
            ("aug", "août", "ago"),
            ("sep", "sept", "set"),
            ("oct", "okt", "ott"),
            ("nov",),
            ("dec", "déc", "dez", "dic"),
        ),
        start=1,
    )
    for name in names
}
_DETECT = re.compile(r"^\*\*\*\* .+ [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d{2}:\d{2}:\d{2} \d{4}\s*$")


def detect(directory: Path) -> bool:
    return any(starts_with(p, _DETECT, 2) for p in files_with(directory, (".log", ".txt"))[:50])


def read(directory: Path) -> tuple[Path, list[Path]]:
    root = directory / "logs" if (directory / "logs").is_dir() else directory
    return root, files_with(root, (".log", ".txt"))


def parse_file(root: Path, path: Path, *, me: Sequence[str] = (), zone: tzinfo | None = None) -> LogFile | Skipped:
    rel = path.relative_to(root)
    shown = str(rel)
    try:
        text = read_text(path.read_bytes())
    except OSError as exc:
        return Skipped(shown, f"cannot read it: {exc.strerror or exc}")
    if "\x00" in text:
        return Skipped(shown, "a binary file, not a HexChat log")
    name = path.stem
    network = rel.parts[-2] if len(rel.parts) >= 2 else "irc"
    kind = conversation_kind(name)
    own = OwnNicks(me, None if kind.name == "ROOM" else name)
    log = LogFile(path=shown, ident="/".join(rel.parts[-2:]), protocol="irc", account="", handle=name, kind=kind)
    year: int | None = None
    last_month = 0
    last: datetime | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        session = _SESSION.match(line)
        if session is not None:
            try:
                began = datetime.strptime(" ".join(session["when"].split()), "%a %b %d %H:%M:%S %Y")
            except ValueError:
                log.skipped.append(Skipped(shown, f"unreadable session date ({session['when']})", number))
                continue
            year, last_month = began.year, began.month
            continue
        m = _LINE.match(line)
        if m is None:
            log.skipped.append(Skipped(shown, "not a log line", number))
            continue
        if year is None:
            log.skipped.append(Skipped(shown, "before any '**** BEGIN LOGGING' line: its year is unknown", number))
            continue
        month = _MONTHS.get(m["month"].casefold())
        at: datetime | None = None
        if month is not None:
            if month < last_month:
                year += 1  # the log went past New Year
            last_month = month
            try:
                at = as_local(datetime.strptime(f"{year}-{month}-{m['day']} {m['time']}", "%Y-%m-%d %H:%M:%S"), zone)
            except ValueError:
                at = None
        if at is None:
            stamp = f"{m['month']} {m['day']} {m['time']}"
            if last is None:
                log.skipped.append(Skipped(shown, f"unreadable time ({stamp})", number))
                continue
            log.skipped.append(Skipped(shown, f"unreadable time ({stamp}): kept with the previous time", number))
            at = last
        last = at
        entry = _entry(number, at, strip_formatting(m["rest"]), own)
        if entry is None:
            log.skipped.append(Skipped(shown, "an empty message", number))
            continue
        log.lines.append(entry)
    log.account = account_name(own, list(me), network)
    if not log.lines and not log.skipped:
        return Skipped(shown, "no messages in it")
    return log


def _entry(number: int, at: datetime, rest: str, own: OwnNicks) -> LogLine | None:
    if (m := _MESSAGE.match(rest)) is not None:
        nick = bare_nick(m["nick"])
        if not m["text"].strip():
            return None
        return LogLine(number, at, nick, m["text"], MessageKind.CHAT, own.direction(nick))
    if (m := _SYSTEM.match(rest)) is not None:
        body = m["text"].strip()
        own.learn_from_system(body)
        return LogLine(number, at, "", body, MessageKind.SYSTEM, Direction.IN) if body else None
    if (m := _STAR.match(rest)) is not None:
        body = m["text"].strip()
        nick, _, action = body.partition(" ")
        if not action or _STATUS_WORDS.search(body) or body.startswith("You "):
            own.learn_from_system(body)
            return LogLine(number, at, "", body, MessageKind.SYSTEM, Direction.IN) if body else None
        return LogLine(number, at, nick, action, MessageKind.ACTION, own.direction(nick))
    if (m := _NOTICE.match(rest)) is not None:
        nick = m["nick"]
        return LogLine(number, at, nick, m["text"], MessageKind.NOTICE, own.direction(nick))
    body = rest.strip()
    return LogLine(number, at, "", body, MessageKind.SYSTEM, Direction.IN) if body else None


def parse_all(
    root: Path, files: list[Path], *, me: Sequence[str] = (), zone: tzinfo | None = None
) -> Iterator[LogFile | Skipped]:
    for path in files:
        yield parse_file(root, path, me=me, zone=zone)
