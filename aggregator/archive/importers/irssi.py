"""irssi's text logs: ``irclogs/<network>/<#channel or nick>.log`` (its default ``autolog_path``).

* ``--- Log opened Wed Jan 06 13:15:17 2010`` gives the date, ``--- Day changed Thu Jan 07 2010`` the next
  one; lines carry ``HH:MM`` (or ``HH:MM:SS``) in the zone the log was written in (no zone in the file:
  ``--timezone`` or this machine's zone).
* ``HH:MM <@nick> text`` a message, ``HH:MM  * nick text`` an action, ``HH:MM -nick- text`` or
  ``HH:MM -nick:#chan- text`` a notice, ``HH:MM -!- ...`` a join, part, quit, nick change, topic or mode
  (stored as system lines).
* The user's own nick is not written in the log: ``--me NICK``; in a query every sender other than the
  person the file is named after is the user; ``You're now known as X`` is learned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path

from aggregator.api import MessageKind
from aggregator.archive.importers import irclog
from aggregator.archive.importers.common import Clock, LogFile, LogLine, Skipped

SOURCE = "irssi"
TITLE = "irssi"
DESCRIPTION = "irssi's IRC logs (irclogs/<network>/<#channel or nick>.log)"
_OPENED = re.compile(r"^-{2,3} Log opened (?P<when>.+)$")
_CLOSED = re.compile(r"^-{2,3} Log closed ")
_DAY = re.compile(r"^-{2,3} Day changed (?P<when>.+)$")
_LINE = re.compile(r"^(?P<time>\d{1,2}:\d{2}(?::\d{2})?) (?P<rest>.*)$")
_MESSAGE = re.compile(r"^<(?P<nick>[^>]*)> ?(?P<text>.*)$")
_ACTION = re.compile(r"^ \* (?P<nick>\S+) ?(?P<text>.*)$")
_NOTICE = re.compile(r"^-(?P<nick>[^\s!-][^\s-]*?)(?::[^\s-]+)?- ?(?P<text>.*)$")
_OPEN_FORMATS = ("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M %Y")
_DAY_FORMATS = ("%a %b %d %Y",)
_DETECT = re.compile(r"^-{2,3} Log opened ")


def detect(directory: Path) -> bool:
    return any(irclog.starts_with(p, _DETECT, 2) for p in irclog.files_with(directory, (".log",))[:50])


def read(directory: Path) -> tuple[Path, list[Path]]:
    root = directory / "irclogs" if (directory / "irclogs").is_dir() else directory
    return root, irclog.files_with(root, (".log",))


def _parse(text: str, formats: tuple[str, ...]) -> datetime | None:
    for fmt in formats:
        try:
            return datetime.strptime(" ".join(text.split()), fmt)
        except ValueError:
            continue
    return None


def parse_file(root: Path, path: Path, *, me: Sequence[str] = (), zone: tzinfo | None = None) -> LogFile | Skipped:
    rel = path.relative_to(root)
    shown = str(rel)
    text = irclog.read_log(path, shown, "an irssi log")
    if isinstance(text, Skipped):
        return text
    log, own = irclog.start_log(shown, "/".join(rel.parts[-2:]), path.stem, me)
    clock: Clock | None = None
    last: datetime | None = None
    for number, line in irclog.numbered_lines(text):
        if (m := _OPENED.match(line)) or (m := _DAY.match(line)):
            when = _parse(m["when"], _OPEN_FORMATS if m.re is _OPENED else _DAY_FORMATS)
            if when is None:
                log.skipped.append(Skipped(shown, f"unreadable date ({m['when']})", number))
                continue
            if m.re is _DAY:
                when = when.replace(hour=0, minute=0, second=0)
            clock = Clock(irclog.as_local(when, zone))
            continue
        if _CLOSED.match(line):
            continue
        lm = _LINE.match(line)
        if lm is None:
            log.skipped.append(Skipped(shown, "not a log line", number))
            continue
        if clock is None:
            log.skipped.append(Skipped(shown, "before any 'Log opened' line: its date is unknown", number))
            continue
        at = irclog.time_or_previous(log, number, lm["time"], clock.at(lm["time"]), last)
        if at is None:
            continue
        last = at
        irclog.add(log, number, _entry(number, at, irclog.strip_formatting(lm["rest"]), own))
    return irclog.finish(log, own, me, irclog.network_of(rel))


def _entry(number: int, at: datetime, rest: str, own: irclog.OwnNicks) -> LogLine | None:
    if rest.startswith("-!- "):
        body = rest[4:].strip()
        own.learn_from_system(body)
        return irclog.system_line(number, at, body)
    if (m := _ACTION.match(rest)) is not None:
        nick = m["nick"]
        return irclog.spoken(number, at, nick, m["text"], MessageKind.ACTION, own)
    if (m := _MESSAGE.match(rest)) is not None:
        nick = irclog.bare_nick(m["nick"].strip())
        if not m["text"].strip():
            return None
        return irclog.spoken(number, at, nick, m["text"], MessageKind.CHAT, own)
    if (m := _NOTICE.match(rest)) is not None:
        nick = m["nick"]
        return irclog.spoken(number, at, nick, m["text"], MessageKind.NOTICE, own)
    body = rest.strip()
    return irclog.system_line(number, at, body)


parse_all = irclog.parse_all_with(parse_file)
