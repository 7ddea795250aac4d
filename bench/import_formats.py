"""Importing other clients' logs, per format: messages/s of ``import_logs`` into a fresh archive against
reading and parsing the same files with no database (the ratio is what the archive costs).

For each format (Adium, Gajim, irssi, WeeChat, HexChat, Element) a log tree of N messages is generated in
a temporary directory (files of 2,000 messages, each file's messages in a time span of their own), then:

* parse: ``read`` + ``parse`` of every file, every line materialised, no database;
* import: the same, stored through ``import_logs`` into a fresh SQLite archive (FTS index included).

Conversations whose times overlap (a real Gajim database, where every conversation spans the years) go
through the archive's backfill id allocation, one query per message: measured 4,300 msg/s instead of
16,500 on 20,000 Gajim messages spread over 10 interleaved conversations.

    .venv/bin/python -m bench.import_formats                       # 200,000 messages per format
    .venv/bin/python -m bench.import_formats --n 20000 --formats irssi weechat   # quick
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator.archive import Archive
from aggregator.archive.importers import AccountMapper, LogFile, import_logs
from aggregator.archive.importers.formats import FORMATS
from bench.common import machine, ratio

PER_FILE = 2_000
START = datetime(2015, 3, 1, 9, 0, tzinfo=UTC)
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "meeting",
    "tomorrow",
    "lunch",
    "café",
    "zeppelin",
    "release",
    "build",
    "broken",
    "deploy",
    "friday",
    "weekend",
    "photos",
    "trip",
    "coffee",
    "later",
    "ok",
    "sure",
    "thanks",
    "see",
    "you",
    "soon",
]
GAJIM_SCHEMA = Path(__file__).resolve().parents[1] / "tests" / "data" / "gajim" / "gajim-2.x.sql"


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))


def _times(n: int) -> list[datetime]:
    return [START + timedelta(seconds=37 * i) for i in range(n)]


def gen_adium(root: Path, n: int, rng: random.Random) -> None:
    times = _times(n)
    for f, first in enumerate(range(0, n, PER_FILE)):
        buddy = f"buddy{f:04d}@example.org"
        start = times[first]
        name = f"{buddy} ({start.strftime('%Y-%m-%dT%H.%M.%S')}+0000)"
        folder = root / "Logs" / "Jabber.me@example.org" / buddy / f"{name}.chatlog"
        folder.mkdir(parents=True)
        lines = ['<?xml version="1.0" encoding="UTF-8" ?>']
        lines.append('<chat xmlns="http://purl.org/net/ulf/ns/0.4-02" account="me@example.org" service="Jabber">')
        for i in range(first, min(n, first + PER_FILE)):
            sender = "me@example.org" if i % 2 else buddy
            stamp = times[i].strftime("%Y-%m-%dT%H:%M:%S+00:00")
            lines.append(f'<message sender="{sender}" time="{stamp}"><div><span>{_text(rng)}</span></div></message>')
        lines.append("</chat>")
        (folder / f"{name}.xml").write_text("\n".join(lines), encoding="utf-8")


def gen_gajim(root: Path, n: int, rng: random.Random) -> None:
    ddl = GAJIM_SCHEMA.read_text(encoding="utf-8").split("-- rows:")[0]
    con = sqlite3.connect(root / "logs.db")
    con.executescript(ddl)
    con.execute("INSERT INTO account(pk, jid) VALUES (1, 'me@example.org')")
    buddies = max(1, n // PER_FILE)
    con.executemany(
        "INSERT INTO remote(pk, jid) VALUES (?, ?)", [(b + 1, f"buddy{b:04d}@example.org") for b in range(buddies)]
    )
    rows = [
        (
            i + 1,
            1,
            min(i // PER_FILE, buddies - 1) + 1,
            "res",
            1,
            1 + i % 2,
            t.timestamp(),
            2,
            f"m{i}",
            None,
            1,
            _text(rng),
        )
        for i, t in enumerate(_times(n))
    ]
    con.executemany(
        "INSERT INTO message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, state, id,"
        " stanza_id, stable_id, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.commit()
    con.close()


def _irc_files(n: int) -> list[tuple[int, range]]:
    return [(f, range(first, min(n, first + PER_FILE))) for f, first in enumerate(range(0, n, PER_FILE))]


def gen_irssi(root: Path, n: int, rng: random.Random) -> None:
    times = _times(n)
    folder = root / "irclogs" / "libera"
    folder.mkdir(parents=True)
    for f, span in _irc_files(n):
        first = times[span.start]
        out = [f"--- Log opened {first.strftime('%a %b %d %H:%M:%S %Y')}"]
        day = first.date()
        for i in span:
            if times[i].date() != day:
                day = times[i].date()
                out.append(f"--- Day changed {times[i].strftime('%a %b %d %Y')}")
            nick = "me" if i % 2 else f"nick{i % 7}"
            out.append(f"{times[i].strftime('%H:%M:%S')} < {nick}> {_text(rng)}")
        out.append(f"--- Log closed {times[span.stop - 1].strftime('%a %b %d %H:%M:%S %Y')}")
        (folder / f"#chan{f:04d}.log").write_text("\n".join(out) + "\n", encoding="utf-8")


def gen_weechat(root: Path, n: int, rng: random.Random) -> None:
    times = _times(n)
    folder = root / "logs"
    folder.mkdir(parents=True)
    for f, span in _irc_files(n):
        out = [
            f"{times[i].strftime('%Y-%m-%d %H:%M:%S')}\t{'me' if i % 2 else f'@nick{i % 7}'}\t{_text(rng)}"
            for i in span
        ]
        (folder / f"irc.libera.#chan{f:04d}.weechatlog").write_text("\n".join(out) + "\n", encoding="utf-8")


def gen_hexchat(root: Path, n: int, rng: random.Random) -> None:
    times = _times(n)
    folder = root / "logs" / "Libera"
    folder.mkdir(parents=True)
    for f, span in _irc_files(n):
        out = [f"**** BEGIN LOGGING AT {times[span.start].strftime('%a %b %d %H:%M:%S %Y')}", ""]
        out += [
            f"{times[i].strftime('%b %d %H:%M:%S')} <{'me' if i % 2 else f'nick{i % 7}'}>\t{_text(rng)}" for i in span
        ]
        (folder / f"#chan{f:04d}.log").write_text("\n".join(out) + "\n", encoding="utf-8")


def gen_element(root: Path, n: int, rng: random.Random) -> None:
    times = _times(n)
    for f, span in _irc_files(n):
        events = [
            {
                "type": "m.room.message",
                "room_id": f"!room{f}:example.org",
                "sender": "@me:example.org" if i % 2 else "@alice:example.org",
                "event_id": f"$e{i}:example.org",
                "origin_server_ts": int(times[i].timestamp() * 1000),
                "content": {"msgtype": "m.text", "body": _text(rng)},
            }
            for i in span
        ]
        export = {"room_name": f"Room {f}", "exported_by": "@me:example.org", "messages": events}
        (root / f"Room {f:04d} - Chat Export.json").write_text(json.dumps(export), encoding="utf-8")


GENERATORS: dict[str, Callable[[Path, int, random.Random], None]] = {
    "adium": gen_adium,
    "gajim": gen_gajim,
    "irssi": gen_irssi,
    "weechat": gen_weechat,
    "hexchat": gen_hexchat,
    "element": gen_element,
}


def bench_format(name: str, n: int, workdir: Path) -> None:
    fmt = FORMATS[name]
    me, zone = ("me",), ZoneInfo("UTC")
    with tempfile.TemporaryDirectory(dir=workdir, prefix=f"import-{name}-") as tmp:
        logs = Path(tmp) / "logs-tree"
        logs.mkdir()
        GENERATORS[name](logs, n, random.Random(18))
        t0 = time.perf_counter()
        root, files = fmt.read(logs)
        parsed = 0
        for log in fmt.parse(root, files, me, zone):
            if isinstance(log, LogFile):
                parsed += len(log.lines)
        parse_s = time.perf_counter() - t0
        archive = Archive.open(path=Path(tmp) / "archive.sqlite3")
        try:
            t0 = time.perf_counter()
            root, files = fmt.read(logs)
            summary = import_logs(
                archive, fmt.parse(root, files, me, zone), source=name, accounts=AccountMapper(archive, [], fmt.title)
            )
            import_s = time.perf_counter() - t0
        finally:
            archive.close()
    assert parsed == n and summary.inserted == n, (name, parsed, summary.inserted)
    print(
        f"  {fmt.title:<8} parse {n / parse_s:>9,.0f} msg/s   import {n / import_s:>8,.0f} msg/s"
        f"   ratio (time) {ratio(import_s, parse_s)}   ({len(files)} files)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000, help="messages per format")
    parser.add_argument("--formats", nargs="*", default=sorted(GENERATORS), choices=sorted(GENERATORS))
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()), help="where the trees go")
    args = parser.parse_args()
    print(f"machine: {machine()}; SQLite {sqlite3.sqlite_version}")
    print(f"import of a generated {args.n:,}-message log tree per format vs parsing it with no database:")
    for name in args.formats:
        bench_format(name, args.n, args.workdir)


if __name__ == "__main__":
    main()
