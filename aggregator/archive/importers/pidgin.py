"""Pidgin's (and Gaim's) logs: ``logs/<protocol>/<account>/<buddy>/<YYYY-MM-DD.HHMMSS+ZZZZTZ>.html|.txt``.

* ``<buddy>`` ending in ``.chat`` is a group chat (the room's name without it); ``.system`` holds the
  account's connection log, not a conversation, and is skipped.
* The file name gives the date, time and (since Pidgin 2) the UTC offset of the conversation's start;
  each line carries ``(HH:MM:SS)`` in the locale's format (``(1:05:00 PM)``, ``(28.05.2006 00:01:00)``
  after midnight in some versions), in that same offset, or in ``--timezone`` when the name has none.
* HTML: one message per line, lower-case from Pidgin, upper-case (``<FONT COLOR=...><B>``) from older
  Gaim. The sender is in ``<b>``; the colour says who sent it (``#16569E`` the user, ``#A82F2F`` the
  other side), which also teaches the user's alias for the text logs; ``<b>***name</b>`` is a /me
  action, ``name &lt;AUTO-REPLY&gt;:`` an automatic reply, a ``<b>`` without a name a status line.
  Bodies are stored as plain text, images as ``[image: name]``, links with their target.
* Text: ``(HH:MM:SS) name: text``, ``(HH:MM:SS) ***name text``, ``(HH:MM:SS) status text``; lines
  without a time continue the previous message. The header names the account.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

from aggregator.api import ConversationKind, MessageKind
from aggregator.archive.importers.common import (
    Clock,
    Identity,
    LogFile,
    LogFormat,
    LogLine,
    ReadOptions,
    Skipped,
    html_text,
    parse_each,
    read_decoded,
    same_name,
    settle_directions,
)
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
    r"^(?P<pre>(?:<(?:font|span)\b[^>]*>\s*)*)\((?P<time>[^()<>]*\d[^()<>]*)\)\s*(?:</(?:font|span)>\s*)*"
    r"(?:<b>(?P<head>.*?)</b>)?(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_COLOUR = re.compile(r"""color\s*[=:]\s*["']?\s*(#[0-9a-f]{6})""", re.IGNORECASE)
_HEADER_TAGS = ("<html", "<head", "<h3", "<meta", "<title", "<body", "</body", "</html", "<hr", "<!doctype")
_LINE_END = re.compile(r"(?:<br\s*/?>|</html>|</body>|</h3>)\s*$", re.IGNORECASE)
_TITLE = re.compile(r"Conversation with (?P<buddy>.+?) at (?P<when>.+?) on (?P<account>.+?) \((?P<proto>[^()]+)\)")
_TEXT_LINE = re.compile(r"^\((?P<time>[^)]*)\)\s?(?P<rest>.*)$")
_SYSTEM_HINTS = (" has ", " is ", " are ", " you ", " left", " entered", " joined", " logged ")
_AUTO = re.compile(r"\s*<AUTO-REPLY>\s*$", re.IGNORECASE)
_CLOSERS = re.compile(r"^\s*(?:</(?:font|span)>\s*)*", re.IGNORECASE)
_BR_END = re.compile(r"<br\s*/?>\s*$", re.IGNORECASE)


def find_root(directory: Path) -> Path:
    """The ``logs`` directory itself, or ``.purple`` (or any directory holding ``logs``)."""
    return directory / "logs" if (directory / "logs").is_dir() else directory


def log_files(root: Path) -> list[Path]:
    found = [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (".html", ".htm", ".txt")]
    # HTML first: its colours teach the user's aliases, which the text logs do not mark
    return sorted(found, key=lambda p: (p.suffix.lower() == ".txt", p))


def detect(directory: Path) -> bool:
    root = find_root(directory)
    for path in root.rglob("*"):
        if path.is_file() and _NAME.match(path.name) and len(path.relative_to(root).parts) >= 4:
            return True
    return False


def _start(name: str, zone: tzinfo | None) -> datetime | None:
    m = _NAME.match(name)
    if m is None:
        return None
    try:
        naive = datetime(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"]))
    except ValueError:
        return None
    if m["off"]:
        sign = -1 if m["off"][0] == "-" else 1
        return naive.replace(tzinfo=timezone(sign * timedelta(hours=int(m["off"][1:3]), minutes=int(m["off"][3:5]))))
    return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()


def parse_file(
    root: Path, path: Path, options: ReadOptions | None = None, identity: Identity | None = None
) -> LogFile | Skipped:
    options = options or ReadOptions()
    identity = identity or Identity(options.me)
    rel = path.relative_to(root)
    shown = str(rel)
    if len(rel.parts) < 4:
        return Skipped(shown, "not in a <protocol>/<account>/<buddy>/ directory")
    proto_dir, account, buddy = rel.parts[-4], rel.parts[-3], rel.parts[-2]
    if buddy.endswith(".system"):
        return Skipped(shown, "a connection log (.system), not a conversation")
    start = _start(path.name, options.zone)
    if start is None:
        return Skipped(shown, "the file name is not a Pidgin log name (YYYY-MM-DD.HHMMSS+ZZZZTZ.html or .txt)")
    decoded = read_decoded(path, shown)
    if isinstance(decoded, Skipped):
        return decoded
    text = decoded.text
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
        encoding=decoded.how,
    )
    if not text.strip():
        log.skipped.append(Skipped(shown, "an empty file"))
        return log
    clock = Clock(start, options.zone)
    html = path.suffix.lower() in (".html", ".htm")
    if html and "<" not in text:
        return Skipped(shown, "not an HTML log")
    buddies: set[str] = set()
    if html:
        _html_lines(log, text, clock, identity, buddies)
    else:
        _text_lines(log, text, clock, identity)
    settle_directions(log, identity, buddies)
    if not log.lines and not log.skipped:
        log.skipped.append(Skipped(shown, "no messages in it"))
    return log


def _unreadable(log: LogFile, clock: Clock, number: int, shown_time: str) -> datetime:
    log.warnings.append(Skipped(log.path, f"unreadable time ({shown_time}): kept the previous line's time", number))
    return clock.last


def _html_lines(log: LogFile, text: str, clock: Clock, identity: Identity, buddies: set[str]) -> None:
    lines = text.splitlines()
    last = len(lines)
    while last > 0 and not lines[last - 1].strip():
        last -= 1
    learned: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line[0] == "<" and line[:9].lower().startswith(_HEADER_TAGS):
            continue
        m = _HTML_LINE.match(line)
        if m is None:
            log.skipped.append(Skipped(log.path, "not a message line", number))
            continue
        at = clock.at(m["time"])
        if at is None:
            at = _unreadable(log, clock, number, m["time"])
        head, head_cut = html_text(m["head"] or "")
        rest = _BR_END.sub("", _CLOSERS.sub("", m["rest"]).strip())
        body, cut = html_text(rest)
        if number == last and (cut or head_cut or not _LINE_END.search(line)):
            log.warnings.append(
                Skipped(log.path, "the file ends inside this line (truncated?): kept the text before the cut", number)
            )
        found = _COLOUR.search(m["pre"] or "")
        colour = found.group(1).lower() if found else ""
        if head.startswith("***"):
            who = head[3:].strip()
            if colour in _OUT_COLOURS:
                identity.learn(log.protocol, log.account, who, "shown in Pidgin's colour for you")
            entry = LogLine(number, at, who, body, MessageKind.ACTION)
        elif head.endswith(":"):
            who = head[:-1].strip()
            kind = MessageKind.CHAT
            auto = _AUTO.search(who)
            if auto is not None:
                who, kind = who[: auto.start()].strip(), MessageKind.NOTICE
            if colour in _OUT_COLOURS:
                if who not in learned:  # once per name and file: learning again changes nothing
                    learned.add(who)
                    identity.learn(log.protocol, log.account, who, "shown in Pidgin's colour for you")
            elif colour in _IN_COLOURS:
                buddies.add(who)
            entry = LogLine(number, at, who, body, kind)
        else:
            status = " ".join(p for p in (head, body) if p)
            if not status:
                log.skipped.append(Skipped(log.path, "an empty line", number))
                continue
            entry = LogLine(number, at, "", status, MessageKind.SYSTEM)
        if not entry.body and entry.kind is not MessageKind.ACTION:
            log.skipped.append(Skipped(log.path, "an empty message", number))
            continue
        log.lines.append(entry)


def _text_lines(log: LogFile, text: str, clock: Clock, identity: Identity) -> None:
    lines = log.lines
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if number == 1 and line.startswith("Conversation with "):
            title = _TITLE.search(line)
            if title is not None:
                shown = title["account"].split("/", 1)[0].strip()
                identity.learn(log.protocol, log.account, shown, "the account named in the log's header")
            continue
        m = _TEXT_LINE.match(line)
        at = None if m is None else clock.at(m["time"])
        if m is not None and at is None and m["time"][:1].isdigit():
            at = _unreadable(log, clock, number, m["time"])
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
            lines.append(LogLine(number, at, who, body, MessageKind.ACTION))
            continue
        who, sep, body = rest.partition(": ")
        auto = _AUTO.search(who) if sep else None
        if auto is not None:
            lines.append(LogLine(number, at, who[: auto.start()].strip(), body, MessageKind.NOTICE))
        elif sep and _looks_like_name(who, log):
            lines.append(LogLine(number, at, who, body, MessageKind.CHAT))
        elif rest.strip():
            lines.append(LogLine(number, at, "", rest.strip(), MessageKind.SYSTEM, Direction.IN))


def _looks_like_name(who: str, log: LogFile) -> bool:
    """Whether ``who`` (the text before the first ": ") names a sender rather than starts a status line."""
    if same_name(who, log.account) or same_name(who, log.handle):
        return True
    padded = f" {who.casefold()} "
    return len(who.split()) <= 3 and not any(h in padded for h in _SYSTEM_HINTS)


def read(directory: Path) -> tuple[Path, list[Path]]:
    root = find_root(directory)
    return root, log_files(root)


def parse_all(root: Path, files: list[Path], options: ReadOptions | None = None) -> Iterator[LogFile | Skipped]:
    return parse_each(parse_file, root, files, options)


FORMAT = LogFormat(
    name="pidgin",
    title="Pidgin",
    description="Pidgin/Gaim logs (.purple/logs: <protocol>/<account>/<buddy>/<date>.html|.txt)",
    detect=detect,
    read=read,
    parse_all=parse_all,
    source=SOURCE,
)
