"""WeeChat's logs: ``logs/irc.<server>.<#channel or nick>.weechatlog`` (its default ``logger.file.mask``).

* One line per message: ``YYYY-MM-DD HH:MM:SS<TAB>prefix<TAB>text``, in the zone WeeChat ran in (no zone
  in the file: ``--timezone`` or this machine's zone). Some copies have the tabs turned into runs of
  spaces; both are read.
* The prefix is the nick (with its mode, ``@op``) for a message, `` *`` for an action (``nick text``),
  ``-->`` / ``<--`` for joins, parts and quits, ``--`` for other network lines (nick changes, topic,
  modes) and ``=!=`` for errors: all of those are stored as system lines.
* Own messages: ``--me NICK``; in a query every sender other than the person the buffer is named after;
  ``You are now known as X`` is learned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path

from aggregator.api import MessageKind
from aggregator.archive.importers import irclog
from aggregator.archive.importers.common import LogFile, LogLine, Skipped

SOURCE = "weechat"
TITLE = "WeeChat"
DESCRIPTION = "WeeChat's IRC logs (logs/irc.<server>.<#channel or nick>.weechatlog)"
_SEP = r"(?:\t|\s{2,})"
_LINE = re.compile(
    rf"^(?P<date>\d{{4}}-\d{{2}}-\d{{2}}) (?P<time>\d{{2}}:\d{{2}}:\d{{2}}){_SEP}(?P<prefix>[^\t]*?){_SEP}(?P<text>.*)$"
)
_BARE = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2})\t(?P<prefix>[^\t]*)\t?$")
_SYSTEM_PREFIXES = {"-->", "<--", "--", "=!=", "<->", "==="}
_NOTICE = re.compile(r"^Notice\((?P<nick>[^)]+)\)(?: -> \S+)?: ?(?P<text>.*)$")
_DETECT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\t|\s{2,})")


def detect(directory: Path) -> bool:
    files = irclog.files_with(directory, (".weechatlog",))
    return bool(files) and any(irclog.starts_with(p, _DETECT, 3) for p in files[:50])


def read(directory: Path) -> tuple[Path, list[Path]]:
    root = directory / "logs" if (directory / "logs").is_dir() else directory
    return root, irclog.files_with(root, (".weechatlog",))


def _buffer(name: str) -> tuple[str, str, str] | None:
    """``irc.libera.#weechat.weechatlog`` -> ("irc", "libera", "#weechat"); None for a server/core buffer."""
    stem = name[: -len(".weechatlog")] if name.lower().endswith(".weechatlog") else name
    parts = stem.split(".")
    if len(parts) < 3 or parts[0] != "irc" or parts[1] == "server":
        return None
    return parts[0], parts[1], ".".join(parts[2:])


def parse_file(root: Path, path: Path, *, me: Sequence[str] = (), zone: tzinfo | None = None) -> LogFile | Skipped:
    rel = path.relative_to(root)
    shown = str(rel)
    buffer = _buffer(path.name)
    if buffer is None:
        return Skipped(shown, "not an IRC channel or query buffer (irc.<server>.<name>.weechatlog)")
    _plugin, network, name = buffer
    text = irclog.read_log(path, shown, "a WeeChat log")
    if isinstance(text, Skipped):
        return text
    log, own = irclog.start_log(shown, path.name, name, me)
    last: datetime | None = None
    for number, line in irclog.numbered_lines(text):
        m = _LINE.match(line) or _BARE.match(line)
        if m is None:
            log.skipped.append(Skipped(shown, "not a log line", number))
            continue
        try:
            read_at: datetime | None = irclog.as_local(
                datetime.strptime(f"{m['date']} {m['time']}", "%Y-%m-%d %H:%M:%S"), zone
            )
        except ValueError:
            read_at = None
        at = irclog.time_or_previous(log, number, f"{m['date']} {m['time']}", read_at, last)
        if at is None:
            continue
        last = at
        text_part = m.groupdict().get("text") or ""
        irclog.add(log, number, _entry(number, at, m["prefix"].strip(), irclog.strip_formatting(text_part), own))
    return irclog.finish(log, own, me, network)


def _entry(number: int, at: datetime, prefix: str, text: str, own: irclog.OwnNicks) -> LogLine | None:
    if prefix in _SYSTEM_PREFIXES:
        if (n := _NOTICE.match(text)) is not None:
            nick = n["nick"]
            return irclog.spoken(number, at, nick, n["text"], MessageKind.NOTICE, own)
        own.learn_from_system(text)
        body = text.strip()
        return irclog.system_line(number, at, body)
    if prefix == "*":
        nick, _, body = text.partition(" ")
        return irclog.spoken(number, at, nick, body, MessageKind.ACTION, own) if nick else None
    if not prefix or not text.strip():
        return None
    nick = irclog.bare_nick(prefix)
    return irclog.spoken(number, at, nick, text, MessageKind.CHAT, own)


parse_all = irclog.parse_all_with(parse_file)
