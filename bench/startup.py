"""Startup: engine start to "accounts connecting" (and to "all connected") with 10 fake accounts.

Project side, timed from just before ``EngineThread.start()``:
  engine thread up -> ``build_core(paths)`` on it (settings, protocol discovery, accounts.json,
  archive open, account upserts) -> ``core.start()`` -> the 10th ``AccountStateChanged(CONNECTING)``
  published on the bus -> the 10th ``AccountStateChanged(CONNECTED)``, against one ``FakeServer``.
  Passwords come from a ``SecretStore`` whose keyring backend is an in-memory ``KeyringBackend``
  defined here (a Secret Service would add D-Bus round trips that are not the project's code).

Baseline, same process, same server, same accounts:
  a bare thread with a fresh asyncio loop (the same thread + ready-event handshake) -> 10 tasks
  ("connecting" = the 10th task is running) -> each opens a TCP connection with
  ``asyncio.open_connection``, writes the login line and reads the reply ("connected" = the 10th
  ``login_ok``). That is the least any client must do to log 10 accounts in to this server.

Imports are done before timing (a warm process). For the cold-process cost, ``--imports`` also times
``python -c "import aggregator.bootstrap, protocols.fake"`` against ``python -c pass``.

``--window``: the desktop app's instant start instead (cold processes, ``bench.ui``'s world of 2,000
persons on 3 fake accounts): spawn -> the buddy list painted from the snapshot
(``bench.instant_child``), against spawn -> the first paint of an empty ``QMainWindow`` of the same
size (``bench.ui_child empty-start``), and the start without a snapshot (``bench.ui_child app-start``,
bench.ui's cold start) for reference; the three alternate, run by run.

    .venv/bin/python -m bench.startup --runs 20
    .venv/bin/python -m bench.startup --window --runs 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import keyring
import keyring.backend

from aggregator.accounts.config import AccountConfig, AccountStore
from aggregator.accounts.secrets import SecretStore
from aggregator.api import Sphere
from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.engine import EngineThread
from aggregator.events import AccountStateChanged, ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from bench.common import machine, median, ratio
from protocols.fake.server import FakeServer

T = TypeVar("T")
N_ACCOUNTS = 10
PASSWORD = "bench-pw"
ROSTER_SIZE = 20  # offline contacts per account: a roster to load, no presence storm between the 10 accounts
TIMEOUT = 30.0


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring, for the benchmark only (no Secret Service on this machine)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._store.pop((service, username), None)


class LoopThread:
    """An asyncio loop on its own thread (the fake server runs here, like a remote machine would)."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


def addresses() -> list[str]:
    return [f"user{i}@fake.test" for i in range(N_ACCOUNTS)]


async def start_server() -> FakeServer:
    server = FakeServer()
    contacts = [server.add_user(f"contact{j}@fake.test", "x") for j in range(ROSTER_SIZE)]
    for address in addresses():
        server.add_user(address, PASSWORD)
        server.set_roster(address, contacts)
    await server.start()
    return server


async def wait_all_offline(server: FakeServer) -> None:
    deadline = time.monotonic() + TIMEOUT
    while any(server.online(a) for a in addresses()):
        if time.monotonic() > deadline:
            raise TimeoutError("sessions stayed open on the fake server")
        await asyncio.sleep(0.01)


def make_profile(home: Path, port: int) -> ProfilePaths:
    paths = ProfilePaths.resolve(home)
    paths.ensure()
    AccountStore(paths.accounts_file).save(
        AccountConfig(
            id=f"fake:{address}",
            protocol="fake",
            address=address,
            sphere=Sphere.WORK if i % 2 else Sphere.PERSONAL,
            server=f"127.0.0.1:{port}",
            allow_plaintext=True,
        )
        for i, address in enumerate(addresses())
    )
    secrets = SecretStore(profile_id(paths))
    for address in addresses():
        secrets.set_password(f"fake:{address}", PASSWORD)
    return paths


# --------------------------------------------------------------------------------------- project


@dataclass
class Marks:
    """Seconds since t0 of each milestone."""

    thread: float = 0.0
    built: float = 0.0
    started: float = 0.0
    connecting: float = 0.0
    connected: float = 0.0


@dataclass
class _Watcher:
    t0: float
    connecting: set[str] = field(default_factory=set)
    connected: set[str] = field(default_factory=set)
    all_connecting: threading.Event = field(default_factory=threading.Event)
    all_connected: threading.Event = field(default_factory=threading.Event)
    marks: Marks = field(default_factory=Marks)

    def on_state(self, event: AccountStateChanged) -> None:
        now = time.perf_counter() - self.t0
        if event.state is ConnectionState.CONNECTING:
            self.connecting.add(event.account_id)
            if len(self.connecting) == N_ACCOUNTS and not self.all_connecting.is_set():
                self.marks.connecting = now
                self.all_connecting.set()
        elif event.state is ConnectionState.CONNECTED:
            self.connected.add(event.account_id)
            if len(self.connected) == N_ACCOUNTS and not self.all_connected.is_set():
                self.marks.connected = now
                self.all_connected.set()
        elif event.state in (ConnectionState.FAILED, ConnectionState.WAITING):
            raise RuntimeError(f"{event.account_id} did not connect: {event.reason}")


def run_project(paths: ProfilePaths) -> Marks:
    t0 = time.perf_counter()
    watcher = _Watcher(t0)
    engine = EngineThread()
    engine.start()
    watcher.marks.thread = time.perf_counter() - t0

    async def boot() -> Core:
        core = build_core(paths)
        watcher.marks.built = time.perf_counter() - t0
        core.bus.subscribe(AccountStateChanged, watcher.on_state)
        await core.start()
        watcher.marks.started = time.perf_counter() - t0
        return core

    core = engine.call(boot(), TIMEOUT)
    try:
        if not watcher.all_connecting.wait(TIMEOUT) or not watcher.all_connected.wait(TIMEOUT):
            raise TimeoutError("the accounts did not all connect")
    finally:

        async def shutdown() -> None:
            await core.stop()
            core.close()

        engine.call(shutdown(), TIMEOUT)
        engine.stop()
    return watcher.marks


# -------------------------------------------------------------------------------------- baseline


def run_bare(port: int) -> Marks:
    marks = Marks()
    t0 = time.perf_counter()
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    thread = threading.Thread(target=run, name="bare-loop", daemon=True)
    thread.start()
    ready.wait()
    marks.thread = time.perf_counter() - t0
    writers: list[asyncio.StreamWriter] = []

    async def login(address: str, started: list[float]) -> float:
        started.append(time.perf_counter() - t0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(writer)
        line = {"op": "login", "user": address, "password": PASSWORD}
        writer.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        reply = json.loads(await reader.readline())
        if reply.get("op") != "login_ok":
            raise RuntimeError(f"bare login of {address} failed: {reply}")
        return time.perf_counter() - t0

    async def all_logins() -> None:
        started: list[float] = []
        tasks = [asyncio.create_task(login(a, started)) for a in addresses()]
        done = await asyncio.gather(*tasks)
        marks.connecting = max(started)
        marks.connected = max(done)

    try:
        asyncio.run_coroutine_threadsafe(all_logins(), loop).result(TIMEOUT)
    finally:

        async def close() -> None:
            for w in writers:
                w.close()
            await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), loop).result(TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    return marks


# ---------------------------------------------------------------------------------------- imports


def time_process(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------- the window


def spawn(module: str, args: list[str], pycache: Path) -> dict[str, Any]:
    """Runs ``python -m module args`` (a cold interpreter, bytecode cached in ``pycache`` as an
    installed client has it); its first ``BENCH`` line."""
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONPYCACHEPREFIX=str(pycache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=root, env=env, stdout=subprocess.PIPE, text=True, timeout=300
    )
    if out.returncode != 0:
        raise SystemExit(f"bench.startup: {module} failed ({out.returncode}): {args}")
    lines = [json.loads(line[6:]) for line in out.stdout.splitlines() if line.startswith("BENCH ")]
    if not lines:
        raise SystemExit(f"bench.startup: {module} reported nothing: {args}")
    first: dict[str, Any] = lines[0]
    return first


def bench_window(runs: int) -> None:
    """Instant start (painted from the snapshot) vs an empty QMainWindow vs the start without one."""
    import bench.ui as bench_ui
    from bench.ui_world import write_profile
    from ui.snapshot import read_snapshot, snapshot_file

    persons = bench_ui.START_PERSONS
    loop = LoopThread("fake-server")
    server = loop.call(bench_ui.make_server(persons))
    sides: dict[str, list[float]] = {"instant": [], "empty": [], "normal": []}
    live: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-instant-") as tmp:
        pycache = Path(tmp) / "pycache"
        home = Path(tmp) / "home"
        write_profile(home, server.address, persons)
        normal_args = ["app-start", "--home", str(home), "--persons", str(persons)]
        instant_args = ["--home", str(home), "--persons", str(persons)]

        def instant() -> float:
            t0 = time.time()
            line = spawn("bench.instant_child", instant_args, pycache)
            if line["heavy_at_paint"]:
                raise SystemExit(f"bench.startup: loaded before the first paint: {line['heavy_at_paint']}")
            live.append(line["live"] - t0)
            return float(line["painted"] - t0)

        def normal() -> float:
            t0 = time.time()
            return float(spawn("bench.ui_child", normal_args, pycache)["painted"] - t0)

        def empty() -> float:
            t0 = time.time()
            return float(spawn("bench.ui_child", ["empty-start"], pycache)["painted"] - t0)

        try:
            # Untimed: the profile's first open, whose exit writes the snapshot; one of each.
            normal()
            loop.call(bench_ui.wait_offline(server))
            snapshot = read_snapshot(snapshot_file(ProfilePaths.resolve(home).data_dir))
            if snapshot is None or len(snapshot.persons) != persons:
                raise SystemExit("bench.startup: the first start did not leave a snapshot of the list")
            instant()
            loop.call(bench_ui.wait_offline(server))
            empty()
            live.clear()
            order = ["instant", "empty", "normal"]
            for i in range(runs):
                for side in order[i % 3 :] + order[: i % 3]:  # rotate who goes first
                    sides[side].append({"instant": instant, "empty": empty, "normal": normal}[side]())
                    if side != "empty":
                        loop.call(bench_ui.wait_offline(server))
        finally:
            loop.call(server.stop())
            loop.stop()
    ms = 1000.0
    e = median(sides["empty"])
    print(f"window start, {persons} persons on 3 fake accounts, {runs} runs per side, ms from spawn (medians)")
    print(f"  {'':<44} {'median':>8} {'min':>8} {'max':>8} {'ratio':>8}")
    for label, values in (
        ("empty QMainWindow, first paint", sides["empty"]),
        ("instant: the list painted from the snapshot", sides["instant"]),
        ("instant: the live window took over", live),
        ("no snapshot: the list painted (bench.ui 1.)", sides["normal"]),
    ):
        m = median(values)
        print(f"  {label:<44} {m * ms:>8.1f} {min(values) * ms:>8.1f} {max(values) * ms:>8.1f} {ratio(m, e):>8}")
    print(f"  per-run instant painted: {', '.join(f'{v * ms:.0f}' for v in sides['instant'])}")
    print(f"  per-run empty:           {', '.join(f'{v * ms:.0f}' for v in sides['empty'])}")


# ------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each side (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs of each side first")
    parser.add_argument("--imports", action="store_true", help="also time a cold interpreter importing the core")
    parser.add_argument("--window", action="store_true", help="the desktop app's instant start instead (see above)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if args.window:
        bench_window(args.runs)
        return

    keyring.set_keyring(MemoryKeyring())
    server_thread = LoopThread("fake-server")
    server = server_thread.call(start_server())
    project: list[Marks] = []
    bare: list[Marks] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as home:
            paths = make_profile(Path(home), server.port)
            print(
                f"{N_ACCOUNTS} fake accounts on 127.0.0.1:{server.port}, {ROSTER_SIZE} roster items each; "
                f"{args.runs} runs (+{args.warmup} untimed) of each side, alternating"
            )
            for i in range(args.warmup + args.runs):
                # Alternate which side goes first, so drift on this shared machine hits both alike.
                order = ("project", "bare") if i % 2 == 0 else ("bare", "project")
                for side in order:
                    marks = run_project(paths) if side == "project" else run_bare(server.port)
                    server_thread.call(wait_all_offline(server))
                    if i >= args.warmup:
                        (project if side == "project" else bare).append(marks)
    finally:
        server_thread.call(server.stop())
        server_thread.stop()

    def med(runs: list[Marks], attr: str) -> float:
        return median([getattr(m, attr) * 1000 for m in runs])

    print()
    print(f"medians over {args.runs} runs, ms since the thread was asked to start:")
    print(f"  {'milestone':<34} {'project':>9} {'bare':>9} {'ratio':>8}")
    print(f"  {'loop thread running':<34} {med(project, 'thread'):>9.2f} {med(bare, 'thread'):>9.2f}")
    print(f"  {'build_core done':<34} {med(project, 'built'):>9.2f} {'':>9}")
    print(f"  {'core.start() returned':<34} {med(project, 'started'):>9.2f} {'':>9}")
    for attr, label in (("connecting", "all 10 CONNECTING"), ("connected", "all 10 CONNECTED")):
        p, b = med(project, attr), med(bare, attr)
        print(f"  {label:<34} {p:>9.2f} {b:>9.2f} {ratio(p, b):>8}")
    print(
        "  per-run (project connecting / connected ms): "
        + ", ".join(f"{m.connecting * 1000:.1f}/{m.connected * 1000:.1f}" for m in project)
    )
    print(
        "  per-run (bare    connecting / connected ms): "
        + ", ".join(f"{m.connecting * 1000:.1f}/{m.connected * 1000:.1f}" for m in bare)
    )

    if args.imports:
        bare_proc: list[float] = []
        core_proc: list[float] = []
        for _ in range(args.runs):
            bare_proc.append(time_process("pass"))
            core_proc.append(time_process("import aggregator.bootstrap, protocols.fake"))
        bp, cp = median(bare_proc) * 1000, median(core_proc) * 1000
        print(
            f"\ncold interpreter, median of {args.runs}: `python -c pass` {bp:.1f} ms; "
            f"`import aggregator.bootstrap, protocols.fake` {cp:.1f} ms ({ratio(cp, bp)}, +{cp - bp:.1f} ms)"
        )


if __name__ == "__main__":
    main()
