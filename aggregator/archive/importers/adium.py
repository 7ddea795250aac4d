"""Adium's logs: ``Logs/<Service>.<account>/<buddy>/...``, in two formats.

* ``<buddy> (<start>).chatlog``: XML (``<chat account= service=>`` with ``<message sender= time= alias=>``,
  ``<status type= sender= time=>`` and ``<event>``); Adium 1.2+ keeps it in a ``.chatlog`` bundle
  directory holding ``<buddy> (<start>).xml``. Times carry their UTC offset. The user's own messages are
  the ones whose ``sender`` is the ``account``. Message bodies are XHTML, stored as plain text (a link
  keeps its target). Status changes are stored as system lines; window events are not messages.
* ``<buddy> (YYYY-MM-DD).AdiumHTMLLog`` (or ``(YYYY|MM|DD)``), older: one ``<div class="send|receive">``
  per message with a clock time, ``<div class="status">text (time)</div>`` for status lines. No zone:
  ``--timezone`` or this machine's zone. ``send`` is the user's own message.
* A group chat is a log with more than one sender besides the account.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, datetime, tzinfo
from pathlib import Path

from aggregator.api import ConversationKind, MessageKind
from aggregator.archive.importers.common import Clock, LogFile, LogLine, Skipped, html_to_text, read_text, same_name
from aggregator.archive.importers.irclog import as_local
from aggregator.archive.records import Direction

SOURCE = "adium"
TITLE = "Adium"
DESCRIPTION = "Adium's logs (Logs/<Service>.<account>/<buddy>/*.chatlog or *.AdiumHTMLLog)"
SERVICES = {
    "jabber": "xmpp",
    "gtalk": "xmpp",
    "livejournal": "xmpp",
    "facebook": "xmpp",
    "aim": "aim",
    "mac": "aim",
    "icq": "icq",
    "msn": "msn",
    "yahoo!": "yahoo",
    "yahoo": "yahoo",
    "irc": "irc",
    "bonjour": "bonjour",
}
_NS = "{http://purl.org/net/ulf/ns/0.4-02}"
_HTML_DATE = re.compile(r"\((?P<y>\d{4})[-|](?P<m>\d{2})[-|](?P<d>\d{2})\)")
_DIV = re.compile(r'<div class="(?P<cls>[a-z]+)">(?P<inner>.*?)</div>\s*?(?:\n|$)', re.DOTALL)
_HTML_MESSAGE = re.compile(
    r'^<span class="timestamp">(?P<time>[^<]*)</span>\s*<span class="sender">(?P<sender>.*?)</span>'
    r'\s*<pre class="message">(?P<body>.*)</pre>\s*$',
    re.DOTALL,
)
_STATUS_TIME = re.compile(r"\s*\((?P<time>\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?)\)\s*$")
_STATUS_LABELS = {
    "online": "is online",
    "available": "is available",
    "away": "is away",
    "idle": "is idle",
    "offline": "went offline",
    "mobile": "is mobile",
    "returnAway": "is back",
    "invisible": "is invisible",
}


def detect(directory: Path) -> bool:
    return any(path.name.endswith((".chatlog", ".AdiumHTMLLog")) for path in directory.rglob("*"))


def find_root(directory: Path) -> Path:
    for candidate in (directory / "Logs", directory / "Users" / "Default" / "Logs"):
        if candidate.is_dir():
            return candidate
    return directory


def log_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if path.name.endswith((".chatlog", ".AdiumHTMLLog")) or (
            path.suffix == ".xml" and path.parent.name.endswith(".chatlog")
        ):
            found.append(path)
    return sorted(found)


def read(directory: Path) -> tuple[Path, list[Path]]:
    root = find_root(directory)
    return root, log_files(root)


def _where(rel: Path) -> tuple[str, str, str, list[str]] | None:
    """(protocol, account, buddy, ident parts) from ``<Service>.<account>/<buddy>/...``."""
    parts = list(rel.parts)
    for i, part in enumerate(parts[:-1]):
        service, dot, account = part.partition(".")
        if dot and account and service.lower() in SERVICES and i + 1 < len(parts) - 1:
            return SERVICES[service.lower()], account, parts[i + 1], parts[i:]
    return None


def parse_file(root: Path, path: Path, *, zone: tzinfo | None = None) -> LogFile | Skipped:
    rel = path.relative_to(root)
    shown = str(rel)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Skipped(shown, f"cannot read it: {exc.strerror or exc}")
    if b"\x00" in raw:
        return Skipped(shown, "a binary file, not an Adium log")
    where = _where(rel)
    if path.name.endswith(".AdiumHTMLLog"):
        if where is None:
            return Skipped(shown, "not in a <Service>.<account>/<buddy>/ directory")
        protocol, account, buddy, ident = where
        log = LogFile(shown, "/".join(ident), protocol, account, buddy, ConversationKind.DIRECT)
        _html(log, read_text(raw), path.name, zone)
    else:
        log_or_skip = _xml(shown, raw, where)
        if isinstance(log_or_skip, Skipped):
            return log_or_skip
        log = log_or_skip
    others = {e.sender.casefold() for e in log.lines if e.kind is MessageKind.CHAT and e.direction is Direction.IN}
    if len(others) > 1:
        log.kind = ConversationKind.ROOM
    if not log.lines and not log.skipped:
        return Skipped(shown, "no messages in it")
    return log


def _xml(shown: str, raw: bytes, where: tuple[str, str, str, list[str]] | None) -> LogFile | Skipped:
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    root_attrs: dict[str, str] | None = None
    elements: list[tuple[ET.Element, int]] = []
    depth = 0
    problem: str | None = None

    def drain() -> None:
        nonlocal depth, root_attrs
        for item in parser.read_events():
            pair: tuple[object, ...] = tuple(item)
            event, element = pair[0], pair[-1]
            if not isinstance(element, ET.Element):
                continue
            if event == "start":
                depth += 1
                if depth == 1:
                    root_attrs = dict(element.attrib)
            else:
                depth -= 1
                if depth == 1:
                    # A line's identity is its position in the chat (the n-th element), not its line number.
                    elements.append((element, len(elements) + 1))

    try:
        for start in range(0, len(raw), 1 << 16):
            parser.feed(raw[start : start + (1 << 16)])
            drain()
        parser.close()
        drain()
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else "?"
        problem = f"damaged XML at line {line} ({exc}): the messages before it are kept"
    if root_attrs is None:
        return Skipped(shown, "not an Adium chat log (no <chat> element)")
    account = root_attrs.get("account", "")
    service = root_attrs.get("service", "")
    if where is not None:
        protocol, dir_account, buddy, ident = where
        account = account or dir_account
    else:
        protocol, buddy, ident = SERVICES.get(service.lower(), service.lower()), "", [shown]
    if not account:
        return Skipped(shown, "no account: not in a <Service>.<account>/ directory and no account attribute")
    if not buddy:
        buddy = re.sub(r"\s*\(.*$", "", Path(shown).name)
    log = LogFile(shown, "/".join(ident), protocol, account, buddy, ConversationKind.DIRECT)
    for element, number in elements:
        entry = _xml_entry(element, number, log)
        if isinstance(entry, Skipped):
            log.skipped.append(entry)
        elif entry is not None:
            log.lines.append(entry)
    if problem is not None:
        log.skipped.append(Skipped(shown, problem))
    return log


def _time(text: str) -> datetime | None:
    value = text.strip()
    if re.search(r"[+-]\d{4}$", value):
        value = value[:-2] + ":" + value[-2:]
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.astimezone()


def _inner_text(element: ET.Element) -> str:
    """The plain text of a message's XHTML: text as written, ``<br/>`` a line break, a link keeps its
    target, an image is ``[image: name]``; U+FFFC (an attachment's placeholder) dropped."""
    parts: list[str] = []

    def walk(node: ET.Element) -> None:
        tag = node.tag.rpartition("}")[2]
        if tag == "br":
            parts.append("\n")
        elif tag == "img":
            name = node.get("alt") or node.get("src") or ""
            parts.append(f"[image: {name}]" if name else "[image]")
        else:
            if node.text:
                parts.append(node.text)
            for child in node:
                walk(child)
                if child.tail:
                    parts.append(child.tail)
            if tag == "a":
                href, label = node.get("href") or "", "".join(node.itertext())
                if href and href != label and not href.startswith("mailto:"):
                    parts.append(f" ({href})")

    if element.text:
        parts.append(element.text)
    for child in element:
        walk(child)
        if child.tail:
            parts.append(child.tail)
    return "".join(parts).replace("\ufffc", "").replace("\r", "").strip()


def _xml_entry(element: ET.Element, number: int, log: LogFile) -> LogLine | Skipped | None:
    tag = element.tag.removeprefix(_NS)
    if tag == "event":
        return None
    at = _time(element.get("time", ""))
    if at is None:
        return Skipped(log.path, f"unreadable time ({element.get('time', '')})", number)
    sender = element.get("sender", "")
    alias = element.get("alias", "")
    text = _inner_text(element)
    if tag == "message":
        if not text:
            return Skipped(log.path, "an empty message", number)
        out = same_name(sender, log.account)
        return LogLine(number, at, alias or sender, text, MessageKind.CHAT, Direction.OUT if out else Direction.IN)
    if tag == "status":
        kind = element.get("type", "")
        who = alias or sender
        label = _STATUS_LABELS.get(kind)
        if label and who:
            body = f"{who} {label}" + (f": {text}" if text else "")
        else:
            body = text or (f"{who} {kind}" if who else kind)
        if not body:
            return Skipped(log.path, "an empty status line", number)
        return LogLine(number, at, "", body, MessageKind.SYSTEM, Direction.IN)
    return Skipped(log.path, f"not a message (<{tag}>)", number)


def _html(log: LogFile, text: str, name: str, zone: tzinfo | None) -> None:
    m = _HTML_DATE.search(name)
    if m is None:
        log.skipped.append(Skipped(log.path, "no date in the file name (buddy (YYYY-MM-DD).AdiumHTMLLog)"))
        return
    day = date(int(m["y"]), int(m["m"]), int(m["d"]))
    clock = Clock(as_local(datetime.combine(day, datetime.min.time()), zone))
    end = 0
    for div in _DIV.finditer(text):
        number = text.count("\n", 0, div.start()) + 1
        gap = text[end : div.start()].strip()
        if gap:
            log.skipped.append(Skipped(log.path, "not a message line", text.count("\n", 0, end) + 1))
        end = div.end()
        cls, inner = div["cls"], div["inner"]
        if cls in ("send", "receive"):
            mm = _HTML_MESSAGE.match(inner)
            if mm is None:
                log.skipped.append(Skipped(log.path, "not a message line", number))
                continue
            at = clock.at(mm["time"])
            if at is None:
                log.skipped.append(Skipped(log.path, f"unreadable time ({mm['time']})", number))
                continue
            sender = html_to_text(mm["sender"]).rstrip(":").strip()
            body = _html_body(mm["body"])
            if not body:
                log.skipped.append(Skipped(log.path, "an empty message", number))
                continue
            direction = Direction.OUT if cls == "send" else Direction.IN
            log.lines.append(LogLine(number, at, sender, body, MessageKind.CHAT, direction))
        elif cls == "status":
            st = _STATUS_TIME.search(inner)
            if st is None:
                log.skipped.append(Skipped(log.path, "a status line without a time", number))
                continue
            # A status line's clock time is on the file's day: it does not move the conversation's clock.
            at = Clock(as_local(datetime.combine(day, datetime.min.time()), zone)).at(st["time"])
            body = html_to_text(inner[: st.start()]).replace("\ufffc", "").strip()
            if at is None or not body:
                log.skipped.append(Skipped(log.path, "an unreadable status line", number))
                continue
            log.lines.append(LogLine(number, at, "", body, MessageKind.SYSTEM, Direction.IN))
        else:
            log.skipped.append(Skipped(log.path, f"not a message line (class {cls})", number))
    tail = text[end:].strip()
    if tail:
        log.skipped.append(Skipped(log.path, "an incomplete last line (truncated file?)", text.count("\n", 0, end) + 1))


def _html_body(fragment: str) -> str:
    def link(m: re.Match[str]) -> str:
        href, label = m["href"], html_to_text(m["label"])
        return label if href == label or not href else f"{label} ({href})"

    fragment = re.sub(r'<a [^>]*href="(?P<href>[^"]*)"[^>]*>(?P<label>.*?)</a>', link, fragment, flags=re.DOTALL)
    return html_to_text(fragment.replace("<br>", "\n").replace("<br />", "\n").replace("<br/>", "\n"))


def parse_all(root: Path, files: list[Path], *, zone: tzinfo | None = None) -> Iterator[LogFile | Skipped]:
    for path in files:
        yield parse_file(root, path, zone=zone)
