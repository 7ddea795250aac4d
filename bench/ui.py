"""The desktop client (``ui/``): cold start, filtering, opening a long conversation, memory, stalls.

Each GUI process is a separate ``python -m bench.ui_child`` (a cold interpreter); this process builds
the profiles (straight into the archive, ``bench.ui_world``) and runs the fake server the 3 accounts
log in to, so the server never shares the GUI process's interpreter. Qt platform: whatever
``QT_QPA_PLATFORM`` says (``offscreen`` when unset); run under ``xvfb-run -a`` with
``QT_QPA_PLATFORM=xcb`` to compare with a real X server.

1. Cold start: spawn -> the first paint of the buddy list once its 2,000 persons are loaded, against
   spawn -> the first paint of an empty ``QMainWindow`` of the same size; the two alternate.
2. Filter: per keystroke of typing a person's name, ``MainWindow._apply_filter`` (what the debounce
   timer calls) on 10,000 persons, against ``QSortFilterProxyModel.setFilterFixedString`` over a
   ``QStandardItemModel`` of the same 10,000 names; alternating keystroke by keystroke.
3. Open a conversation of 100,000 messages: ``open_person`` -> the first page painted, against the
   bare ``sqlite3`` query for its newest 50 rows on the same file.
4. Memory: resident set with 10,000 persons and 20 open conversations, against an empty
   ``QMainWindow`` process.
5. Stalls: a 5 ms ``QTimer`` heartbeat on the GUI thread; its worst lateness during 10 s while 100
   messages/s arrive (a quarter of them in the open conversations), against 10 quiet seconds.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.ui
    QT_QPA_PLATFORM=xcb xvfb-run -a .venv/bin/python -m bench.ui
    .venv/bin/python -m bench.ui --starts 5 --names 5 --opens 5 --stall-rounds 1   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine, median, percentile, ratio
from bench.startup import LoopThread
from bench.ui_world import ME, contacts, populate_server, write_profile
from protocols.fake.server import FakeServer

ROOT = Path(__file__).resolve().parent.parent
START_PERSONS = 2_000
BIG_PERSONS = 10_000
BIG_MESSAGES = 100_000
OPEN_TABS = 20
PYCACHE: Path | None = None  # where the GUI processes keep their bytecode; None: as the environment says
RATE = 100  # messages per second


def child(args: list[str], on_line: Any = None, timeout: float = 600) -> list[dict[str, Any]]:
    """Runs ``bench.ui_child`` with ``args``; its ``BENCH`` lines, parsed (``on_line`` sees each first)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    if PYCACHE is not None:
        # An installed client has its bytecode (pip compiles it): without it every start compiles the
        # project's ~180 modules from source (~0.25 s). Kept out of the source tree.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.ui_child", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    out: list[dict[str, Any]] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        if line.startswith("BENCH "):
            values = json.loads(line[6:])
            out.append(values)
            if on_line is not None:
                on_line(values)
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"bench.ui: the GUI process timed out: {args}")
    if proc.wait(60) != 0:
        raise SystemExit(f"bench.ui: the GUI process failed ({proc.returncode}): {args}")
    return out


def spawn_timed(args: list[str]) -> tuple[float, dict[str, Any]]:
    t0 = time.time()
    (first, *_rest) = child(args)
    return first["painted"] - t0, first


async def wait_offline(server: FakeServer) -> None:
    deadline = time.monotonic() + 30
    while any(server.online(a) for a in ME):
        if time.monotonic() > deadline:
            raise SystemExit("bench.ui: the accounts stayed online on the fake server")
        await asyncio.sleep(0.02)


async def make_server(persons: int) -> FakeServer:
    server = FakeServer()
    populate_server(server, persons)
    await server.start()
    return server


# ----------------------------------------------------------------------------------- cold start


def bench_start(tmp: Path, runs: int) -> None:
    loop = LoopThread("fake-server")
    server = loop.call(make_server(START_PERSONS))
    home = tmp / "start"
    write_profile(home, server.address, START_PERSONS)
    project: list[float] = []
    bare: list[float] = []
    imports: list[float] = []
    try:
        # One untimed run each: the profile's first open (accounts upserted, logins) and disk caches.
        spawn_timed(["app-start", "--home", str(home), "--persons", str(START_PERSONS)])
        loop.call(wait_offline(server))
        spawn_timed(["empty-start"])
        for i in range(runs):
            for side in ("app", "bare") if i % 2 == 0 else ("bare", "app"):
                if side == "app":
                    t0 = time.time()
                    elapsed, info = spawn_timed(["app-start", "--home", str(home), "--persons", str(START_PERSONS)])
                    project.append(elapsed)
                    imports.append(info["imported"] - t0)
                    loop.call(wait_offline(server))
                else:
                    bare.append(spawn_timed(["empty-start"])[0])
    finally:
        loop.call(server.stop())
        loop.stop()
    p, b = median(project), median(bare)
    print(f"1. cold start, {START_PERSONS} persons on 3 fake accounts, {runs} runs per side (s, spawn -> painted)")
    print(f"   project: median {p:.3f}  min {min(project):.3f}  max {max(project):.3f}")
    print(f"   (of which spawn -> imports done: median {median(imports):.3f})")
    print(f"   empty QMainWindow: median {b:.3f}  min {min(bare):.3f}  max {max(bare):.3f}")
    print(f"   ratio {ratio(p, b)} (goal < 3x)")


# ------------------------------------------------------------------------------- in one session


def bench_session(tmp: Path, opens: int, names: int, stall_rounds: int) -> None:
    loop = LoopThread("fake-server")
    server = loop.call(make_server(BIG_PERSONS))
    home = tmp / "big"
    t0 = time.perf_counter()
    big = write_profile(home, server.address, BIG_PERSONS, big=BIG_MESSAGES, small_convs=OPEN_TABS - 1)
    assert big is not None
    print(
        f"# profile: {BIG_PERSONS} persons, {BIG_MESSAGES} messages with one of them, "
        f"{OPEN_TABS - 1} x 100 with others; written in {time.perf_counter() - t0:.1f} s"
    )
    by_account = contacts(BIG_PERSONS)
    open_handles = by_account[ME[0]][:OPEN_TABS]
    rng = random.Random(3)

    async def deliver(seconds: float) -> None:
        start = loop.loop.time()
        for i in range(int(seconds * RATE)):
            await asyncio.sleep(max(0.0, start + i / RATE - loop.loop.time()))
            if i % 4 == 0:
                sender, to = rng.choice(open_handles), ME[0]
            else:
                to = ME[rng.randrange(3)]
                sender = rng.choice(by_account[to])
            await server.deliver(sender, to, f"message {i}: " + "lorem ipsum " * rng.randint(1, 8))

    def on_line(values: dict[str, Any]) -> None:
        if "send" in values:
            asyncio.run_coroutine_threadsafe(deliver(float(values["send"])), loop.loop)

    try:
        lines = child(
            [
                "app-session", "--home", str(home), "--persons", str(BIG_PERSONS), "--big", big.handle,
                "--opens", str(opens), "--names", str(names), "--stall-rounds", str(stall_rounds),
            ],
            on_line,
        )  # fmt: skip
        bare_rss = [child(["empty-start", "--settle"])[1]["rss_kib"] for _ in range(3)]
    finally:
        loop.call(server.stop())
        loop.stop()
    got: dict[str, Any] = {}
    rounds: list[dict[str, Any]] = []
    for values in lines:
        if "quiet_max" in values:
            rounds.append(values)
        else:
            got.update(values)
    ms = 1000.0

    fp, fb = got["filter_project"], got["filter_bare"]
    print(f"2. filter, {BIG_PERSONS} persons, {len(fp)} keystrokes ({names} names typed), ms per keystroke")
    fv = got["filter_view"]

    def stats(values: list[float]) -> str:
        return f"median {median(values) * ms:.2f}  p95 {percentile(values, 95) * ms:.2f}  max {max(values) * ms:.2f}"

    print(f"   project _apply_filter: {stats(fp)}")
    print(f"   then the tree's relayout + paint (processEvents), typing: {stats(fv)}")
    print(f"   bare QSortFilterProxyModel: {stats(fb)}")
    p95 = ratio(percentile(fp, 95), percentile(fb, 95))
    print(f"   ratio median {ratio(median(fp), median(fb))}  p95 {p95} (goal < 16 ms)")
    cp, cb = got["clear_project"], got["clear_bare"]
    print(f"   clearing the filter: project median {median(cp) * ms:.2f}, bare {median(cb) * ms:.2f}")
    if "clear_view" in got:  # older children measured the relayout after a clear with the keystrokes'
        print(f"   then the tree's relayout + paint, all {BIG_PERSONS} persons again: {stats(got['clear_view'])}")
    print(f"   persons matching each full name: {got['matched']}")

    op, ob = got["open_project"], got["open_bare"]
    print(f"3. open a conversation of {BIG_MESSAGES} messages -> first page (50) painted, {len(op)} opens, ms")
    print(f"   project: median {median(op) * ms:.2f}  p95 {percentile(op, 95) * ms:.2f}  first {op[0] * ms:.2f}")
    print(f"   bare newest-50 query: median {median(ob) * ms:.3f}  first {ob[0] * ms:.3f}")
    print(f"   ratio {ratio(median(op), median(ob))} (goal < 100 ms)")

    rp, ro = got["rss_persons_kib"] / 1024, got["rss_open_kib"] / 1024
    rb = median(bare_rss) / 1024
    print(f"4. resident memory, MiB: {BIG_PERSONS} persons {rp:.1f}; + {got['open_tabs']} open conversations {ro:.1f}")
    print(f"   empty QMainWindow process: {rb:.1f}; ratio {ratio(ro, rb)} (goal < 200 MB)")

    print(f"5. GUI stalls, 5 ms heartbeat, {len(rounds)} rounds of 10 s quiet / 10 s at {RATE} msg/s, ms")
    for i, r in enumerate(rounds, 1):
        print(
            f"   round {i}: quiet max {r['quiet_max'] * ms:.1f} p99 {r['quiet_p99'] * ms:.1f} | loaded max "
            f"{r['loaded_max'] * ms:.1f} p99 {r['loaded_p99'] * ms:.1f} ({r['stored']} messages stored, "
            f"{r['ticks_loaded']} ticks)"
        )
    if not rounds:
        return
    lm = median([r["loaded_max"] for r in rounds])
    qm = median([r["quiet_max"] for r in rounds])
    print(f"   median of the maxima: loaded {lm * ms:.1f}, quiet {qm * ms:.1f}; ratio {ratio(lm, qm)} (goal < 50 ms)")
    trips, stored = sum(r.get("round_trips", 0) for r in rounds), sum(r["stored"] for r in rounds)
    per = trips / stored if stored else 0.0
    posted = sum(r.get("posted", 0) for r in rounds)
    print(f"6. round trips GUI -> engine while messages arrive: {trips} for {stored} messages, {per:.2f} per message")
    print("   (Bridge.call/run during the loaded windows; goal 0: every event carries what its view shows)")
    print(f"   one-way commands (Bridge.post: marking the focused conversation read): {posted}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=10, help="cold starts per side")
    parser.add_argument("--opens", type=int, default=10)
    parser.add_argument("--names", type=int, default=20, help="names typed into the filter")
    parser.add_argument("--stall-rounds", type=int, default=3)
    parser.add_argument("--skip-start", action="store_true")
    parser.add_argument("--skip-session", action="store_true")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="leave PYTHONDONTWRITEBYTECODE as it is (by default the GUI processes cache their bytecode "
        "in the temporary directory, as an installed client has it)",
    )
    args = parser.parse_args()
    print(f"# bench.ui on {machine()}; QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', 'offscreen')}")
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        global PYCACHE
        PYCACHE = None if args.no_bytecode else Path(tmp) / "pycache"
        print(f"# bytecode: {'as the environment says' if PYCACHE is None else 'cached (PYTHONPYCACHEPREFIX)'}")
        if not args.skip_start:
            bench_start(Path(tmp), args.starts)
        if not args.skip_session:
            bench_session(Path(tmp), args.opens, args.names, args.stall_rounds)


if __name__ == "__main__":
    main()
