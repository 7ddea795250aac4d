"""Trillian's logs: ``logs/<MEDIUM>/[Query|Channel/]<buddy>.log`` and, since Trillian 3, the same
conversations as XML (``<buddy>.xml``), one file per contact, sessions appended one after the other.

Plain text (every version)::

    Session Start (alice123:bob456): Fri Mar 01 12:00:00 2024
    [12:00] alice123: hi bob
    [12:01:30] bob456: hi alice
    [12:02] * alice123 waves
    [12:03] *** bob456 has signed off.
    Session Close (bob456): Fri Mar 01 12:30:00 2024

``Session Start (ACCOUNT:BUDDY)`` names the user's own screen name (sometimes ``MEDIUM - name``) and
the contact. Early versions (and timestamps switched off) write lines without ``[time]``: they take
the session's start time, or the previous line's. Times are local (Trillian writes no zone): the zone
given with ``--timezone``, else this machine's. Messages may carry the user's display name ("Me", a
nickname) instead of the screen name: see ``common.Identity``.

XML (Trillian 3, 4, 5), one element per line, every value percent-encoded, times in UTC seconds::

    <session type="start" time="1142447323" medium="ICQ" to="192780216" from="192880392"/>
    <message type="outgoing_privateMessage" time="1143128021" ms="0" medium="ICQ" to="192780216"
             from="192880392" from_display="Barade" text="ni%C3%B6x"/>
    <status type="away" time="1142444225" medium="ICQ" from="192780216"/>

The direction is in the type (``outgoing_*`` / ``incoming_*``); ``information_*`` and ``<status>``
are status lines. When a conversation has both a ``.xml`` and a ``.log``, the XML is read (it has
exact times and directions) and the ``.log`` is reported as skipped.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
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
    percent_text,
    read_decoded,
    settle_directions,
)
from aggregator.archive.records import Direction

SOURCE = "trillian"
MEDIA = {
    "aim": "aim",
    "icq": "icq",
    "msn": "msn",
    "yahoo": "yahoo",
    "jabber": "xmpp",
    "xmpp": "xmpp",
    "irc": "irc",
    "skype": "skype",
    "facebook": "facebook",
    "google": "xmpp",
}
_START = re.compile(r"^Session Start \((?P<account>.*?):(?P<buddy>[^:]*)\): (?P<when>.+)$")
_CLOSE = re.compile(r"^Session Close \((?P<buddy>.*)\):")
_LINE = re.compile(r"^\[(?P<time>[^\]]+)\] ?(?P<rest>.*)$")
_SPEAKER = re.compile(r"^(?P<who>[^\s:*\[][^:]{0,63}?): (?P<body>.*)$")
_DATE_FORMATS = ("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M %Y", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S")
_ELEMENT = re.compile(r"^<(?P<tag>[A-Za-z_]+)\b(?P<attrs>[^<>]*)>$")
_ATTR = re.compile(r'([A-Za-z_]+)="([^"]*)"')
_TAGS = re.compile(r"<[A-Za-z/!]")
_AUTO = re.compile(r"\s*<AUTO-REPLY>\s*$", re.IGNORECASE)


def find_root(directory: Path) -> Path:
    for candidate in (directory / "users" / "default" / "logs", directory / "logs"):
        if candidate.is_dir():
            return candidate
    return directory


def log_files(root: Path) -> list[Path]:
    found = [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (".log", ".xml")]
    # XML first: its outgoing messages teach the user's display names, which the .log files do not mark
    return sorted(found, key=lambda p: (p.suffix.lower() == ".log", p))


def detect(directory: Path) -> bool:
    root = find_root(directory)
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix.lower() not in (".log", ".xml"):
            continue
        try:
            with path.open("rb") as f:
                head = f.read(512)
        except OSError:
            continue
        if head.lstrip().startswith((b"Session Start (", b"<session ", b"<message ")):
            return True
    return False


def _medium(rel: Path) -> str:
    dirs = [d.lower() for d in rel.parts[:-1]]
    return next((MEDIA[d] for d in dirs if d in MEDIA), dirs[0] if dirs else "")


def parse_file(
    root: Path, path: Path, options: ReadOptions | None = None, identity: Identity | None = None
) -> LogFile | Skipped:
    options = options or ReadOptions()
    identity = identity or Identity(options.me)
    if path.suffix.lower() == ".xml":
        return _parse_xml(root, path, identity)
    return _parse_log(root, path, options, identity)


# -- plain text -------------------------------------------------------------------------------------


def _when(text: str, zone: tzinfo | None) -> datetime | None:
    for fmt in _DATE_FORMATS:
        try:
            naive = datetime.strptime(" ".join(text.split()), fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()
    return None


def _parse_log(root: Path, path: Path, options: ReadOptions, identity: Identity) -> LogFile | Skipped:
    rel = path.relative_to(root)
    shown = str(rel)
    medium = _medium(rel)
    if not medium:
        return Skipped(shown, "not in a <MEDIUM>/ directory (AIM, ICQ, MSN, YAHOO, JABBER, IRC)")
    twin = path.with_suffix(".xml")
    if twin.is_file():
        return Skipped(shown, f"the same conversations are in {twin.name}, which was read instead")
    decoded = read_decoded(path, shown)
    if isinstance(decoded, Skipped):
        return decoded
    text, how = decoded.text, decoded.how
    dirs = [d.lower() for d in rel.parts[:-1]]
    kind = ConversationKind.ROOM if "channel" in dirs or path.stem.startswith(("#", "&")) else ConversationKind.DIRECT
    log = LogFile(
        path=shown,
        ident="/".join(rel.parts[-3:]),
        protocol=medium,
        account="",
        handle=path.stem,
        kind=kind,
        encoding=how,
    )
    if not text.strip():
        return Skipped(shown, "an empty file")
    clock: Clock | None = None
    timeless = False
    fresh = False  # the session has no line yet: its first one decides whether lines carry times
    lines = log.lines
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        start = _START.match(line)
        if start is not None:
            began = _when(start["when"], options.zone)
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
            clock, fresh = Clock(began, options.zone), True
            continue
        if _CLOSE.match(line):
            clock = None
            continue
        if clock is None:
            log.skipped.append(Skipped(shown, "outside a Session Start / Session Close", number))
            continue
        m = _LINE.match(line)
        if fresh:
            timeless, fresh = m is None, False
        if m is not None:
            at = clock.at(m["time"])
            if at is None:
                log.warnings.append(
                    Skipped(shown, f"unreadable time ({m['time']}): kept the previous line's time", number)
                )
                at = clock.last
            rest = m["rest"]
        elif timeless and (_SPEAKER.match(line) is not None or line.startswith("*")):
            at, rest = clock.last, line
        else:
            if lines:
                last = lines[-1]
                lines[-1] = LogLine(
                    last.line, last.sent_at, last.sender, f"{last.body}\n{line}", last.kind, last.direction
                )
            else:
                log.skipped.append(Skipped(shown, "not a message line", number))
            continue
        lines.append(_entry(number, at, rest))
    if not log.account:
        return Skipped(shown, "no Session Start line: whose log this is is unknown")
    settle_directions(log, identity)
    if not lines and not log.skipped:
        log.skipped.append(Skipped(shown, "no messages in it"))
    return log


def _entry(number: int, at: datetime, rest: str) -> LogLine:
    if rest.startswith("***"):
        return LogLine(number, at, "", rest.lstrip("* ").strip(), MessageKind.SYSTEM, Direction.IN)
    if rest.startswith("* "):
        who, _, body = rest[2:].partition(" ")
        return LogLine(number, at, who, body, MessageKind.ACTION)
    who, sep, body = rest.partition(": ")
    if not sep:
        return LogLine(number, at, "", rest.strip(), MessageKind.SYSTEM, Direction.IN)
    auto = _AUTO.search(who)
    if auto is not None:
        return LogLine(number, at, who[: auto.start()].strip(), body, MessageKind.NOTICE)
    return LogLine(number, at, who.strip(), body, MessageKind.CHAT)


# -- XML --------------------------------------------------------------------------------------------


def _instant(attrs: dict[str, str]) -> datetime | None:
    try:
        seconds = int(attrs.get("time", ""))
        millis = int(attrs.get("ms") or 0)
    except ValueError:
        return None
    if seconds > 10**11:  # some versions write milliseconds
        seconds, millis = divmod(seconds, 1000)
    try:
        return datetime.fromtimestamp(seconds + millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


@functools.lru_cache(maxsize=4096)
def _decoded(raw: str) -> str:
    """An encoded attribute's text; cached, as every line repeats the same ``from``, ``to`` and names."""
    return percent_text(html.unescape(raw) if "&" in raw else raw)


def _body(text: str) -> tuple[str, bool]:
    if _TAGS.search(text):
        return html_text(text)
    return text.replace("\r", "").strip(), False


def _parse_xml(root: Path, path: Path, identity: Identity) -> LogFile | Skipped:
    rel = path.relative_to(root)
    shown = str(rel)
    if path.stem.endswith("-assets"):
        return Skipped(shown, "a list of buddy icons (-assets.xml), not a conversation")
    medium = _medium(rel)
    decoded = read_decoded(path, shown)
    if isinstance(decoded, Skipped):
        return decoded
    text, how = decoded.text, decoded.how
    if not text.strip():
        return Skipped(shown, "an empty file")
    dirs = [d.lower() for d in rel.parts[:-1]]
    kind = ConversationKind.ROOM if "channel" in dirs else ConversationKind.DIRECT
    log = LogFile(
        path=shown,
        ident="/".join(rel.parts[-3:]),
        protocol=medium,
        account="",
        handle=percent_text(path.stem),
        kind=kind,
        encoding=how,
    )
    rows = text.splitlines()
    last_row = len(rows)
    while last_row > 0 and not rows[last_row - 1].strip():
        last_row -= 1
    elements = 0
    last_at: datetime | None = None
    taught: set[tuple[str, ...]] = set()  # what this file already told ``identity`` (once is enough)
    for number, raw in enumerate(rows, start=1):
        line = raw.strip()
        if not line:
            continue
        m = _ELEMENT.match(line)
        if m is None or not m["attrs"].endswith("/"):
            reason = (
                "the file ends inside this element (truncated?): not imported"
                if number == last_row
                else "not a Trillian XML element"
            )
            log.skipped.append(Skipped(shown, reason, number))
            continue
        elements += 1
        # every value as written, or decoded where it holds an escape (hot: no call for the plain ones)
        attrs = {k: v if "%" not in v and "&" not in v else _decoded(v) for k, v in _ATTR.findall(m["attrs"])}
        tag = m["tag"].lower()
        if tag == "session":
            if not medium and attrs.get("medium"):
                log.protocol = MEDIA.get(attrs["medium"].lower(), attrs["medium"].lower())
            if attrs.get("type") == "start" and not log.account and attrs.get("from"):
                log.account = attrs["from"]
                if attrs.get("to"):
                    log.handle = attrs["to"]
            continue
        if tag not in ("message", "status", "filetransfer"):
            continue  # <icon>, <asset>: pictures of people, not conversation
        at = _instant(attrs)
        if at is None and last_at is None:
            log.skipped.append(Skipped(shown, f"unreadable time ({attrs.get('time', '')})", number))
            continue
        if at is None:
            log.warnings.append(
                Skipped(shown, f"unreadable time ({attrs.get('time', '')}): kept the previous line's time", number)
            )
            at = last_at
        assert at is not None
        last_at = at
        entry = _xml_entry(log, number, at, tag, attrs, identity, taught)
        if entry is not None:
            log.lines.append(entry)
    if not elements:
        return Skipped(shown, "not a Trillian XML log (no <session> or <message> element)")
    if not log.protocol:
        log.protocol = "unknown"
    if not log.account:
        log.account = next((e.sender for e in log.lines if e.direction is Direction.OUT), "")
    if not log.account:
        return Skipped(shown, "no <session> element: whose log this is is unknown")
    if not log.lines and not log.skipped:
        log.skipped.append(Skipped(shown, "no messages in it"))
    return log


def _xml_entry(
    log: LogFile,
    number: int,
    at: datetime,
    tag: str,
    attrs: dict[str, str],
    identity: Identity,
    taught: set[tuple[str, ...]],
) -> LogLine | None:
    kind_text = attrs.get("type", "")
    who = attrs.get("from_display") or attrs.get("from", "")
    if tag == "status":
        subject = attrs.get("from_display") or attrs.get("from") or log.handle
        return LogLine(number, at, "", f"{subject} is now {kind_text.lower() or 'unknown'}", MessageKind.SYSTEM)
    if tag == "filetransfer":
        lowered = kind_text.lower()
        link = attrs.get("link", "").replace("\\", "/").rstrip("/")
        if "uninitialize" in lowered or not link or not lowered.startswith(("outgoing", "incoming")):
            return None  # the end of a transfer (closed, cancelled): its start is the message
        out = lowered.startswith("outgoing")
        sender = attrs.get("from", "") if out else who
        return LogLine(
            number,
            at,
            sender,
            f"[file: {link.rsplit('/', 1)[-1]}]",
            MessageKind.CHAT,
            Direction.OUT if out else Direction.IN,
        )
    body, cut = _body(attrs.get("text", ""))
    if cut:
        log.warnings.append(Skipped(log.path, "the message ends inside a tag: kept the text before it", number))
    lowered = kind_text.lower()
    if lowered.startswith("information") or lowered.startswith("system"):
        return LogLine(number, at, "", body, MessageKind.SYSTEM) if body else None
    if lowered.startswith("outgoing"):
        direction = Direction.OUT
        if attrs.get("from") and not log.account:
            log.account = attrs["from"]
        display = attrs.get("from_display")
        if display and ("me", log.protocol, log.account, display) not in taught:
            taught.add(("me", log.protocol, log.account, display))
            identity.learn(log.protocol, log.account, display, "Trillian's outgoing messages")
            log.own_names.setdefault(display, "Trillian's outgoing messages")
    elif lowered.startswith("incoming"):
        direction = Direction.IN
        if ("buddy", log.protocol, log.account, log.handle, who) not in taught:
            taught.add(("buddy", log.protocol, log.account, log.handle, who))
            identity.learn_buddy(log.protocol, log.account, log.handle, who)
    else:
        log.skipped.append(Skipped(log.path, f"an unknown message type ({kind_text or 'none'})", number))
        return None
    if "groupmessage" in lowered:
        log.kind = ConversationKind.ROOM
    kind = MessageKind.ACTION if "action" in lowered else MessageKind.CHAT
    if "auto" in lowered:
        kind = MessageKind.NOTICE
    if not body:
        log.skipped.append(Skipped(log.path, "an empty message", number))
        return None
    return LogLine(number, at, who, body, kind, direction)


def read(directory: Path) -> tuple[Path, list[Path]]:
    root = find_root(directory)
    return root, log_files(root)


def parse_all(root: Path, files: list[Path], options: ReadOptions | None = None) -> Iterator[LogFile | Skipped]:
    return parse_each(parse_file, root, files, options)


FORMAT = LogFormat(
    name="trillian",
    title="Trillian",
    description="Trillian logs, XML (3/4/5) and .log (users/default/logs/<MEDIUM>/<buddy>.xml|.log)",
    detect=detect,
    read=read,
    parse_all=parse_all,
    source=SOURCE,
)
