"""Full-text search and bulk import with the index, against bare sqlite3 FTS5 on the same data.

Search: ``SearchService.search(query)`` (newest 50, snippets) on the 1,000,000-message prefill of
``bench/ingest.py`` (the product schema, so with the FTS5 index), beside the same query written by
hand in bare ``sqlite3`` on the same file (``JOIN messages ... ORDER BY rowid DESC LIMIT 50`` with
``snippet()``). The two sides alternate query by query. Import and size: ``bench_store`` of
``bench/import_formats.py`` (the archive's bulk import against bare ``executemany``; the import of each
client's log format is measured there).

    .venv/bin/python -m bench.search                    # 1M prefill, 30 repeats, import 200,000
    .venv/bin/python -m bench.search --prefill 100000 --repeats 10 --import-n 50000   # quick
    .venv/bin/python -m bench.search --postgresql postgresql://user@host/db --skip-sqlite  # PostgreSQL
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from aggregator.api import ConversationKey, ConversationKind, MessageState, Sphere
from aggregator.archive import Archive, Direction, NewMessage
from aggregator.archive.types import from_micros
from aggregator.search import SearchService
from bench.common import machine, median, percentile, ratio
from bench.import_formats import bench_store
from bench.ingest import DATA_DIR, PRAGMAS, SEED, conversations, prefilled, vocabulary

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
    bench_store(args.import_n, args.workdir)


if __name__ == "__main__":
    main()
