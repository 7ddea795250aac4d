"""Element's "Export chat" in JSON: ``{"room_name", "room_creator", "topic", "export_date", "exported_by",
"messages": [Matrix events]}``, one file per room.

* ``m.room.message`` events: ``m.text`` (a message), ``m.emote`` (an action), ``m.notice`` (a notice),
  ``m.file``/``m.audio``/``m.video`` as ``[file: name]`` and ``m.image`` as ``[image: name]``.
* An edit (``m.relates_to`` ``rel_type: m.replace``) replaces the text of the message it edits (the latest
  edit wins); it is not a message of its own. A redacted message (``m.room.redaction``, or an event whose
  ``unsigned.redacted_because`` is set) is not imported, and its reason is reported.
* Membership, topic and name changes are system lines. Times are ``origin_server_ts`` (UTC milliseconds).
* The user's own messages are the ones whose ``sender`` is ``exported_by``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aggregator.api import ConversationKind, MessageKind
from aggregator.archive.importers.common import LogFile, LogLine, Skipped
from aggregator.archive.records import Direction

SOURCE = "element"
TITLE = "Element"
DESCRIPTION = 'Element\'s "Export chat" JSON files (one per room)'
_KINDS = {"m.text": MessageKind.CHAT, "m.emote": MessageKind.ACTION, "m.notice": MessageKind.NOTICE}
_FILES = {"m.file": "file", "m.audio": "file", "m.video": "file", "m.image": "image"}
_MEMBERSHIP = {"join": "joined", "leave": "left", "invite": "was invited", "ban": "was banned", "knock": "knocked"}


def _looks_like_export(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(8192).decode("utf-8", "replace")
    except OSError:
        return False
    return '"messages"' in head and ('"exported_by"' in head or '"room_name"' in head)


def detect(directory: Path) -> bool:
    return any(_looks_like_export(p) for p in sorted(directory.rglob("*.json"))[:50])


def read(directory: Path) -> tuple[Path, list[Path]]:
    return directory, sorted(p for p in directory.rglob("*.json") if p.is_file() and _looks_like_export(p))


def _event_time(event: dict[str, Any]) -> datetime | None:
    ts = event.get("origin_server_ts")
    if not isinstance(ts, int | float) or isinstance(ts, bool):
        return None
    try:
        return datetime.fromtimestamp(ts / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(content: dict[str, Any]) -> tuple[MessageKind, str] | None:
    msgtype = content.get("msgtype")
    body = content.get("body")
    if not isinstance(body, str):
        return None
    if msgtype in _KINDS:
        return _KINDS[str(msgtype)], body
    if msgtype in _FILES:
        name = content.get("filename") if isinstance(content.get("filename"), str) else body
        return MessageKind.CHAT, f"[{_FILES[str(msgtype)]}: {name}]"
    return None


def parse_file(root: Path, path: Path) -> LogFile | Skipped:
    shown = str(path.relative_to(root))
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        return Skipped(shown, f"cannot read it: {exc.strerror or exc}")
    except (ValueError, UnicodeDecodeError) as exc:
        return Skipped(shown, f"not valid JSON (truncated or damaged?): {exc}")
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        return Skipped(shown, 'not an Element chat export (no "messages" list)')
    me = data.get("exported_by")
    if not isinstance(me, str) or not me:
        return Skipped(shown, 'no "exported_by": whose export this is is unknown')
    events = [e for e in data["messages"] if isinstance(e, dict)]
    room_id = next((e["room_id"] for e in events if isinstance(e.get("room_id"), str)), None)
    handle = room_id or str(data.get("room_name") or path.stem)
    log = LogFile(shown, f"{path.name}:{handle}", "matrix", me, handle, ConversationKind.ROOM)
    edits: dict[str, tuple[datetime, str]] = {}
    redacted: dict[str, str] = {}
    for event in events:
        content = event.get("content") if isinstance(event.get("content"), dict) else {}
        assert isinstance(content, dict)
        relates = content.get("m.relates_to")
        new = content.get("m.new_content")
        at = _event_time(event)
        if isinstance(relates, dict) and relates.get("rel_type") == "m.replace" and isinstance(new, dict):
            target, text = relates.get("event_id"), _text(new)
            newer = isinstance(target, str) and (target not in edits or at is None or edits[target][0] <= at)
            if isinstance(target, str) and text is not None and at is not None and newer:
                edits[target] = (at, text[1])
        if event.get("type") == "m.room.redaction":
            target = event.get("redacts") or content.get("redacts")
            if isinstance(target, str):
                redacted[target] = str(content.get("reason") or "")
    for number, event in enumerate(events, start=1):
        entry = _entry(number, event, me, edits, redacted, log)
        if isinstance(entry, Skipped):
            log.skipped.append(entry)
        elif entry is not None:
            log.lines.append(entry)
    if not log.lines and not log.skipped:
        return Skipped(shown, "no messages in it")
    return log


def _entry(
    number: int,
    event: dict[str, Any],
    me: str,
    edits: dict[str, tuple[datetime, str]],
    redacted: dict[str, str],
    log: LogFile,
) -> LogLine | Skipped | None:
    kind = event.get("type")
    content = event.get("content") if isinstance(event.get("content"), dict) else {}
    assert isinstance(content, dict)
    sender = event.get("sender") if isinstance(event.get("sender"), str) else ""
    assert isinstance(sender, str)
    event_id = event.get("event_id")
    if kind == "m.room.redaction":
        return None
    unsigned = event.get("unsigned") if isinstance(event.get("unsigned"), dict) else {}
    assert isinstance(unsigned, dict)
    if event_id in redacted or "redacted_because" in unsigned:
        reason = redacted.get(str(event_id)) or ""
        because = unsigned.get("redacted_because")
        if not reason and isinstance(because, dict) and isinstance(because.get("content"), dict):
            reason = str(because["content"].get("reason") or "")
        return Skipped(log.path, "redacted" + (f" (reason: {reason})" if reason else ""), number)
    at = _event_time(event)
    direction = Direction.OUT if sender == me else Direction.IN
    if kind in ("m.room.message", "m.sticker"):
        relates = content.get("m.relates_to")
        if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
            return None  # an edit: folded into the message it edits
        if at is None:
            return Skipped(log.path, "no readable origin_server_ts", number)
        parsed = (MessageKind.CHAT, f"[image: {content.get('body')}]") if kind == "m.sticker" else _text(content)
        if parsed is None:
            return Skipped(log.path, f"an unsupported message type ({content.get('msgtype')})", number)
        message_kind, body = parsed
        if isinstance(event_id, str) and event_id in edits:
            body = edits[event_id][1]
        if not body.strip():
            return Skipped(log.path, "an empty message", number)
        return LogLine(number, at, sender, body, message_kind, direction)
    if kind == "m.room.encrypted":
        return Skipped(log.path, "an encrypted message the export could not decrypt", number)
    if at is None:
        return None
    who = sender
    if kind == "m.room.member":
        membership = content.get("membership")
        target = event.get("state_key") if isinstance(event.get("state_key"), str) else sender
        verb = _MEMBERSHIP.get(str(membership))
        if verb is None:
            return None
        return LogLine(number, at, "", f"{target} {verb}", MessageKind.SYSTEM)
    if kind == "m.room.topic" and isinstance(content.get("topic"), str):
        return LogLine(number, at, "", f"{who} changed the topic to: {content['topic']}", MessageKind.SYSTEM)
    if kind == "m.room.name" and isinstance(content.get("name"), str):
        return LogLine(number, at, "", f"{who} changed the room name to: {content['name']}", MessageKind.SYSTEM)
    return None


def parse_all(root: Path, files: list[Path]) -> Iterator[LogFile | Skipped]:
    for path in files:
        yield parse_file(root, path)
