"""Pidgin's logs: ``logs/<protocol>/<account>/<buddy>/<YYYY-MM-DD.HHMMSS+ZZZZTZ>.html|.txt``.

* ``<buddy>`` ending in ``.chat`` is a group chat (the room's name without it); ``.system`` holds the
  account's connection log, not a conversation, and is skipped.
* The file name gives the date, time and UTC offset of the conversation's start; each line carries
  ``(HH:MM:SS)`` (a full date after midnight in some versions), in that same offset.
* HTML: one message per line. The sender is in ``<b>``; the colour of the enclosing ``<font>`` says
  who sent it (``#16569E`` the user, ``#A82F2F`` the other side); ``<b>***name</b>`` is a /me action,
  a ``<b>`` without a colour a system line (signed on/off, ...). Bodies are stored as plain text.
* Text: ``(HH:MM:SS) name: text``, ``(HH:MM:SS) ***name text``, ``(HH:MM:SS) system text``; lines
  without a time continue the previous message. The sender is "the user" when the name is the
  account's own address (or its local part); otherwise the other side.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from aggregator.api import ConversationKind, MessageKind
from aggregator.archive.importers.common import Clock, LogFile, LogLine, Skipped, html_to_text, read_text, same_name
from aggregator.archive.records import Direction

SOURCE = "pidgin"
PROTOCOLS = {"jabber": "xmpp", "irc": "irc"}
_NAME = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})\.(?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})"
    r"(?:(?P<off>[+-]\d{4})[A-Za-z]*)?\.(?P<ext>html?|txt)$"
)
_OUT_COLOURS = {"#16569e"}
_IN_COLOURS = {"#a82f2f"}
_HTML_LINE = re.compile(
    r'^(?:<font color="(?P<colour>#[0-9A-Fa-f]{6})">)?\s*<font size="2">\((?P<time>[^)]*)\)</font>\s*'
    r"(?:<b>(?P<head>.*?)</b>)?(?P<rest>.*)$",
    re.DOTALL,
)
_TEXT_LINE = re.compile(r"^\((?P<time>[^)]*)\)\s?(?P<rest>.*)$")
_SYSTEM_HINTS = (" has ", " is ", " are ", " you ", " left", " entered", " joined")


def find_root(directory: Path) -> Path:
    """The ``logs`` directory itself, or ``.purple`` (or any directory holding ``logs``)."""
    return directory / "logs" if (directory / "logs").is_dir() else directory


def log_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (".html", ".htm", ".txt"))


def _start(name: str) -> datetime | None:
    m = _NAME.match(name)
    if m is None:
        return None
    tz = UTC
    if m["off"]:
        sign = -1 if m["off"][0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(m["off"][1:3]), minutes=int(m["off"][3:5])))
    try:
        naive = datetime(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"]))
    except ValueError:
        return None
    return naive.replace(tzinfo=tz) if m["off"] else naive.astimezone()


def parse_file(root: Path, path: Path) -> LogFile | Skipped:
    rel = path.relative_to(root)
    shown = str(rel)
    if len(rel.parts) < 4:
        return Skipped(shown, "not in a <protocol>/<account>/<buddy>/ directory")
    proto_dir, account, buddy = rel.parts[-4], rel.parts[-3], rel.parts[-2]
    if buddy.endswith(".system"):
        return Skipped(shown, "a connection log (.system), not a conversation")
    start = _start(path.name)
    if start is None:
        return Skipped(shown, "the file name is not a Pidgin log name (YYYY-MM-DD.HHMMSS+ZZZZTZ.html or .txt)")
    try:
        text = read_text(path.read_bytes())
    except OSError as exc:
        return Skipped(shown, f"cannot read it: {exc.strerror or exc}")
    kind = ConversationKind.DIRECT
    if buddy.endswith(".chat"):
        kind, buddy = ConversationKind.ROOM, buddy[: -len(".chat")]
    log = LogFile(
        path=shown,
        ident="/".join(rel.parts[-4:]),
        protocol=PROTOCOLS.get(proto_dir.lower(), proto_dir.lower()),
        account=account,
        handle=buddy,
        kind=kind,
    )
    clock = Clock(start)
    html = path.suffix.lower() in (".html", ".htm")
    if html and "<" not in text:
        return Skipped(shown, "not an HTML log")
    (_html_lines if html else _text_lines)(log, text, clock)
    if not log.lines and not log.skipped:
        log.skipped.append(Skipped(shown, "no messages in it"))
    return log


def _direction(log: LogFile, sender: str) -> Direction:
    return Direction.OUT if same_name(sender, log.account) else Direction.IN


def _html_lines(log: LogFile, text: str, clock: Clock) -> None:
    own_names: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("<html", "<head", "<h3", "<meta", "<title", "</body", "</html")):
            continue
        m = _HTML_LINE.match(line)
        if m is None:
            log.skipped.append(Skipped(log.path, "not a message line", number))
            continue
        at = clock.at(m["time"])
        if at is None:
            log.skipped.append(Skipped(log.path, f"unreadable time ({m['time']})", number))
            continue
        head = html_to_text(m["head"] or "")
        rest = re.sub(r"^\s*</font>", "", m["rest"])
        rest = re.sub(r"<br\s*/?>\s*$", "", rest.strip())
        body = html_to_text(rest)
        colour = (m["colour"] or "").lower()
        if head.startswith("***"):
            who = head[3:].strip()
            out = colour in _OUT_COLOURS or who in own_names or same_name(who, log.account)
            entry = LogLine(number, at, who, body, MessageKind.ACTION, Direction.OUT if out else Direction.IN)
        elif head.endswith(":") and m["colour"]:
            who = head[:-1].strip()
            if colour in _OUT_COLOURS:
                direction = Direction.OUT
                own_names.add(who)
            elif colour in _IN_COLOURS:
                direction = Direction.IN
            else:
                direction = _direction(log, who)
            entry = LogLine(number, at, who, body, MessageKind.CHAT, direction)
        else:
            system = " ".join(p for p in (head, body) if p)
            if not system:
                log.skipped.append(Skipped(log.path, "an empty line", number))
                continue
            entry = LogLine(number, at, "", system, MessageKind.SYSTEM, Direction.IN)
        if not entry.body and entry.kind is not MessageKind.ACTION:
            log.skipped.append(Skipped(log.path, "an empty message", number))
            continue
        log.lines.append(entry)


def _text_lines(log: LogFile, text: str, clock: Clock) -> None:
    lines = log.lines
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if number == 1 and line.startswith("Conversation with "):
            continue
        m = _TEXT_LINE.match(line)
        at = None if m is None else clock.at(m["time"])
        if m is not None and at is None and m["time"][:1].isdigit():
            log.skipped.append(Skipped(log.path, f"unreadable time ({m['time']})", number))
            continue
        if m is None or at is None:
            if lines and line.strip():
                last = lines[-1]
                lines[-1] = LogLine(
                    last.line, last.sent_at, last.sender, f"{last.body}\n{line}", last.kind, last.direction
                )
            elif line.strip():
                log.skipped.append(Skipped(log.path, "not a message line", number))
            continue
        rest = m["rest"]
        if rest.startswith("***"):
            who, _, body = rest[3:].partition(" ")
            lines.append(LogLine(number, at, who, body, MessageKind.ACTION, _direction(log, who)))
            continue
        who, sep, body = rest.partition(": ")
        if sep and _looks_like_name(who, log):
            lines.append(LogLine(number, at, who, body, MessageKind.CHAT, _direction(log, who)))
        elif rest.strip():
            lines.append(LogLine(number, at, "", rest.strip(), MessageKind.SYSTEM, Direction.IN))
        else:
            log.skipped.append(Skipped(log.path, "an empty message", number))


def _looks_like_name(who: str, log: LogFile) -> bool:
    """Whether ``who`` (the text before the first ": ") names a sender rather than starts a system line."""
    if same_name(who, log.account) or same_name(who, log.handle):
        return True
    padded = f" {who.casefold()} "
    return len(who.split()) <= 3 and not any(h in padded for h in _SYSTEM_HINTS)


def read(directory: Path) -> tuple[Path, list[Path]]:
    root = find_root(directory)
    return root, log_files(root)


def parse_all(root: Path, files: list[Path]) -> Iterator[LogFile | Skipped]:
    for path in files:
        yield parse_file(root, path)
