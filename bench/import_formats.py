"""History import per log format: messages/s of the whole import against reading and parsing the same
files with no database (the ratio is what the archive costs), and the archive's bulk import alone
against bare sqlite3.

For each case (Pidgin HTML and text, Trillian XML and .log, Adium, Gajim, irssi, WeeChat, HexChat,
Element) a log tree of N messages is generated in a temporary directory (files of 2,000 messages, each
file's messages in a time span of their own), then, ``--runs`` times, alternating:

* parse: ``read`` + ``parse`` of every file, every line materialised, no database;
* import: the same, stored through ``import_logs`` (what ``aggregator import`` runs) into a fresh
  SQLite archive (FTS index included, ``synchronous=FULL``).

Medians of the runs are printed, as wall-clock rates and as CPU-time rates of this process (on a shared
machine the wall clock also measures the neighbours; the CPU time is what the import itself costs).

Store (``bench_store``, also ``bench.search``'s import figure): ``Archive.import_messages`` of N ready
messages into a fresh archive beside bare ``executemany`` of the same rows plus an ``executemany`` into
the FTS table (no triggers), same batch size and pragmas; and the archive's size against a bare table.

Conversations whose times overlap (a real Gajim database, where every conversation spans the years) go
through the archive's backfill id allocation (prefetched per batch: ``Archive._prefetch_stored_max``).

    .venv/bin/python -m bench.import_formats                       # 200,000 messages per format, 3 runs
    .venv/bin/python -m bench.import_formats --n 20000 --runs 1 --formats pidgin-html trillian-xml  # quick
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aggregator.api import ConversationKind, MessageState, Sphere
from aggregator.archive import Archive, Direction, NewMessage
from aggregator.archive.importers import AccountMapper, LogFile, import_logs
from aggregator.archive.importers.common import LogFormat
from aggregator.archive.importers.formats import FORMATS
from bench.common import machine, median, ratio
from bench.ingest import PRAGMAS, SEED, START, conversations, copy_db, vocabulary

PER_FILE = 2_000
TREE_START = datetime(2015, 3, 1, 9, 0, tzinfo=UTC)
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
    return [TREE_START + timedelta(seconds=37 * i) for i in range(n)]


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


def _pidgin(root: Path, n: int, rng: random.Random, ext: str) -> None:
    times = _times(n)
    for f, span in _irc_files(n):
        buddy = f"buddy{f:04d}@example.org"
        first = times[span.start]
        folder = root / "logs" / "jabber" / "me@example.org" / buddy
        folder.mkdir(parents=True)
        title = f"Conversation with {buddy} at {first.strftime('%a %d %b %Y %H:%M:%S')} on me@example.org/Home (jabber)"
        if ext == "html":
            out = [
                '<html><head><meta http-equiv="content-type" content="text/html; charset=UTF-8">'
                f"<title>{title}</title></head><body><h3>{title}</h3>"
            ]
            for i in span:
                colour, who = ("#16569E", "Me") if i % 2 else ("#A82F2F", buddy)
                out.append(
                    f'<font color="{colour}"><font size="2">({times[i].strftime("%H:%M:%S")})</font> <b>{who}:</b>'
                    f"</font> {_text(rng)}<br/>"
                )
            out.append("</body></html>")
        else:
            out = [title]
            out += [
                f"({times[i].strftime('%H:%M:%S')}) {'me@example.org' if i % 2 else buddy}: {_text(rng)}" for i in span
            ]
        name = f"{first.strftime('%Y-%m-%d.%H%M%S')}+0000UTC.{ext}"
        (folder / name).write_text("\n".join(out) + "\n", encoding="utf-8")


def gen_pidgin_html(root: Path, n: int, rng: random.Random) -> None:
    _pidgin(root, n, rng, "html")


def gen_pidgin_txt(root: Path, n: int, rng: random.Random) -> None:
    _pidgin(root, n, rng, "txt")


def _trillian_files(root: Path, n: int) -> Iterator[tuple[Path, str, range]]:
    """(folder, buddy, message indexes) of each file of a Trillian tree."""
    folder = root / "logs" / "JABBER" / "Query"
    folder.mkdir(parents=True)
    for f, span in _irc_files(n):
        yield folder, f"buddy{f:04d}@example.org", span


def gen_trillian_xml(root: Path, n: int, rng: random.Random) -> None:
    times = _times(n)
    for folder, buddy, span in _trillian_files(root, n):
        session = f'medium="JABBER" to="{quote(buddy)}" from="me%40example.org"/>'
        out = [f'<session type="start" time="{int(times[span.start].timestamp())}" {session}']
        for i in span:
            way, frm, to, display = (
                ("outgoing", "me%40example.org", quote(buddy), "Me")
                if i % 2
                else ("incoming", quote(buddy), "me%40example.org", "Bob")
            )
            out.append(
                f'<message type="{way}_privateMessage" time="{int(times[i].timestamp())}" ms="0" medium="JABBER" '
                f'to="{to}" from="{frm}" from_display="{display}" text="{quote(_text(rng))}"/>'
            )
        out.append(f'<session type="stop" time="{int(times[span.stop - 1].timestamp())}" {session}')
        (folder / f"{buddy}.xml").write_text("\n".join(out) + "\n", encoding="utf-8")


def gen_trillian_log(root: Path, n: int, rng: random.Random) -> None:
    times = _times(n)
    for folder, buddy, span in _trillian_files(root, n):
        out = [f"Session Start (me@example.org:{buddy}): {times[span.start].strftime('%a %b %d %H:%M:%S %Y')}"]
        out += [f"[{times[i].strftime('%H:%M:%S')}] {'me@example.org' if i % 2 else buddy}: {_text(rng)}" for i in span]
        out.append(f"Session Close ({buddy}): {times[span.stop - 1].strftime('%a %b %d %H:%M:%S %Y')}")
        (folder / f"{buddy}.log").write_text("\n".join(out) + "\n", encoding="utf-8")


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
    "pidgin-html": gen_pidgin_html,
    "pidgin-txt": gen_pidgin_txt,
    "trillian-xml": gen_trillian_xml,
    "trillian-log": gen_trillian_log,
    "adium": gen_adium,
    "gajim": gen_gajim,
    "irssi": gen_irssi,
    "weechat": gen_weechat,
    "hexchat": gen_hexchat,
    "element": gen_element,
}


#: Each benchmarked case: the registry's format name and the generator of its tree.
CASES: dict[str, tuple[str, Callable[[Path, int, random.Random], None]]] = {
    name: (name.split("-", 1)[0], gen) for name, gen in GENERATORS.items()
}


@dataclass(frozen=True, slots=True)
class Figures:
    """One case's timings, in seconds per run: wall clock and CPU time of this process."""

    case: str
    messages: int
    files: int
    parse_wall: list[float]
    import_wall: list[float]
    parse_cpu: list[float]
    import_cpu: list[float]

    def rate(self, seconds: list[float]) -> float:
        return self.messages / median(seconds)


def _timed(fn: Callable[[], int]) -> tuple[int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def parse_only(fmt: LogFormat, logs: Path) -> int:
    """Read and parse every file of ``logs`` with no database; the number of messages."""
    root, files = fmt.read(logs)
    parsed = 0
    for log in fmt.parse(root, files, ("me",), ZoneInfo("UTC")):
        if isinstance(log, LogFile):
            parsed += len(log.lines)
    return parsed


def import_into(fmt: LogFormat, logs: Path, db: Path) -> int:
    """Read, parse and store every file of ``logs`` into a fresh archive at ``db``; the number stored."""
    archive = Archive.open(path=db)
    try:
        root, files = fmt.read(logs)
        summary = import_logs(
            archive,
            fmt.parse(root, files, ("me",), ZoneInfo("UTC")),
            source=fmt.source or fmt.name,
            accounts=AccountMapper(archive, [], fmt.title),
        )
    finally:
        archive.close()
    return summary.inserted


def bench_case(case: str, n: int, runs: int, workdir: Path) -> Figures:
    """``runs`` alternating parse-only and import runs on one generated tree of ``n`` messages."""
    fmt_name, generate = CASES[case]
    fmt = FORMATS[fmt_name]
    fig = Figures(case, n, 0, [], [], [], [])
    with tempfile.TemporaryDirectory(dir=workdir, prefix=f"import-{case}-") as tmp:
        logs = Path(tmp) / "logs-tree"
        logs.mkdir()
        generate(logs, n, random.Random(18))
        fig = Figures(case, n, len(fmt.read(logs)[1]), [], [], [], [])
        for run in range(runs):
            parsed, wall, cpu = _timed(lambda: parse_only(fmt, logs))
            fig.parse_wall.append(wall)
            fig.parse_cpu.append(cpu)
            db = Path(tmp) / f"archive-{run}.sqlite3"
            stored, wall, cpu = _timed(lambda db=db: import_into(fmt, logs, db))  # type: ignore[misc]
            fig.import_wall.append(wall)
            fig.import_cpu.append(cpu)
            for leftover in Path(tmp).glob(f"archive-{run}.sqlite3*"):
                leftover.unlink()
            assert parsed == n and stored == n, (case, parsed, stored)
    return fig


def new_messages(n: int) -> list[NewMessage]:
    rng = random.Random(SEED + 1)
    words, cum = vocabulary(random.Random(SEED))
    convs = conversations()
    start_ms = int(START.timestamp() * 1000)
    out: list[NewMessage] = []
    for i in range(n):
        conv = convs[i % len(convs)]
        body = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(4, 30)))[:200]
        sent = datetime.fromtimestamp((start_ms + i * 1000) / 1000, START.tzinfo)
        outgoing = conv.key.kind is ConversationKind.DIRECT and i % 3 == 0
        out.append(
            NewMessage(
                conversation_id=conv.id,
                account_id=conv.key.account_id,
                direction=Direction.OUT if outgoing else Direction.IN,
                sender=conv.own if outgoing else conv.peer,
                body=body,
                sent_at=sent,
                state=MessageState.SENT if outgoing else MessageState.RECEIVED,
                server_id=f"imp-{i}",
                received_at=sent,
            )
        )
    return out


def db_size(path: Path) -> int:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.close()
    return path.stat().st_size


def bench_store(n: int, workdir: Path) -> None:
    """The archive alone: ``Archive.import_messages`` of ``n`` ready messages into a fresh archive beside
    bare ``executemany`` of the same rows + ``executemany`` into the FTS table (no triggers), same batch
    size and pragmas; then the archive's size against a bare table + FTS5 of the same rows."""
    messages = new_messages(n)
    with tempfile.TemporaryDirectory(dir=workdir, prefix="import-") as tmp:
        project_db, bare_db, small_db = (
            Path(tmp) / "project.sqlite3",
            Path(tmp) / "bare.sqlite3",
            Path(tmp) / "small.sqlite3",
        )
        # Project: a fresh archive with the accounts and conversations, then the import.
        archive = Archive.open(path=project_db)
        for acc in sorted({c.key.account_id for c in conversations()}):
            archive.upsert_account(acc, "fake", acc.split(":", 1)[1], "", Sphere.PERSONAL)
        for c in conversations():
            archive.conversation_id(c.key)
        archive.close()

        copy_db(project_db, bare_db)
        archive = Archive.open(path=project_db)
        t0 = time.perf_counter()
        result = archive.import_messages(messages)
        project_s = time.perf_counter() - t0
        archive.close()
        assert result.inserted == n, result
        # Bare: the same rows (ids as the archive gave them), executemany + FTS executemany, no triggers.
        src = sqlite3.connect(project_db)
        rows = src.execute("SELECT * FROM messages ORDER BY id").fetchall()
        src.close()
        bare = sqlite3.connect(bare_db)
        for pragma in PRAGMAS:
            bare.execute(pragma)
        bare.execute("DROP TRIGGER messages_fts_insert")
        marks = ",".join("?" * len(rows[0]))
        t0 = time.perf_counter()
        for i in range(0, len(rows), 10_000):
            batch = rows[i : i + 10_000]
            bare.executemany(f"INSERT INTO messages VALUES ({marks})", batch)
            bare.executemany("INSERT INTO messages_fts(rowid, body) VALUES (?, ?)", [(r[0], r[7]) for r in batch])
            bare.commit()
        bare_s = time.perf_counter() - t0
        bare.close()
        print(f"\nbulk import of {n:,} messages with the full-text index (10,000 per transaction):")
        print(f"  project Archive.import_messages   {n / project_s:>9,.0f} msg/s  ({project_s:.2f} s)")
        print(f"  bare executemany + FTS executemany {n / bare_s:>8,.0f} msg/s  ({bare_s:.2f} s)")
        print(f"  ratio (time)                       {ratio(project_s, bare_s)}")
        # Size: a bare table with what search needs + the dedup key, and FTS5 over its bodies.
        small = sqlite3.connect(small_db)
        small.execute(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER, ts INTEGER, sender TEXT, "
            "direction INTEGER, server_id TEXT, body TEXT, UNIQUE (conversation_id, server_id))"
        )
        small.execute(
            "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        small.executemany(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(r[0], r[1], r[10], r[5], r[3], r[8], r[7]) for r in rows],
        )
        small.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
        small.commit()
        small.close()
        ps, ss = db_size(project_db), db_size(small_db)
        no_fts = Path(tmp) / "no-fts.sqlite3"
        copy_db(project_db, no_fts)
        conn = sqlite3.connect(no_fts)
        conn.execute("DROP TABLE messages_fts")
        conn.commit()
        conn.close()
        ns = db_size(no_fts)
        print(f"\nsize after VACUUM, {n:,} messages:")
        print(f"  project archive                    {ps / 2**20:>8.1f} MiB")
        print(f"  bare table + FTS5                  {ss / 2**20:>8.1f} MiB")
        print(f"  ratio                              {ratio(ps, ss)}  (the product's extra columns and indexes)")
        print(f"  project archive without its FTS5   {ns / 2**20:>8.1f} MiB: the index adds {ratio(ps, ns)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000, help="messages per format")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per format (medians are printed)")
    parser.add_argument("--formats", nargs="*", default=list(CASES), choices=list(CASES), metavar="FORMAT")
    parser.add_argument("--no-store", action="store_true", help="skip the archive-alone figure")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()), help="where the trees go")
    args = parser.parse_args()
    print(f"machine: {machine()}; SQLite {sqlite3.sqlite_version}")
    print(
        f"import of a generated {args.n:,}-message log tree per format vs parsing it with no database, "
        f"msg/s, medians of {args.runs} runs (wall clock | CPU time of this process):"
    )
    print(f"  {'format':<13} {'parse':>9} {'import':>8} {'ratio':>6} | {'parse':>9} {'import':>8} {'ratio':>6}  files")
    for case in args.formats:
        fig = bench_case(case, args.n, args.runs, args.workdir)
        pw, iw, pc, ic = fig.parse_wall, fig.import_wall, fig.parse_cpu, fig.import_cpu
        print(
            f"  {case:<13} {fig.rate(pw):>9,.0f} {fig.rate(iw):>8,.0f} {ratio(median(iw), median(pw)):>6} | "
            f"{fig.rate(pc):>9,.0f} {fig.rate(ic):>8,.0f} {ratio(median(ic), median(pc)):>6}  {fig.files}",
            flush=True,
        )
    if not args.no_store:
        bench_store(args.n, args.workdir)


if __name__ == "__main__":
    main()
