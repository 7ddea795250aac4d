"""What the log readers produce, and the helpers they share (decoding, HTML to plain text, clock
times in every locale, who the user is)."""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from aggregator.api import ConversationKind, MessageKind
from aggregator.archive.records import Direction


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something not imported (or imported with a caveat): a whole file (``line`` None) or one line
    of it, and why."""

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


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the user tells a reader: names that are the user's own (``--me``), and the zone of
    logs written without one (``--timezone``; None is this machine's local zone)."""

    me: tuple[str, ...] = ()
    zone: tzinfo | None = None


@dataclass(slots=True)
class LogFile:
    """One parsed log file: whose it is (protocol + account address), with whom, and its messages.

    ``ident`` names the file stably whatever directory the user pointed the import at (the last
    path components below the log root), so that the messages' server ids do not depend on it.
    ``warnings`` are lines that were imported with a caveat (a guessed time, a truncated end);
    ``encoding`` says how the bytes were decoded; ``own_names`` the names taken as the user's and why.
    """

    path: str
    ident: str
    protocol: str
    account: str
    handle: str
    kind: ConversationKind
    lines: list[LogLine] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)
    encoding: str = "UTF-8"
    own_names: dict[str, str] = field(default_factory=dict)


#: A format's reader: the log root and its candidate files from the directory the user named.
Reader = Callable[[Path], tuple[Path, list[Path]]]
#: A format's parser: each file of ``read``'s list as a ``LogFile`` (or why it was skipped).
Parser = Callable[[Path, list[Path], ReadOptions], Iterator["LogFile | Skipped"]]


@dataclass(frozen=True, slots=True)
class LogFormat:
    """One client's log format, as the registry (``formats.py``) lists it: an importer module
    defines ``FORMAT = LogFormat(...)`` and is found by that name alone."""

    name: str  #: the CLI word: ``aggregator import NAME DIR``
    title: str  #: shown to people: "Pidgin"
    description: str  #: one line for ``--help``
    detect: Callable[[Path], bool]  #: whether a directory holds this format's logs (cheap)
    read: Reader
    parse_all: Parser
    #: Prefix of the imported messages' server ids (keep it stable: it makes a re-import a no-op).
    source: str = ""

    def parse(
        self, root: Path, files: list[Path], me: Iterable[str] = (), zone: tzinfo | None = None
    ) -> Iterator[LogFile | Skipped]:
        """``parse_all`` with the user's names and zone given one by one."""
        return self.parse_all(root, files, ReadOptions(tuple(me), zone))


@dataclass(frozen=True, slots=True)
class FileReport:
    """One file's line in the ``-v`` summary."""

    path: str
    messages: int
    skipped: int
    warnings: int
    encoding: str


@dataclass(slots=True)
class ImportSummary:
    files: int = 0
    inserted: int = 0
    duplicates: int = 0
    #: Status and system lines among the messages read (stored as their own kind).
    status_lines: int = 0
    #: Messages of an earlier import now known to be the user's (``--me``) and marked outgoing.
    corrected: int = 0
    conversations: set[tuple[str, str]] = field(default_factory=set)
    accounts_created: list[str] = field(default_factory=list)
    skipped_files: list[Skipped] = field(default_factory=list)
    skipped_lines: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)
    #: How files not in plain UTF-8 were decoded: description -> files.
    encodings: dict[str, list[str]] = field(default_factory=dict)
    #: The names taken as the user's own, and why.
    own_names: dict[str, str] = field(default_factory=dict)
    #: Log buddies mapped onto an existing contact of the account: (log name, contact handle).
    joined_contacts: set[tuple[str, str]] = field(default_factory=set)
    per_file: list[FileReport] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return self.inserted + self.duplicates


def server_id(source: str, ident: str, entry: LogLine) -> str:
    """The deterministic id of one imported line: the same file line always gets the same id."""
    key = f"{ident}\x00{entry.line}\x00{entry.sent_at.isoformat()}\x00{entry.sender}\x00{entry.body}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"import:{source}:{digest[:40]}"


# -- decoding ---------------------------------------------------------------------------------------

_DECLARED = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_NAMES = {"cp1252": "Windows-1252", "utf-8": "UTF-8", "latin-1": "Latin-1", "iso8859-1": "Latin-1"}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    #: "UTF-8", "Windows-1252", "ISO-8859-2 (declared)", "UTF-8, 2 lines Windows-1252", ...
    how: str


def _codec(name: bytes) -> str | None:
    try:
        return codecs.lookup(name.decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None


def decode(raw: bytes) -> Decoded:
    """A log file's text, never silently wrong: UTF-8 where the bytes are UTF-8 (line by line, so one
    stray byte spoils only its own line), else the file's declared charset, else Windows-1252. Bytes
    that fit none become U+FFFD, and ``how`` says so."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoded(raw.decode("utf-16", errors="replace"), "UTF-16")
    try:
        return Decoded(raw.decode("utf-8-sig"), "UTF-8")
    except UnicodeDecodeError:
        pass
    found = _DECLARED.search(raw[:2048])
    declared = _codec(found.group(1)) if found else None
    fallback = declared if declared not in (None, "utf-8", "ascii") else "cp1252"
    assert fallback is not None
    shown = _NAMES.get(fallback, fallback.upper())
    if fallback == declared:
        shown = f"{shown} (declared)"
    lines = raw.split(b"\n")
    out: list[str] = []
    other = replaced = non_ascii = 0
    for line in lines:
        if not line.isascii():
            non_ascii += 1
        try:
            out.append(line.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            other += 1
        try:
            out.append(line.decode(fallback))
        except UnicodeDecodeError:
            replaced += 1
            out.append(line.decode(fallback, errors="replace"))
    text = "\n".join(out).removeprefix("\ufeff")
    how = shown if other == non_ascii else f"UTF-8, {other} line{'s' if other != 1 else ''} {shown}"
    if replaced:
        how += f", {replaced} with unreadable bytes shown as \ufffd"
    return Decoded(text, how)


def read_text(raw: bytes) -> str:
    """A log file's text (see ``decode``)."""
    return decode(raw).text


def read_decoded(path: Path, shown: str) -> Decoded | Skipped:
    """The decoded text of the log file at ``path``, or why it is skipped (unreadable, or binary)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Skipped(shown, f"cannot read it: {exc.strerror or exc}")
    if b"\x00" in raw[:4096]:
        return Skipped(shown, "a binary file, not a log")
    return decode(raw)


# -- HTML -------------------------------------------------------------------------------------------

_SAFE_SCHEMES = ("http", "https", "ftp", "mailto", "xmpp", "irc", "ircs", "file", "aim", "ymsgr", "skype")


def _image_name(attrs: dict[str, str | None]) -> str:
    src = (attrs.get("src") or "").strip()
    if src and not src.lower().startswith("data:"):
        name = unquote(src.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1])
        if name:
            return name
    for key in ("alt", "title"):
        value = (attrs.get(key) or "").strip()
        if value:
            return value
    if attrs.get("id"):
        return f"image {attrs['id']}"
    return "image"


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment: tags dropped, entities decoded, ``<br>`` as a newline,
    an image as ``[image: name]``, a link as its text followed by its target."""

    def __init__(self, *, rich: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._links: list[tuple[str, int]] = []
        self._rich = rich

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif not self._rich:
            if tag in ("script", "style", "head", "title"):
                self._skip += 1
        elif tag == "img":
            self.parts.append(f"[image: {_image_name(dict(attrs))}]")
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            self._links.append((href, len(self.parts)))
        elif tag in ("script", "style", "head", "title"):
            self._skip += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img"):
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title") and self._skip:
            self._skip -= 1
        elif tag == "a" and self._links and self._rich:
            href, start = self._links.pop()
            text = "".join(self.parts[start:]).strip()
            scheme = urlsplit(href).scheme.lower()
            if not href or scheme not in _SAFE_SCHEMES:
                return
            shown = href.removeprefix("mailto:") if scheme == "mailto" else href
            if not text:
                self.parts.append(shown)
            elif text not in (href, shown):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(fragment: str) -> tuple[str, bool]:
    """Plain text of an HTML fragment (never any markup), and whether it ended inside a tag (a
    truncated file): the partial tag is dropped, not kept as text."""
    if "<" not in fragment and "&" not in fragment:  # plain text (most lines): what the parser would give
        return fragment.replace("\r", "").replace("\xa0", " ").strip(), False
    parser = _TextOnly()
    parser.feed(fragment)
    truncated = False
    rest = parser.rawdata
    if rest.lstrip().startswith("<"):
        truncated = True
        parser.rawdata = ""
    parser.close()
    text = "".join(parser.parts).replace("\r", "").replace("\xa0", " ").strip()
    return text, truncated


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (never any markup): only the text, images and link targets
    dropped (``html_text`` keeps them as ``[image: name]`` and ``text (URL)``)."""
    parser = _TextOnly(rich=False)
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts).replace("\r", "").strip()


_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_PERCENT_BYTES = {a + b: chr(int(a + b, 16)) for a in "0123456789ABCDEFabcdef" for b in "0123456789ABCDEFabcdef"}


def percent_text(value: str) -> str:
    """A percent-encoded value (Trillian's XML): UTF-8 where it is, else Windows-1252."""
    if "%" not in value:
        return value
    if value.isascii():  # the usual case, decoded as ``unquote`` does but without its per-escape Python loop
        parts = _PERCENT.split(value)
        parts[1::2] = [_PERCENT_BYTES[h] for h in parts[1::2]]
        try:
            return "".join(parts).encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return unquote(value, encoding="cp1252", errors="replace")
    try:
        return unquote(value, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return unquote(value, encoding="cp1252", errors="replace")


# -- times ------------------------------------------------------------------------------------------

_CLOCK = re.compile(
    r"^(?:(?P<date>\d{1,4}[-/.]\s?\d{1,2}[-/.]\s?\d{1,4}\.?),?\s+)?"
    r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?$"
)


def _year(text: str, near: date | None) -> int:
    value = int(text)
    if len(text) > 2:
        return value
    if near is not None:
        century = near.year // 100 * 100
        options = (century - 100 + value, century + value, century + 100 + value)
        return min(options, key=lambda y: abs(y - near.year))
    return 2000 + value if value < 70 else 1900 + value


def parse_date(text: str, near: date | None = None) -> date | None:
    """A date as these clients wrote it in any locale: ``2006-05-28``, ``2006/05/28``, ``2006.05.28.``,
    ``28.05.2006``, ``28.05.06``, ``05/28/2006``, ``07/29/06``, ``28/05/2006``, ``28-5-2006``.

    Day-first and month-first both fit ``05/06/2006``: the one nearer ``near`` (the log's own day)
    wins, else month-first for ``/`` (the US locale Pidgin and Trillian were most used in)."""
    cleaned = re.sub(r"\s+", "", text).rstrip(".")
    parts = re.split(r"[-/.]", cleaned)
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    sep = cleaned[len(parts[0])]
    a, b, c = parts
    candidates: list[tuple[int, int, int]] = []
    if len(a) == 4:
        candidates.append((int(a), int(b), int(c)))
    elif len(c) in (2, 4):
        year = _year(c, near)
        dmy, mdy = (year, int(b), int(a)), (year, int(a), int(b))
        candidates.extend((dmy,) if sep == "." else (mdy, dmy) if sep == "/" else (dmy, mdy))
    valid: list[date] = []
    for y, m, d in candidates:
        try:
            valid.append(date(y, m, d))
        except ValueError:
            continue
    if not valid:
        return None
    if near is not None and len(valid) > 1:
        return min(valid, key=lambda day: abs((day - near).days))
    return valid[0]


_MIDNIGHT_STEP = timedelta(hours=2)
_ONE_DAY = timedelta(days=1)


class Clock:
    """Turns the clock times of a log (``12:00:05``, ``1:05 PM``, ``28.05.2006 00:01:00``) into instants.

    Times without a date follow the previous line's day; a time more than two hours earlier than the
    previous one means midnight has passed (a smaller step back is a clock correction or DST). A
    ``start`` with a zone fixes the offset for the whole file; a naive one is in ``zone`` (None: the
    local zone). ``last`` is the last instant read, for a line whose own time cannot be read.
    """

    def __init__(self, start: datetime, zone: tzinfo | None = None) -> None:
        self._day = start.date()
        self._tz: tzinfo | None = start.tzinfo or zone
        self._last = start.replace(tzinfo=None)
        self.last = self._aware(self._last)

    def _aware(self, value: datetime) -> datetime:
        return value.replace(tzinfo=self._tz) if self._tz is not None else value.astimezone()

    def at(self, text: str) -> datetime | None:
        m = _CLOCK.match(text.strip())
        if m is None:
            return None
        day_text, h, mi, s, ampm = m.group("date", "h", "m", "s", "ampm")
        hour, minute, second = int(h), int(mi), int(s) if s else 0
        if ampm:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm[0] in "Pp" else 0)
        if hour > 23 or minute > 59 or second > 60:
            return None
        clock = time(hour, minute, min(second, 59))
        if day_text:
            day = parse_date(day_text, self._day)
            if day is None:
                return None
            value = datetime.combine(day, clock)
        else:
            value = datetime.combine(self._day, clock)
            if value < self._last - _MIDNIGHT_STEP:
                value += _ONE_DAY
        self._day = value.date()
        self._last = value
        self.last = self._aware(value)
        return self.last


# -- who is who -------------------------------------------------------------------------------------


def same_name(a: str, b: str) -> bool:
    """Whether two names of a participant are the same (case-insensitive, resource and ``@server`` ignored)."""

    def norm(s: str) -> str:
        return s.strip().split("/", 1)[0].casefold()

    na, nb = norm(a), norm(b)
    return bool(na) and (na == nb or na.split("@", 1)[0] == nb or nb.split("@", 1)[0] == na)


OWN_ADDRESS = "the account's own address"


class Identity:
    """Who the user is: the names given with ``--me`` and the names the logs teach, per account
    (a colour Pidgin reserves for the user, Trillian's outgoing messages, a session header)."""

    def __init__(self, me: Iterable[str] = ()) -> None:
        self._given = [m.strip() for m in me if m.strip()]
        self._learned: dict[tuple[str, str], dict[str, str]] = {}
        self._buddies: dict[tuple[str, str, str], set[str]] = {}

    def learn_buddy(self, protocol: str, account: str, handle: str, name: str) -> None:
        """``name`` is how the buddy ``handle`` appears in the logs (never taken as the user's)."""
        if name.strip():
            self._buddies.setdefault((protocol, account.casefold(), handle.casefold()), set()).add(name.strip())

    def buddy_names(self, protocol: str, account: str, handle: str) -> set[str]:
        return self._buddies.get((protocol, account.casefold(), handle.casefold()), set())

    def learn(self, protocol: str, account: str, name: str, reason: str) -> None:
        name = name.strip()
        if name and not same_name(name, account):
            self._learned.setdefault((protocol, account.casefold()), {}).setdefault(name.casefold(), reason)

    def why_me(self, protocol: str, account: str, name: str) -> str | None:
        """Why ``name`` is the user (a reason for the summary), or None when it is not known to be."""
        name = name.strip()
        if not name:
            return None
        if account and same_name(name, account):
            return OWN_ADDRESS
        for given in self._given:
            if name.casefold() == given.casefold() or same_name(name, given):
                return "given with --me"
        return self._learned.get((protocol, account.casefold()), {}).get(name.casefold())


def settle_directions(log: LogFile, identity: Identity, buddy_names: Iterable[str] = ()) -> None:
    """Sets each line's direction from who the user is; in a one-to-one conversation with exactly two
    speakers of whom one is known (the user or the buddy), the other one is the other side."""
    speakers: list[str] = []
    for entry in log.lines:
        if entry.kind is not MessageKind.SYSTEM and entry.sender and entry.sender not in speakers:
            speakers.append(entry.sender)
    mine = {s: why for s in speakers if (why := identity.why_me(log.protocol, log.account, s)) is not None}
    known = set(buddy_names) | identity.buddy_names(log.protocol, log.account, log.handle)
    for name in known:
        identity.learn_buddy(log.protocol, log.account, log.handle, name)
    if log.kind is ConversationKind.DIRECT and len(speakers) == 2 and len(mine) != 2:
        theirs = [s for s in speakers if same_name(s, log.handle) or s in known]
        if not mine and len(theirs) == 1:
            other = next(s for s in speakers if s != theirs[0])
            reason = f"the other speaker in the conversation with {theirs[0]}"
            identity.learn(log.protocol, log.account, other, reason)
            mine[other] = reason
        if mine and len(theirs) <= 1:  # the other speaker is the buddy, under whatever name
            for other in speakers:
                if other not in mine:
                    identity.learn_buddy(log.protocol, log.account, log.handle, other)
    for name, why in mine.items():
        if why != OWN_ADDRESS:  # the summary lists the names that are not plainly the account
            log.own_names.setdefault(name, why)
    lines, system, out, incoming = log.lines, MessageKind.SYSTEM, Direction.OUT, Direction.IN  # hot: local names
    for i, entry in enumerate(lines):
        if entry.kind is system:
            continue
        direction = out if entry.sender in mine else incoming
        if direction is not entry.direction:
            lines[i] = LogLine(entry.line, entry.sent_at, entry.sender, entry.body, entry.kind, direction)


#: Reads one file with the options and the identity all the files of an import share.
FileParser = Callable[[Path, Path, ReadOptions, Identity], "LogFile | Skipped"]


def parse_each(
    parse_file: FileParser, root: Path, files: list[Path], options: ReadOptions | None = None
) -> Iterator[LogFile | Skipped]:
    """Each of ``files`` read by ``parse_file``, one by one, learning who the user is as they go."""
    options = options or ReadOptions()
    identity = Identity(options.me)
    for path in files:
        yield parse_file(root, path, options, identity)
