"""Matrix through a local Synapse: receive -> stored in the archive -> event on the bus, against bare nio.

Synapse is started exactly as the test harness does it (``tests/servers/synapse.py``: its own venv,
SQLite, loopback, a free port, rate limits raised). Three users in one room: bob sends; alice is the
project side (``MatrixAdapter`` with encryption on and its crypto store -> the supervisor's event queue
-> ``InboundPipeline.process`` -> ``Archive`` on a file (WAL, synchronous=FULL) -> ``MessageStored`` on
the ``EventBus``); carol is a bare ``nio.AsyncClient`` long-polling ``/sync`` with an event callback.
One ``room_send`` of bob's reaches both through the same server at the same moment; the latency of each
is measured from just before the send to the bus event (alice) or the callback (carol), so the paired
difference is the project's overhead. The room is not encrypted (bare nio and the adapter would do
the same megolm work for an encrypted one).

Cold start: the adapter's ``connect()`` with a fresh data directory (password login = a new device,
the first full sync, the device and one-time key upload) against bare nio doing the same (login, full
sync, ``keys_upload``) with a fresh store, alternating; and a restart: ``connect()`` with the stored
token and sync token (whoami, incremental sync) against bare nio's ``restore_login`` + incremental sync.

    .venv/bin/python -m bench.matrix                  # 500 messages, 10 logins each, 3 runs
    .venv/bin/python -m bench.matrix --messages 100 --logins 3 --runs 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nio

from aggregator.api import AccountSettings, AdapterEvent, Credentials, CredentialsUpdated, MessageReceived, Sphere
from aggregator.archive import Archive
from aggregator.bus import EventBus
from aggregator.conversations.inbound import InboundPipeline
from aggregator.events import MessageStored
from aggregator.policy import PolicyEngine
from bench.common import machine, median, percentile, ratio
from protocols.matrix.adapter import MatrixAdapter
from tests.servers.synapse import MatrixUser, SynapseServer

WARMUP = 20
log = logging.getLogger("bench.matrix")


@dataclass
class Run:
    project_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    overhead_ms: list[float] = field(default_factory=list)
    login_project_ms: list[float] = field(default_factory=list)
    login_bare_ms: list[float] = field(default_factory=list)
    restart_project_ms: list[float] = field(default_factory=list)
    restart_bare_ms: list[float] = field(default_factory=list)


class ProjectSide:
    """alice: the adapter feeding the inbound pipeline through a queue, as ``AccountSupervisor`` does."""

    def __init__(self, server: SynapseServer, user: MatrixUser, directory: Path) -> None:
        self.user = user
        self.server = server
        self.directory = directory
        self.account_id = f"matrix:{user.user_id}"
        self.archive = Archive.open(path=directory / "archive.sqlite3")
        self.archive.upsert_account(self.account_id, "matrix", user.user_id, "", Sphere.PERSONAL)
        self.bus = EventBus()
        self.pipeline = InboundPipeline(self.archive, self.bus, PolicyEngine())
        self.stored: dict[str, float] = {}
        self.tokens: dict[str, str] = {}
        self.bus.subscribe(MessageStored, self._on_stored)
        self.queue: asyncio.Queue[AdapterEvent] = asyncio.Queue()
        self.consumer = asyncio.get_running_loop().create_task(self._consume())
        self.arrived = asyncio.Event()
        self.adapter = self.new_adapter(directory / "account")

    def new_adapter(self, data_dir: Path) -> MatrixAdapter:
        data_dir.mkdir(exist_ok=True)
        settings = AccountSettings(
            self.account_id, self.user.user_id, server=self.server.url, allow_plaintext=True, data_dir=data_dir
        )
        return MatrixAdapter(settings, self.queue.put_nowait)

    def _on_stored(self, event: MessageStored) -> None:
        self.stored[event.message.body] = time.perf_counter()
        self.arrived.set()

    async def _consume(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                if isinstance(event, MessageReceived):
                    self.pipeline.process(event)
                elif isinstance(event, CredentialsUpdated):
                    self.tokens = dict(event.tokens)  # the keyring's part in the supervisor
            except Exception:
                log.exception("the pipeline failed on %s", event)
            finally:
                self.queue.task_done()

    async def close(self) -> None:
        await self.adapter.disconnect()
        self.consumer.cancel()
        self.archive.close()


class BareSide:
    """carol: nio's own client, long-polling /sync with a callback for room messages."""

    def __init__(self, server: SynapseServer, user: MatrixUser, arrived: asyncio.Event) -> None:
        config = nio.AsyncClientConfig(max_timeouts=0, encryption_enabled=False)
        self.client = nio.AsyncClient(server.url, user.user_id, config=config)
        self.client.restore_login(user.user_id, user.device_id, user.access_token)
        self.seen: dict[str, float] = {}
        self.arrived = arrived
        self.client.add_event_callback(self._on_message, nio.RoomMessageText)
        self._task: asyncio.Task[None] | None = None

    def _on_message(self, _room: Any, event: Any) -> None:
        self.seen[event.body] = time.perf_counter()
        self.arrived.set()

    async def start(self) -> None:
        await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await self.client.sync(timeout=30_000)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        await self.client.close()


async def shared_room(server: SynapseServer, bob: MatrixUser, *members: MatrixUser) -> str:
    body = {"preset": "private_chat", "name": "bench", "invite": [m.user_id for m in members]}
    created = await server.request("POST", "/_matrix/client/v3/createRoom", body, bob.access_token)
    room_id: str = created["room_id"]
    for member in members:
        await server.request("POST", f"/_matrix/client/v3/join/{quote(room_id)}", {}, member.access_token)
    return room_id


async def measure_messages(
    server: SynapseServer, project: ProjectSide, carol: MatrixUser, bob: MatrixUser, n: int, run: Run
) -> None:
    room_id = await shared_room(server, bob, project.user, carol)
    bare = BareSide(server, carol, project.arrived)
    await bare.start()
    sender = nio.AsyncClient(server.url, bob.user_id, config=nio.AsyncClientConfig(encryption_enabled=False))
    sender.restore_login(bob.user_id, bob.device_id, bob.access_token)
    await project.adapter.connect(Credentials(project.user.password))
    arrived = project.arrived
    try:
        for index in range(n + WARMUP):
            body = f"bench message {index}"
            sent = time.perf_counter()
            reply = await sender.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body})
            if not isinstance(reply, nio.RoomSendResponse):
                raise RuntimeError(f"send failed: {reply}")
            async with asyncio.timeout(10):
                while body not in project.stored or body not in bare.seen:
                    arrived.clear()
                    await arrived.wait()
            if index < WARMUP:
                continue
            mine = (project.stored[body] - sent) * 1000
            theirs = (bare.seen[body] - sent) * 1000
            run.project_ms.append(mine)
            run.bare_ms.append(theirs)
            run.overhead_ms.append(mine - theirs)
    finally:
        await project.adapter.disconnect()
        await sender.close()
        await bare.close()


async def measure_logins(server: SynapseServer, project: ProjectSide, carol: MatrixUser, n: int, run: Run) -> None:
    for index in range(n):
        order = ("project", "bare") if index % 2 == 0 else ("bare", "project")
        for side in order:
            data_dir = project.directory / f"{side}-{index}"
            if side == "project":
                adapter = project.new_adapter(data_dir)
                started = time.perf_counter()
                await adapter.connect(Credentials(project.user.password))
                run.login_project_ms.append((time.perf_counter() - started) * 1000)
                await adapter.disconnect()
                await project.queue.join()
                started = time.perf_counter()
                await adapter.connect(Credentials(project.user.password, project.tokens))
                run.restart_project_ms.append((time.perf_counter() - started) * 1000)
                await adapter.disconnect()
            else:
                data_dir.mkdir()
                config = nio.AsyncClientConfig(max_timeouts=0, encryption_enabled=True, store_sync_tokens=False)
                client = nio.AsyncClient(server.url, carol.user_id, store_path=str(data_dir), config=config)
                started = time.perf_counter()
                login = await client.login(carol.password, device_name="bench")
                first = await client.sync(timeout=0, full_state=True)
                if client.should_upload_keys:
                    await client.keys_upload()
                run.login_bare_ms.append((time.perf_counter() - started) * 1000)
                await client.close()
                if not isinstance(first, nio.SyncResponse) or not isinstance(login, nio.LoginResponse):
                    raise RuntimeError(f"bare login failed: {login} {first}")
                again = nio.AsyncClient(server.url, carol.user_id, store_path=str(data_dir), config=config)
                started = time.perf_counter()
                again.restore_login(carol.user_id, login.device_id, login.access_token)
                await again.whoami()
                await again.sync(timeout=0, since=first.next_batch, full_state=True)
                run.restart_bare_ms.append((time.perf_counter() - started) * 1000)
                await again.close()
            shutil.rmtree(data_dir, ignore_errors=True)


async def one_run(server: SynapseServer, directory: Path, messages: int, logins: int) -> Run:
    alice, bob, carol = [await server.new_user(name) for name in ("alice", "bob", "carol")]
    project = ProjectSide(server, alice, directory)
    run = Run()
    try:
        await measure_messages(server, project, carol, bob, messages, run)
        await measure_logins(server, project, carol, logins, run)
    finally:
        await project.close()
    return run


ROWS = (
    ("receive -> bus (project)", "project_ms"),
    ("receive -> callback (bare)", "bare_ms"),
    ("overhead (paired)", "overhead_ms"),
    ("cold start (project)", "login_project_ms"),
    ("cold start (bare nio)", "login_bare_ms"),
    ("restart (project)", "restart_project_ms"),
    ("restart (bare nio)", "restart_bare_ms"),
)


def row(label: str, values: list[float]) -> str:
    return f"{label:<28} median {median(values):8.3f} ms   p95 {percentile(values, 95):8.3f} ms"


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as tmp:
        root = Path(tmp)
        server = SynapseServer(root / "synapse")
        await server.start_async()
        try:
            print(f"{machine()}; Synapse on {server.url}")
            runs: list[Run] = []
            for number in range(1, args.runs + 1):
                directory = root / f"run{number}"
                directory.mkdir()
                run = await one_run(server, directory, args.messages, args.logins)
                runs.append(run)
                print(f"run {number}: {args.messages} messages, {args.logins} logins per side")
                for label, attribute in ROWS:
                    print("  " + row(label, getattr(run, attribute)))
                print(
                    f"  ratio median: messages {ratio(median(run.project_ms), median(run.bare_ms))},"
                    f" cold start {ratio(median(run.login_project_ms), median(run.login_bare_ms))},"
                    f" restart {ratio(median(run.restart_project_ms), median(run.restart_bare_ms))}"
                )
            if len(runs) > 1:
                print("median of the run medians / p95s:")
                for label, attribute in ROWS:
                    series: list[list[float]] = [getattr(r, attribute) for r in runs]
                    medians = [median(values) for values in series]
                    p95s = [percentile(values, 95) for values in series]
                    print(f"  {label:<28} median {median(medians):8.3f} ms   p95 {median(p95s):8.3f} ms")
        finally:
            await server.stop_async()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--logins", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # nio warns about every unverified device
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
