"""Trillian's plain-text logs: ``logs/<MEDIUM>/<buddy>.log`` (IRC: ``logs/IRC/Channel/#room.log`` and
``logs/IRC/Query/nick.log``), one file per contact, sessions appended one after the other::

    Session Start (alice123:bob456): Fri Mar 01 12:00:00 2024
    [12:00] alice123: hi bob
    [12:01:30] bob456: hi alice
    [12:02] * alice123 waves
    [12:03] *** bob456 has signed off.
    Session Close (bob456): Fri Mar 01 12:30:00 2024

``Session Start (ACCOUNT:BUDDY)`` names the user's own screen name (sometimes ``MEDIUM - name``) and
the contact; lines from the user's own name are outgoing. Times are local (Trillian writes no zone):
this machine's zone is used. Lines without a time continue the previous message; lines outside a
session are skipped and reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from aggregator.api import ConversationKind, MessageKind
from aggregator.archive.importers.common import Clock, LogFile, LogLine, Skipped, read_text, same_name
from aggregator.archive.records import Direction

SOURCE = "trillian"
MEDIA = {"aim": "aim", "icq": "icq", "msn": "msn", "yahoo": "yahoo", "jabber": "xmpp", "xmpp": "xmpp", "irc": "irc"}
_START = re.compile(r"^Session Start \((?P<account>.*?):(?P<buddy>[^:]*)\): (?P<when>.+)$")
_CLOSE = re.compile(r"^Session Close \((?P<buddy>.*)\):")
_LINE = re.compile(r"^\[(?P<time>[^\]]+)\] (?P<rest>.*)$")
_DATE_FORMATS = ("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M %Y")


def find_root(directory: Path) -> Path:
    for candidate in (directory / "users" / "default" / "logs", directory / "logs"):
        if candidate.is_dir():
            return candidate
    return directory


def log_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == ".log")


def _when(text: str) -> datetime | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(" ".join(text.split()), fmt).astimezone()
        except ValueError:
            continue
    return None


def parse_file(root: Path, path: Path) -> LogFile | Skipped:
    rel = path.relative_to(root)
    shown = str(rel)
    dirs = [d.lower() for d in rel.parts[:-1]]
    medium = next((MEDIA[d] for d in dirs if d in MEDIA), dirs[0] if dirs else "")
    if not medium:
        return Skipped(shown, "not in a <MEDIUM>/ directory (AIM, ICQ, MSN, YAHOO, JABBER, IRC)")
    try:
        text = read_text(path.read_bytes())
    except OSError as exc:
        return Skipped(shown, f"cannot read it: {exc.strerror or exc}")
    kind = ConversationKind.ROOM if "channel" in dirs or path.stem.startswith(("#", "&")) else ConversationKind.DIRECT
    log = LogFile(path=shown, ident="/".join(rel.parts[-3:]), protocol=medium, account="", handle=path.stem, kind=kind)
    clock: Clock | None = None
    lines = log.lines
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        start = _START.match(line)
        if start is not None:
            began = _when(start["when"])
            if began is None:
                clock = None
                log.skipped.append(Skipped(shown, f"unreadable session start date ({start['when']})", number))
                continue
            account = start["account"].strip()
            if " - " in account:
                account = account.split(" - ", 1)[1].strip()
            if not log.account:
                log.account = account
                buddy = start["buddy"].strip()
                if buddy:
                    log.handle = buddy
            clock = Clock(began)
            continue
        if _CLOSE.match(line):
            clock = None
            continue
        m = _LINE.match(line)
        if clock is None:
            log.skipped.append(Skipped(shown, "outside a Session Start / Session Close", number))
            continue
        at = None if m is None else clock.at(m["time"])
        if m is None or at is None:
            if lines:
                last = lines[-1]
                lines[-1] = LogLine(
                    last.line, last.sent_at, last.sender, f"{last.body}\n{line}", last.kind, last.direction
                )
            else:
                log.skipped.append(Skipped(shown, "not a message line", number))
            continue
        rest = m["rest"]
        if rest.startswith("***"):
            lines.append(LogLine(number, at, "", rest.lstrip("* ").strip(), MessageKind.SYSTEM, Direction.IN))
            continue
        if rest.startswith("* "):
            who, _, body = rest[2:].partition(" ")
            lines.append(LogLine(number, at, who, body, MessageKind.ACTION, _direction(log, who)))
            continue
        who, sep, body = rest.partition(": ")
        if not sep:
            lines.append(LogLine(number, at, "", rest.strip(), MessageKind.SYSTEM, Direction.IN))
            continue
        lines.append(LogLine(number, at, who.strip(), body, MessageKind.CHAT, _direction(log, who)))
    if not log.account:
        return Skipped(shown, "no Session Start line: whose log this is is unknown")
    if not lines and not log.skipped:
        log.skipped.append(Skipped(shown, "no messages in it"))
    return log


def _direction(log: LogFile, who: str) -> Direction:
    return Direction.OUT if same_name(who, log.account) else Direction.IN


def read(directory: Path) -> tuple[Path, list[Path]]:
    root = find_root(directory)
    return root, log_files(root)


def parse_all(root: Path, files: list[Path]) -> Iterator[LogFile | Skipped]:
    for path in files:
        yield parse_file(root, path)
