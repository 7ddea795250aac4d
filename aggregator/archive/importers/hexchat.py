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
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path

from aggregator.api import MessageKind
from aggregator.archive.importers import irclog
from aggregator.archive.importers.common import LogFile, LogLine, Skipped

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
    return any(irclog.starts_with(p, _DETECT, 2) for p in irclog.files_with(directory, (".log", ".txt"))[:50])


def read(directory: Path) -> tuple[Path, list[Path]]:
    root = directory / "logs" if (directory / "logs").is_dir() else directory
    return root, irclog.files_with(root, (".log", ".txt"))


def parse_file(root: Path, path: Path, *, me: Sequence[str] = (), zone: tzinfo | None = None) -> LogFile | Skipped:
    rel = path.relative_to(root)
    shown = str(rel)
    text = irclog.read_log(path, shown, "a HexChat log")
    if isinstance(text, Skipped):
        return text
    log, own = irclog.start_log(shown, "/".join(rel.parts[-2:]), path.stem, me)
    year: int | None = None
    last_month = 0
    last: datetime | None = None
    for number, line in irclog.numbered_lines(text):
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
        read_at: datetime | None = None
        if month is not None:
            if month < last_month:
                year += 1  # the log went past New Year
            last_month = month
            try:
                read_at = irclog.as_local(
                    datetime.strptime(f"{year}-{month}-{m['day']} {m['time']}", "%Y-%m-%d %H:%M:%S"), zone
                )
            except ValueError:
                read_at = None
        at = irclog.time_or_previous(log, number, f"{m['month']} {m['day']} {m['time']}", read_at, last)
        if at is None:
            continue
        last = at
        irclog.add(log, number, _entry(number, at, irclog.strip_formatting(m["rest"]), own))
    return irclog.finish(log, own, me, irclog.network_of(rel))


def _entry(number: int, at: datetime, rest: str, own: irclog.OwnNicks) -> LogLine | None:
    if (m := _MESSAGE.match(rest)) is not None:
        nick = irclog.bare_nick(m["nick"])
        if not m["text"].strip():
            return None
        return irclog.spoken(number, at, nick, m["text"], MessageKind.CHAT, own)
    if (m := _SYSTEM.match(rest)) is not None:
        body = m["text"].strip()
        own.learn_from_system(body)
        return irclog.system_line(number, at, body)
    if (m := _STAR.match(rest)) is not None:
        body = m["text"].strip()
        nick, _, action = body.partition(" ")
        if not action or _STATUS_WORDS.search(body) or body.startswith("You "):
            own.learn_from_system(body)
            return irclog.system_line(number, at, body)
        return irclog.spoken(number, at, nick, action, MessageKind.ACTION, own)
    if (m := _NOTICE.match(rest)) is not None:
        nick = m["nick"]
        return irclog.spoken(number, at, nick, m["text"], MessageKind.NOTICE, own)
    body = rest.strip()
    return irclog.system_line(number, at, body)


parse_all = irclog.parse_all_with(parse_file)
