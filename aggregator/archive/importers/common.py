"""What the log readers produce, and the helpers they share (HTML to plain text, clock times)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from html.parser import HTMLParser

from aggregator.api import ConversationKind, MessageKind
from aggregator.archive.records import Direction


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something not imported: a whole file (``line`` None) or one line of it, and why."""

    file: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LogLine:
    """One message of a log file. ``line`` is its (1-based) line number, part of its identity."""

    line: int
    sent_at: datetime
    sender: str
    body: str
    kind: MessageKind = MessageKind.CHAT
    direction: Direction = Direction.IN


@dataclass(slots=True)
class LogFile:
    """One parsed log file: whose it is (protocol + account address), with whom, and its messages.

    ``ident`` names the file stably whatever directory the user pointed the import at (the last
    path components below the log root), so that the messages' server ids do not depend on it.
    """

    path: str
    ident: str
    protocol: str
    account: str
    handle: str
    kind: ConversationKind
    lines: list[LogLine] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(slots=True)
class ImportSummary:
    files: int = 0
    inserted: int = 0
    duplicates: int = 0
    conversations: set[tuple[str, str]] = field(default_factory=set)
    accounts_created: list[str] = field(default_factory=list)
    skipped_files: list[Skipped] = field(default_factory=list)
    skipped_lines: list[Skipped] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return self.inserted + self.duplicates


def server_id(source: str, ident: str, entry: LogLine) -> str:
    """The deterministic id of one imported line: the same file line always gets the same id."""
    digest = hashlib.sha256(
        "\x00".join((ident, str(entry.line), entry.sent_at.isoformat(), entry.sender, entry.body)).encode()
    ).hexdigest()
    return f"import:{source}:{digest[:40]}"


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment: tags dropped, entities decoded, ``<br>`` as a newline."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in ("script", "style", "head", "title"):
            self._skip += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (never any markup)."""
    parser = _TextOnly()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts).replace("\r", "").strip()


_CLOCK = re.compile(
    r"^(?:(?P<date>\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4})\s+)?"
    r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?$"
)


def _parse_date(text: str) -> date | None:
    parts = re.split(r"[-/.]", text)
    try:
        a, b, c = (int(p) for p in parts)
        if len(parts[0]) == 4:
            return date(a, b, c)  # YYYY-MM-DD
        if len(parts[2]) == 4:
            return date(c, a, b)  # MM/DD/YYYY, as Pidgin writes it in the US locale
    except ValueError:
        return None
    return None


class Clock:
    """Turns the clock times of a log (``12:00:05``, ``1:05 PM``, ``03/02/2024 00:01:00``) into instants.

    Times without a date follow the previous line's day; a time more than two hours earlier than the
    previous one means midnight has passed (a smaller step back is a clock correction or DST).
    """

    def __init__(self, start: datetime) -> None:
        self._day = start.date()
        self._tz: tzinfo | None = start.tzinfo
        self._last = start.replace(tzinfo=None)

    def at(self, text: str) -> datetime | None:
        m = _CLOCK.match(text.strip())
        if m is None:
            return None
        hour, minute, second = int(m["h"]), int(m["m"]), int(m["s"] or 0)
        if m["ampm"]:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if m["ampm"][0] in "Pp" else 0)
        if hour > 23 or minute > 59 or second > 60:
            return None
        clock = time(hour, minute, min(second, 59))
        if m["date"]:
            day = _parse_date(m["date"])
            if day is None:
                return None
            value = datetime.combine(day, clock)
        else:
            value = datetime.combine(self._day, clock)
            if value < self._last - timedelta(hours=2):
                value += timedelta(days=1)
        self._day = value.date()
        self._last = value
        return value.replace(tzinfo=self._tz) if self._tz is not None else value.astimezone()


def read_text(raw: bytes) -> str:
    """A log file's text: UTF-8, or Latin-1 for the old ones that were written in the locale's charset."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def same_name(a: str, b: str) -> bool:
    """Whether two names of a participant are the same (case-insensitive, resource and ``@server`` ignored)."""

    def norm(s: str) -> str:
        return s.strip().split("/", 1)[0].casefold()

    na, nb = norm(a), norm(b)
    return bool(na) and (na == nb or na.split("@", 1)[0] == nb or nb.split("@", 1)[0] == na)
