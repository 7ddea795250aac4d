"""Full-text search and bulk import with the index, against bare sqlite3 FTS5 on the same data.

Search: ``SearchService.search(query)`` (newest 50, snippets) on the 1,000,000-message prefill of
``bench/ingest.py`` (the product schema, so with the FTS5 index), beside the same query written by
hand in bare ``sqlite3`` on the same file (``JOIN messages ... ORDER BY rowid DESC LIMIT 50`` with
``snippet()``). The two sides alternate query by query. Import: ``Archive.import_messages`` of N
messages into a fresh archive, beside bare ``executemany`` into the same schema plus an
``executemany`` into the FTS table (no triggers), same batch size and pragmas. Size: the project's
archive after the import vs a bare table (the columns search needs, the dedup key) + FTS5 of the
same rows, both VACUUMed.

    .venv/bin/python -m bench.search                    # 1M prefill, 30 repeats, import 200,000
    .venv/bin/python -m bench.search --prefill 100000 --repeats 10 --import-n 50000   # quick
    .venv/bin/python -m bench.search --postgresql postgresql://user@host/db --skip-sqlite  # PostgreSQL
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aggregator.api import ConversationKey, ConversationKind, MessageState, Sphere
from aggregator.archive import Archive, Direction, NewMessage
from aggregator.archive.types import from_micros
from aggregator.search import SearchService
from bench.common import machine, median, percentile, ratio
from bench.ingest import DATA_DIR, PRAGMAS, SEED, START, conversations, copy_db, prefilled, vocabulary

BARE = (
    "SELECT m.*, snippet(messages_fts, 0, '[', ']', '…', 48) FROM messages_fts "
    "JOIN messages m ON m.id = messages_fts.rowid WHERE messages_fts MATCH ? {extra}"
    "ORDER BY messages_fts.rowid DESC LIMIT 50"
)


def queries(words: list[str], person: str, person_conv: int) -> list[tuple[str, str, str, tuple[object, ...]]]:
    """(label, project query, bare SQL, bare params)."""
    rare = words[-1]
    plain = [
        ("common word", "the", '"the"'),
        ("rare word", rare, f'"{rare}"'),
        ("phrase", '"see you"', '"see you"'),
        ("rare phrase", '"see you tomorrow"', '"see you tomorrow"'),
        ("prefix", "meet*", '"meet" *'),
        ("excluded", "today -the", '("today") NOT ("the")'),
    ]
    out: list[tuple[str, str, str, tuple[object, ...]]] = []
    for label, query, match in plain:
        out.append((label, query, BARE.format(extra=""), (match,)))
        out.append(
            (
                f"{label} + with:",
                f"{query} with:{person}",
                BARE.format(extra="AND m.conversation_id = ? "),
                (match, person_conv),
            )
        )
    return out


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - t0) / 1e6


def bench_queries(prefill: Path, repeats: int) -> None:
    archive = Archive.open(path=prefill)
    if not archive.has_fulltext:
        raise SystemExit("the prefill has no full-text index: delete it to regenerate")
    service = SearchService(archive)
    bare = sqlite3.connect(prefill)
    for pragma in PRAGMAS:
        bare.execute(pragma)
    words, _ = vocabulary(random.Random(SEED))
    conv = conversations()[3]
    person = conv.peer.split("@")[0]
    print(f"\nsearch, newest 50 with snippets, {repeats} repeats (+2 untimed), ms:")
    head = f"{'query':<24} {'hits':>4} | {'project med':>11} {'p95':>7} | {'bare med':>8} {'p95':>7}"
    print(f"{head} | {'ratio':>6} {'p95':>6}")
    for label, query, sql, params in queries(words, person, conv.id):
        project: list[float] = []
        baseline: list[float] = []
        hits = 0
        for i in range(repeats + 2):
            p = timed(lambda q=query: service.search(q))  # type: ignore[misc]
            b = timed(lambda s=sql, a=params: bare.execute(s, a).fetchall())  # type: ignore[misc]
            if i >= 2:
                project.append(p)
                baseline.append(b)
        hits = len(service.search(query))
        bare_hits = len(bare.execute(sql, params).fetchall())
        pm, pp, bm, bp = median(project), percentile(project, 95), median(baseline), percentile(baseline, 95)
        note = "" if hits == bare_hits else f"  (bare: {bare_hits} hits; with: also matches the sender)"
        print(
            f"{label:<24} {hits:>4} | {pm:>11.3f} {pp:>7.3f} | {bm:>8.3f} {bp:>7.3f} | "
            f"{ratio(pm, bm):>6} {ratio(pp, bp):>6}{note}"
        )
    bare.close()
    archive.close()


def _load_postgresql(url: str, prefill: Path) -> Archive:
    """The prefill's accounts, conversations and messages copied into the PostgreSQL database at ``url``
    (once: a database that already holds messages is used as it is)."""
    archive = Archive.open(url=url)
    if archive.count_messages():
        return archive
    src = sqlite3.connect(prefill)
    for aid, protocol, address, label, sphere in src.execute(
        "SELECT id, protocol, address, label, sphere FROM accounts"
    ):
        archive.upsert_account(aid, protocol, address, label, Sphere(sphere))
    conv_map: dict[int, int] = {}
    for cid, aid, kind, handle in src.execute("SELECT id, account_id, kind, handle FROM conversations"):
        key = ConversationKey(aid, ConversationKind(kind), handle)
        made = archive.conversation_id(key)
        assert made is not None
        conv_map[cid] = made
    t0 = time.perf_counter()
    rows = src.execute(
        "SELECT conversation_id, account_id, direction, sender, body, sent_at, server_id FROM messages ORDER BY id"
    )
    total = archive.import_messages(
        NewMessage(
            conversation_id=conv_map[c],
            account_id=a,
            direction=Direction(d),
            sender=who,
            body=body,
            sent_at=from_micros(at),
            state=MessageState.RECEIVED,
            server_id=sid,
        )
        for c, a, d, who, body, at, sid in rows
    ).inserted
    archive._execute_write("ANALYZE messages")
    print(f"PostgreSQL: copied {total:,} messages in {time.perf_counter() - t0:.0f} s (import_messages)")
    src.close()
    return archive


def bench_postgresql(url: str, prefill: Path, repeats: int) -> None:
    """The same project queries on PostgreSQL (tsvector + GIN, ``ORDER BY id DESC LIMIT 50``)."""
    archive = _load_postgresql(url, prefill)
    service = SearchService(archive)
    words, _ = vocabulary(random.Random(SEED))
    conv = conversations()[3]
    person = conv.peer.split("@")[0]
    print(f"\nPostgreSQL search, newest 50 with snippets, {repeats} repeats (+2 untimed), ms:")
    print(f"{'query':<24} {'hits':>4} | {'median':>8} {'p95':>8}")
    for label, query, _sql, _params in queries(words, person, conv.id):
        times = [timed(lambda q=query: service.search(q)) for _ in range(repeats + 2)][2:]  # type: ignore[misc]
        hits = len(service.search(query))
        print(f"{label:<24} {hits:>4} | {median(times):>8.3f} {percentile(times, 95):>8.3f}")
    archive.close()


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


def bench_import(n: int, workdir: Path) -> None:
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
    parser.add_argument("--prefill", type=int, default=1_000_000, help="messages in the searched archive")
    parser.add_argument("--repeats", type=int, default=30, help="timed repeats per query")
    parser.add_argument("--import-n", type=int, default=200_000, help="messages in the import benchmark")
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        help="also run the search queries on this PostgreSQL database (filled from the prefill once)",
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="only the PostgreSQL queries (with --postgresql)")
    parser.add_argument("--workdir", type=Path, default=DATA_DIR, help="where the import databases go (same disk!)")
    args = parser.parse_args()
    print(f"machine: {machine()}; SQLite {sqlite3.sqlite_version}")
    prefill = prefilled(args.prefill)
    print(f"prefill: {args.prefill:,} messages ({prefill.stat().st_size / 2**20:.0f} MiB)")
    if args.postgresql:
        bench_postgresql(args.postgresql, prefill, args.repeats)
        if args.skip_sqlite:
            return
    bench_queries(prefill, args.repeats)
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench_import(args.import_n, args.workdir)


if __name__ == "__main__":
    main()
