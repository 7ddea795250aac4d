"""Live ingest: per-message latency of the whole inbound pipeline against a bare sqlite3 insert.

The project side is ``InboundPipeline.process(MessageReceived)`` with a real ``Archive`` on a file
(WAL, synchronous=FULL) and an ``EventBus`` with one subscriber, exactly as built by ``build_core``.
The baseline is a raw ``sqlite3`` single-row ``INSERT`` + ``COMMIT`` of the same row (same id, same
values) into a copy of the same pre-filled database, with the same pragmas as the archive. A second
reference line does what the pipeline does at the SQL level, bare: the dedup ``SELECT`` and then the
``INSERT`` + ``COMMIT``.

The three sides alternate message by message (project, bare insert, bare select+insert), each on its
own copy of the database, so noise on this shared machine hits them alike.

    .venv/bin/python -m bench.ingest                     # 1M prefill, 2,000 messages, 3 runs
    .venv/bin/python -m bench.ingest --prefill 100000    # a quick run
    .venv/bin/python -m bench.ingest --profile           # cProfile of the project side (timings inflated)
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import itertools
import os
import pstats
import random
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from aggregator.api import ConversationKey, ConversationKind, MessageKind, MessageReceived, MessageState, Sphere
from aggregator.archive import Archive, Direction, StoredMessage
from aggregator.archive.database import open_engine
from aggregator.archive.ids import SEQ_BITS
from aggregator.archive.types import to_micros
from aggregator.bus import EventBus
from aggregator.conversations.inbound import InboundPipeline
from aggregator.events import MessageStored
from aggregator.policy import PolicyEngine
from bench.common import machine, median, percentile, ratio

DATA_DIR = Path(__file__).resolve().parent / "data"
#: Bump when the generated data changes, so that a cached prefill is rebuilt.
GENERATOR_VERSION = 2
SEED = 42
N_ACCOUNTS = 5
N_CONVERSATIONS = 50
START = datetime(2022, 1, 1, tzinfo=UTC)
END = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 50_000

# The same pragmas as aggregator/archive/database.py, for the bare baseline.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-16384",
)

COLUMNS = (
    "id",
    "conversation_id",
    "account_id",
    "direction",
    "kind",
    "sender",
    "sender_name",
    "body",
    "server_id",
    "idempotency_key",
    "sent_at",
    "received_at",
    "state",
    "error",
    "edit_of",
    "is_backfill",
)
INSERT_SQL = f"INSERT INTO messages ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
DEDUP_SQL = "SELECT * FROM messages WHERE conversation_id = ? AND server_id = ? LIMIT 1"

Row = tuple[int, int, str, int, int, str, str | None, str, str | None, str | None, int, int, int, str, int | None, int]


@dataclass(frozen=True, slots=True)
class Conversation:
    id: int
    key: ConversationKey
    peer: str
    own: str


# ------------------------------------------------------------------------------------------ data


def accounts() -> list[tuple[str, str, str]]:
    """(account id, protocol, own address)."""
    return [(f"fake:user{i}@fake.test", "fake", f"user{i}@fake.test") for i in range(N_ACCOUNTS)]


def conversations() -> list[Conversation]:
    accs = accounts()
    out: list[Conversation] = []
    for i in range(N_CONVERSATIONS):
        account_id, _, own = accs[i % N_ACCOUNTS]
        kind = ConversationKind.ROOM if i % 5 == 4 else ConversationKind.DIRECT
        peer = f"room{i}@rooms.fake.test" if kind is ConversationKind.ROOM else f"peer{i}@fake.test"
        out.append(Conversation(i + 1, ConversationKey(account_id, kind, peer), peer, own))
    return out


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Words and their cumulative Zipf weights."""
    common = [
        "the",
        "you",
        "i",
        "to",
        "a",
        "and",
        "is",
        "it",
        "that",
        "of",
        "in",
        "for",
        "on",
        "me",
        "we",
        "have",
        "be",
        "what",
        "this",
        "can",
        "do",
        "are",
        "at",
        "but",
        "so",
        "not",
        "with",
        "was",
        "my",
        "just",
        "ok",
        "yes",
        "no",
        "will",
        "get",
        "see",
        "your",
        "if",
        "know",
        "all",
        "about",
        "meet",
        "today",
        "tomorrow",
        "later",
        "now",
        "think",
        "good",
        "time",
        "call",
        "send",
        "file",
        "work",
        "going",
        "well",
        "thanks",
        "here",
        "there",
        "one",
        "when",
        "how",
        "up",
        "out",
        "like",
    ]
    letters = "abcdefghijklmnopqrstuvwxyz"
    synthetic = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(20_000)]
    words = common + synthetic
    weights = [1.0 / (rank + 1) for rank in range(len(words))]  # Zipf
    return words, list(itertools.accumulate(weights))  # cumulative: random.choices is O(log n) with them


def schema_fingerprint() -> str:
    """A hash of the archive's schema as the product creates it: a schema change rebuilds the cache."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(path=Path(tmp) / "schema.sqlite3")
        engine.dispose()
        conn = sqlite3.connect(Path(tmp) / "schema.sqlite3")
        try:
            sql = sorted(str(r[0]) for r in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))
        finally:
            conn.close()
    return hashlib.sha256(("\n".join(sql) + f"\n{GENERATOR_VERSION}").encode()).hexdigest()[:12]


def generate_prefill(path: Path, n: int) -> None:
    """Create the product's schema with ``open_engine``, then bulk-load ``n`` messages with executemany."""
    t0 = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    engine = open_engine(path=tmp)
    engine.dispose()
    rng = random.Random(SEED)
    words, cum = vocabulary(rng)
    convs = conversations()
    # A few busy conversations, many quiet ones.
    conv_cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(convs))))
    created = to_micros(START)
    conn = sqlite3.connect(tmp)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")  # a generated cache: durability does not matter here
        conn.execute("PRAGMA cache_size=-262144")
        with conn:
            conn.executemany(
                "INSERT INTO accounts (id, protocol, address, label, sphere, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(a, p, addr, "", Sphere.PERSONAL.value, created) for a, p, addr in accounts()],
            )
            conn.executemany(
                "INSERT INTO conversations (id, account_id, kind, handle, created_at) VALUES (?, ?, ?, ?, ?)",
                [(c.id, c.key.account_id, int(c.key.kind), c.key.handle, created) for c in convs],
            )
        start_ms, end_ms = int(START.timestamp() * 1000), int(END.timestamp() * 1000)
        stamps = sorted(rng.randrange(start_ms, end_ms) for _ in range(n))
        last_ms, seq = -1, 0
        batch: list[Row] = []
        for server_seq, ms in enumerate(stamps, 1):
            seq = seq + 1 if ms == last_ms else 0
            last_ms = ms
            conv = rng.choices(convs, cum_weights=conv_cum)[0]
            outgoing = rng.random() < 0.3
            body = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(4, 30)))[:200]
            if len(body) < 20:
                body = (body + " " + body + " " + body)[:200]
            sent_us = ms * 1000
            sender = conv.own if outgoing else conv.peer
            batch.append(
                (
                    (ms << SEQ_BITS) | seq,
                    conv.id,
                    conv.key.account_id,
                    int(Direction.OUT if outgoing else Direction.IN),
                    int(MessageKind.CHAT),
                    sender,
                    None,
                    body,
                    f"p-{server_seq}",
                    f"k-{server_seq}" if outgoing else None,
                    sent_us,
                    sent_us + rng.randrange(1_000, 500_000),
                    int(MessageState.SENT if outgoing else MessageState.RECEIVED),
                    "",
                    None,
                    0,
                )
            )
            if len(batch) >= BATCH:
                with conn:
                    conn.executemany(INSERT_SQL, batch)
                batch.clear()
        if batch:
            with conn:
                conn.executemany(INSERT_SQL, batch)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    os.replace(tmp, path)
    Path(f"{tmp}-shm").unlink(missing_ok=True)
    Path(f"{tmp}-wal").unlink(missing_ok=True)
    size = path.stat().st_size / 2**20
    print(f"generated {n:,} messages into {path} ({size:.0f} MiB) in {time.perf_counter() - t0:.1f} s")


def prefilled(n: int) -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"prefill-{n}-{schema_fingerprint()}.sqlite3"
    if not path.exists():
        generate_prefill(path, n)
    return path


def copy_db(src: Path, dst: Path) -> None:
    """Copy and fsync, so that the copy's dirty pages do not land in the first timed checkpoint."""
    shutil.copyfile(src, dst)
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------ run


def row_of(m: StoredMessage) -> Row:
    """The row the archive wrote for ``m``, as the bare baseline inserts it."""
    return (
        m.id,
        m.conversation_id,
        m.account_id,
        int(m.direction),
        int(m.kind),
        m.sender,
        m.sender_name,
        m.body,
        m.server_id,
        m.idempotency_key,
        to_micros(m.sent_at),
        to_micros(m.received_at),
        int(m.state),
        m.error,
        m.edit_of,
        int(m.is_backfill),
    )


def bare_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


@dataclass
class RunResult:
    project: list[float]
    bare_insert: list[float]
    bare_select_insert: list[float]


def live_events(run: int, n: int, rng: random.Random) -> list[MessageReceived]:
    words, cum = vocabulary(random.Random(SEED))
    convs = conversations()
    events: list[MessageReceived] = []
    for i in range(n):
        conv = convs[i % len(convs)] if i < len(convs) else rng.choice(convs)
        body = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(4, 30)))[:200]
        events.append(
            MessageReceived(
                account_id=conv.key.account_id,
                conversation=conv.key,
                sender=conv.peer if conv.key.kind is ConversationKind.DIRECT else f"nick{i % 7}",
                body=body,
                server_id=f"live-{run}-{i}",
            )
        )
    return events


def one_run(prefill: Path, n: int, warmup: int, run: int, workdir: Path, profile: cProfile.Profile | None) -> RunResult:
    project_db, insert_db, select_db = workdir / "project.sqlite3", workdir / "bare.sqlite3", workdir / "bare2.sqlite3"
    for db in (project_db, insert_db, select_db):
        copy_db(prefill, db)

    archive = Archive.open(path=project_db)
    bus = EventBus()
    seen: list[int] = []
    bus.subscribe(MessageStored, lambda e: seen.append(e.message.id))
    pipeline = InboundPipeline(archive, bus, PolicyEngine())
    bare = bare_connection(insert_db)
    bare2 = bare_connection(select_db)

    rng = random.Random(SEED + run)
    events = live_events(run, warmup + n, rng)
    result = RunResult([], [], [])
    perf = time.perf_counter_ns
    try:
        for i, event in enumerate(events):
            # The adapter stamps the server time when it parses the frame, just before the sink.
            event = _stamped(event)
            if profile is not None:
                profile.enable()
            t0 = perf()
            stored = pipeline.process(event)
            t1 = perf()
            if profile is not None:
                profile.disable()
            assert stored is not None, "the pipeline dropped a live message"
            row = row_of(stored)

            t2 = perf()
            bare.execute(INSERT_SQL, row)
            bare.commit()
            t3 = perf()

            t4 = perf()
            found = bare2.execute(DEDUP_SQL, (row[1], row[8])).fetchone()
            assert found is None
            bare2.execute(INSERT_SQL, row)
            bare2.commit()
            t5 = perf()

            if i >= warmup:
                result.project.append((t1 - t0) / 1e6)
                result.bare_insert.append((t3 - t2) / 1e6)
                result.bare_select_insert.append((t5 - t4) / 1e6)
        assert len(seen) == len(events)
    finally:
        bare.close()
        bare2.close()
        archive.close()
    for db in (project_db, insert_db, select_db):
        for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            p.unlink(missing_ok=True)
    return result


def _stamped(event: MessageReceived) -> MessageReceived:
    return replace(event, timestamp=datetime.now(UTC))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2_000, help="live messages per run (default 2000)")
    parser.add_argument("--prefill", type=int, default=1_000_000, help="messages already in the archive")
    parser.add_argument("--runs", type=int, default=3, help="repeat; report the median of the run medians")
    parser.add_argument("--warmup", type=int, default=N_CONVERSATIONS, help="untimed messages first (one per conv)")
    parser.add_argument("--profile", action="store_true", help="cProfile the project side and print the top costs")
    parser.add_argument("--workdir", type=Path, default=DATA_DIR, help="where the per-run copies go (same disk!)")
    args = parser.parse_args()

    print(f"machine: {machine()}; SQLite {sqlite3.sqlite_version}")
    prefill = prefilled(args.prefill)
    print(
        f"prefill: {args.prefill:,} messages ({prefill.stat().st_size / 2**20:.0f} MiB); "
        f"{args.messages:,} live messages x {args.runs} runs (+{args.warmup} untimed)"
    )
    args.workdir.mkdir(parents=True, exist_ok=True)
    profile = cProfile.Profile() if args.profile else None

    sides = ("project", "bare_insert", "bare_select_insert")
    medians: dict[str, list[float]] = {s: [] for s in sides}
    p95s: dict[str, list[float]] = {s: [] for s in sides}
    header = (
        f"{'run':>4} | {'pipeline med':>12} {'p95':>7} | {'bare INSERT med':>15} {'p95':>7} | "
        f"{'ratio med':>9} {'p95':>7} | {'bare SELECT+INSERT med':>22} {'p95':>7}"
    )
    print(header)
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="run-") as tmp:
            res = one_run(prefill, args.messages, args.warmup, run, Path(tmp), profile)
        for side in sides:
            values: list[float] = getattr(res, side)
            medians[side].append(median(values))
            p95s[side].append(percentile(values, 95))
        print(
            f"{run + 1:>4} | {medians['project'][-1]:>9.3f} ms {p95s['project'][-1]:>7.3f} | "
            f"{medians['bare_insert'][-1]:>12.3f} ms {p95s['bare_insert'][-1]:>7.3f} | "
            f"{ratio(medians['project'][-1], medians['bare_insert'][-1]):>9} "
            f"{ratio(p95s['project'][-1], p95s['bare_insert'][-1]):>7} | "
            f"{medians['bare_select_insert'][-1]:>19.3f} ms {p95s['bare_select_insert'][-1]:>7.3f}"
        )
    mp, mb, ms = (median(medians[s]) for s in sides)
    pp, pb, ps = (median(p95s[s]) for s in sides)
    print()
    print(f"median of {args.runs} run medians (p95: median of run p95s), ms per message:")
    print(f"  pipeline (InboundPipeline.process)   median {mp:.3f}  p95 {pp:.3f}")
    print(f"  bare sqlite3 INSERT + COMMIT         median {mb:.3f}  p95 {pb:.3f}")
    print(f"  bare sqlite3 SELECT + INSERT + COMMIT median {ms:.3f}  p95 {ps:.3f}")
    print(f"  ratio pipeline / bare INSERT         median {ratio(mp, mb)}  p95 {ratio(pp, pb)}")
    print(f"  ratio pipeline / bare SELECT+INSERT  median {ratio(mp, ms)}  p95 {ratio(pp, ps)}")
    print(
        f"  goals: <= 5x bare INSERT: {'met' if mp <= 5 * mb else 'MISSED'}; "
        f"< 1 ms median: {'met' if mp < 1.0 else 'MISSED'}"
    )
    if profile is not None:
        print("\ncProfile of the project side (all runs; timings above are inflated by the profiler):")
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
