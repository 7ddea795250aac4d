"""Gajim's history database ``logs.db`` (``~/.local/share/gajim/``), read only, in either schema.

* Old (Gajim 0.16 to 1.x): ``jids(jid_id, jid, type)`` (type 1: a group chat) and ``logs(log_line_id,
  [account_id], jid_id, contact_name, time, kind, show, message, subject, ...)``; ``time`` is seconds
  since 1970 (UTC). ``kind``: 0 status, 1 group-chat status, 2 group-chat message, 3/4 a message
  received, 5/6 a message sent, 7 an error. ``account_id`` (Gajim 1.x) names the account's JID in
  ``jids``; Gajim 0.16 kept none: the first ``--me`` (the user's JID) names it.
* Current (Gajim 2.x): ``account(pk, jid)``, ``remote(pk, jid)``, ``occupant(pk, ..., nickname)`` and
  ``message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, ..., text,
  correction_id, fk_occupant_pk, ...)``; ``type`` 1 chat, 2 group chat, 3 private message in a group
  chat; ``direction`` 1 incoming, 2 outgoing. A correction (``correction_id``) replaces the text of the
  message it corrects; a moderated (retracted) message is not imported.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from aggregator.api import ConversationKind, MessageKind
from aggregator.archive.importers.common import LogFile, LogLine, Skipped, same_name
from aggregator.archive.records import Direction

SOURCE = "gajim"
TITLE = "Gajim"
DESCRIPTION = "Gajim's history database (logs.db, Gajim 0.16 to 2.x)"
UNKNOWN_ACCOUNT = "gajim-account"
_SHOW = {0: "online", 1: "free for chat", 2: "away", 3: "not available", 4: "busy", 5: "offline"}


def _tables(con: sqlite3.Connection) -> set[str]:
    return {str(r[0]) for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _schema(path: Path) -> str | None:
    """ "old", "current", or None (not a Gajim history database)."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        tables = _tables(con)
    except sqlite3.Error:
        return None
    finally:
        con.close()
    if {"message", "remote", "account"} <= tables:
        return "current"
    if {"logs", "jids"} <= tables:
        return "old"
    return None


def _candidates(directory: Path) -> list[Path]:
    if directory.is_file():
        return [directory]
    named = sorted(directory.rglob("logs.db"))
    return named or sorted(p for p in directory.rglob("*.db") if p.is_file())


def detect(directory: Path) -> bool:
    return any(_schema(p) is not None for p in _candidates(directory)[:10])


def read(directory: Path) -> tuple[Path, list[Path]]:
    root = directory.parent if directory.is_file() else directory
    return root, _candidates(directory)


def _at(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_db(root: Path, path: Path, *, me: Sequence[str] = ()) -> Iterator[LogFile | Skipped]:
    shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    schema = _schema(path)
    if schema is None:
        yield Skipped(shown, "not a Gajim history database (no logs/jids or message/remote/account tables)")
        return
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            yield from (_old if schema == "old" else _current)(con, shown, me)
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        yield Skipped(shown, f"the database cannot be read: {exc}")


def _old(con: sqlite3.Connection, shown: str, me: Sequence[str]) -> Iterator[LogFile]:
    columns = {str(r[1]) for r in con.execute("PRAGMA table_info(logs)")}
    account_col = "a.jid" if "account_id" in columns else "NULL"
    account_join = "LEFT JOIN jids a ON a.jid_id = l.account_id" if "account_id" in columns else ""
    rows = con.execute(
        f"SELECT l.log_line_id, {account_col}, j.jid, j.type, l.contact_name, l.time, l.kind, l.show,"  # noqa: S608
        f" l.message, l.subject FROM logs l JOIN jids j ON j.jid_id = l.jid_id {account_join}"
        " ORDER BY j.jid, l.time, l.log_line_id"
    )
    logs: dict[tuple[str, str], LogFile] = {}
    for line_id, account, jid, jid_type, name, when, kind, show, message, subject in rows:
        own = str(account) if account else (me[0] if me else UNKNOWN_ACCOUNT)
        room = jid_type == 1
        key = (own, str(jid))
        log = logs.get(key)
        if log is None:
            log = logs[key] = LogFile(
                path=f"{shown} ({jid})",
                ident=f"gajim:{own}:{jid}",
                protocol="xmpp",
                account=own,
                handle=str(jid),
                kind=ConversationKind.ROOM if room else ConversationKind.DIRECT,
            )
        at = _at(when)
        if at is None:
            log.skipped.append(Skipped(log.path, f"unreadable time ({when!r})", int(line_id)))
            continue
        text = str(message or "").strip()
        who = str(name or "")
        entry: LogLine | None = None
        if kind in (3, 4):
            entry = LogLine(int(line_id), at, who or str(jid), text, MessageKind.CHAT, Direction.IN)
        elif kind in (5, 6):
            entry = LogLine(int(line_id), at, own, text, MessageKind.CHAT, Direction.OUT)
        elif kind == 2:
            mine = bool(who) and (same_name(who, own) or any(same_name(who, n) for n in me))
            if subject and not text:
                entry = LogLine(int(line_id), at, "", f"{who or jid} set the subject: {subject}", MessageKind.SYSTEM)
            else:
                entry = LogLine(int(line_id), at, who, text, MessageKind.CHAT, Direction.OUT if mine else Direction.IN)
        elif kind in (0, 1):
            state = _SHOW.get(show if isinstance(show, int) else -1, "")
            subject_name = who or str(jid)
            body = f"{subject_name} is now {state}" if state else f"{subject_name} changed status"
            entry = LogLine(int(line_id), at, "", f"{body}: {text}" if text else body, MessageKind.SYSTEM)
        elif kind == 7:
            entry = LogLine(int(line_id), at, "", f"error: {text}" if text else "error", MessageKind.SYSTEM)
        else:
            log.skipped.append(Skipped(log.path, f"unknown kind of line ({kind!r})", int(line_id)))
            continue
        if not entry.body.strip() or (entry.kind is MessageKind.CHAT and not text):
            log.skipped.append(Skipped(log.path, "an empty message", int(line_id)))
            continue
        log.lines.append(entry)
    yield from logs.values()


def _current(con: sqlite3.Connection, shown: str, me: Sequence[str]) -> Iterator[LogFile]:
    tables = _tables(con)
    occupant = "o.nickname" if "occupant" in tables else "NULL"
    occupant_join = "LEFT JOIN occupant o ON o.pk = m.fk_occupant_pk" if "occupant" in tables else ""
    moderated = (
        "EXISTS (SELECT 1 FROM moderation d WHERE d.stanza_id = m.stanza_id"
        " AND d.fk_remote_pk = m.fk_remote_pk AND d.fk_account_pk = m.fk_account_pk)"
        if "moderation" in tables
        else "0"
    )
    oob = "(SELECT b.url FROM oob b WHERE b.fk_message_pk = m.pk)" if "oob" in tables else "NULL"
    rows = list(
        con.execute(
            f"SELECT m.pk, a.jid, r.jid, m.type, m.direction, m.timestamp, m.resource, m.id, m.text,"  # noqa: S608
            f" m.correction_id, {occupant}, {moderated}, {oob} FROM message m"
            f" JOIN account a ON a.pk = m.fk_account_pk JOIN remote r ON r.pk = m.fk_remote_pk {occupant_join}"
            " ORDER BY m.timestamp, m.pk"
        )
    )
    corrections: dict[tuple[str, str, str, int, str], str] = {}
    for _pk, account, remote, _type, direction, _ts, _res, _id, text, correction_id, *_rest in rows:
        if correction_id:
            corrections[(str(account), str(remote), str(correction_id), int(direction), "")] = str(text or "")
    logs: dict[tuple[str, str], LogFile] = {}
    for pk, account, remote, mtype, direction, ts, resource, mid, text, correction_id, nick, gone, url in rows:
        if correction_id:
            continue  # folded into the message it corrects
        handle = f"{remote}/{resource}" if mtype == 3 and resource else str(remote)
        key = (str(account), handle)
        log = logs.get(key)
        if log is None:
            log = logs[key] = LogFile(
                path=f"{shown} ({handle})",
                ident=f"gajim:{account}:{handle}",
                protocol="xmpp",
                account=str(account),
                handle=handle,
                kind=ConversationKind.ROOM if mtype == 2 else ConversationKind.DIRECT,
            )
        if gone:
            log.skipped.append(Skipped(log.path, "retracted by a moderator", int(pk)))
            continue
        at = _at(ts)
        if at is None:
            log.skipped.append(Skipped(log.path, f"unreadable time ({ts!r})", int(pk)))
            continue
        body = corrections.get((str(account), str(remote), str(mid), int(direction), ""), str(text or "")).strip()
        if not body and url:
            body = f"[file: {url}]"
        if not body:
            log.skipped.append(Skipped(log.path, "an empty message", int(pk)))
            continue
        out = direction == 2
        if mtype == 2:
            sender = str(nick or resource or "")
            out = out or any(same_name(sender, n) for n in me)
        else:
            sender = str(account) if out else str(remote)
        log.lines.append(LogLine(int(pk), at, sender, body, MessageKind.CHAT, Direction.OUT if out else Direction.IN))
    yield from logs.values()


def parse_all(root: Path, files: list[Path], *, me: Sequence[str] = ()) -> Iterator[LogFile | Skipped]:
    for path in files:
        yield from parse_db(root, path, me=me)
