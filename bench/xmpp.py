"""XMPP through a local Prosody: receive -> stored in the archive -> event on the bus, against bare slixmpp.

Prosody is started exactly as the test harness does it (``tests/servers``: a test CA, loopback, free
ports, its own data directory). Three users: bob sends; alice is the project side (``XmppAdapter`` ->
the supervisor's event queue -> ``InboundPipeline.process`` -> ``Archive`` on a file (WAL,
synchronous=FULL) -> ``MessageStored`` on the ``EventBus``); carol is a bare ``slixmpp.ClientXMPP`` with
a ``message`` handler. Every round bob sends one message to each of them, back to back (which one
first alternates), and the latency of each is measured from just before bob's send to the bus event
(alice) or the handler (carol). Same process, same event loop, same server, same moment: the
difference is the project's overhead. Login: ``connect()`` of the adapter (TLS, SCRAM, roster,
carbons, MAM catch-up of an empty archive, presence) against a bare client's login (TLS, SCRAM,
roster, presence), alternating.

    .venv/bin/python -m bench.xmpp                  # 1,000 messages, 20 logins each, 3 runs
    .venv/bin/python -m bench.xmpp --messages 200 --logins 5 --runs 1
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregator.api import AccountSettings, AdapterEvent, Credentials, MessageReceived, Sphere
from aggregator.archive import Archive
from aggregator.bus import EventBus
from aggregator.conversations.inbound import InboundPipeline
from aggregator.events import MessageStored
from aggregator.policy import PolicyEngine
from bench.common import machine, median, percentile, ratio
from protocols.xmpp.adapter import XmppAdapter
from tests.contract.xmpp_harness import close_client, login_client, server_round_trip
from tests.servers.certs import make_test_certs
from tests.servers.prosody import ProsodyServer, XmppUser

WARMUP = 20
log = logging.getLogger("bench.xmpp")


@dataclass
class Run:
    project_ms: list[float]
    bare_ms: list[float]
    overhead_ms: list[float]
    login_project_ms: list[float]
    login_bare_ms: list[float]


class ProjectSide:
    """alice: the adapter feeding the inbound pipeline through a queue, as ``AccountSupervisor`` does."""

    def __init__(self, server: ProsodyServer, user: XmppUser, directory: Path) -> None:
        self.user = user
        account_id = f"xmpp:{user.jid}"
        self.archive = Archive.open(path=directory / "archive.sqlite3")
        self.archive.upsert_account(account_id, "xmpp", user.jid, "", Sphere.PERSONAL)
        self.bus = EventBus()
        self.pipeline = InboundPipeline(self.archive, self.bus, PolicyEngine())
        self.stored: dict[str, float] = {}
        self.bus.subscribe(MessageStored, self._on_stored)
        self.queue: asyncio.Queue[AdapterEvent] = asyncio.Queue()
        data_dir = directory / "account"
        data_dir.mkdir()
        self.settings = AccountSettings(
            account_id, user.jid, server=server.starttls_address, ca_file=server.certs.ca_file, data_dir=data_dir
        )
        self.adapter = XmppAdapter(self.settings, self.queue.put_nowait)
        self.consumer = asyncio.get_running_loop().create_task(self._consume())

        self.arrived = asyncio.Event()

    def _on_stored(self, event: MessageStored) -> None:
        self.stored[event.message.body] = time.perf_counter()
        self.arrived.set()

    async def _consume(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                if isinstance(event, MessageReceived):
                    self.pipeline.process(event)
            except Exception:
                log.exception("the pipeline failed on %s", event)
            finally:
                self.queue.task_done()

    async def close(self) -> None:
        await self.adapter.disconnect()
        self.consumer.cancel()
        self.archive.close()


async def measure_messages(server: ProsodyServer, project: ProjectSide, carol: XmppUser, bob: XmppUser, n: int) -> Run:
    bare_client = await login_client(server, carol.jid, carol.password, resource="bare")
    bare_seen: dict[str, float] = {}
    arrived = project.arrived

    def on_bare(message: Any) -> None:
        bare_seen[str(message["body"])] = time.perf_counter()
        arrived.set()

    bare_client.add_event_handler("message", on_bare)
    sender = await login_client(server, bob.jid, bob.password, resource="sender")
    await project.adapter.connect(Credentials(project.user.password))
    run = Run([], [], [], [], [])
    try:
        for index in range(n + WARMUP):
            body = f"bench message {index}"
            targets = [project.user.jid, carol.jid] if index % 2 == 0 else [carol.jid, project.user.jid]
            sent: dict[str, float] = {}
            for target in targets:
                sent[target] = time.perf_counter()
                sender.send_message(mto=target, mbody=body, mtype="chat")
            async with asyncio.timeout(10):
                while body not in project.stored or body not in bare_seen:
                    arrived.clear()
                    await arrived.wait()
            if index < WARMUP:
                continue
            mine = (project.stored[body] - sent[project.user.jid]) * 1000
            bare = (bare_seen[body] - sent[carol.jid]) * 1000
            run.project_ms.append(mine)
            run.bare_ms.append(bare)
            run.overhead_ms.append(mine - bare)
        await server_round_trip(sender)
    finally:
        await project.adapter.disconnect()
        await close_client(sender)
        await close_client(bare_client)
    return run


async def measure_logins(server: ProsodyServer, project: ProjectSide, carol: XmppUser, n: int, run: Run) -> None:
    for index in range(n):
        order = ("project", "bare") if index % 2 == 0 else ("bare", "project")
        for side in order:
            started = time.perf_counter()
            if side == "project":
                await project.adapter.connect(Credentials(project.user.password))
                run.login_project_ms.append((time.perf_counter() - started) * 1000)
                await project.adapter.disconnect()
            else:
                client: Any = await login_client(server, carol.jid, carol.password, resource=f"login{index}")
                run.login_bare_ms.append((time.perf_counter() - started) * 1000)
                await close_client(client)


async def one_run(server: ProsodyServer, directory: Path, messages: int, logins: int) -> Run:
    alice, bob, carol = [await server.new_user(name) for name in ("alice", "bob", "carol")]
    project = ProjectSide(server, alice, directory)
    try:
        run = await measure_messages(server, project, carol, bob, messages)
        await measure_logins(server, project, carol, logins, run)
    finally:
        await project.close()
    return run


def row(label: str, values: list[float]) -> str:
    return f"{label:<28} median {median(values):7.3f} ms   p95 {percentile(values, 95):7.3f} ms"


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-xmpp-") as tmp:
        root = Path(tmp)
        certs = make_test_certs(root / "certs")
        server = ProsodyServer(root / "prosody", certs, log_level="warn")
        server.start()
        try:
            print(f"{machine()}; Prosody on {server.starttls_address}")
            runs: list[Run] = []
            for number in range(1, args.runs + 1):
                directory = root / f"run{number}"
                directory.mkdir()
                run = await one_run(server, directory, args.messages, args.logins)
                runs.append(run)
                print(f"run {number}: {args.messages} messages, {args.logins} logins per side")
                print("  " + row("receive -> bus (project)", run.project_ms))
                print("  " + row("receive -> handler (bare)", run.bare_ms))
                print("  " + row("overhead (paired)", run.overhead_ms))
                print("  " + row("login (project connect)", run.login_project_ms))
                print("  " + row("login (bare slixmpp)", run.login_bare_ms))
                print(
                    f"  ratio median: messages {ratio(median(run.project_ms), median(run.bare_ms))},"
                    f" login {ratio(median(run.login_project_ms), median(run.login_bare_ms))}"
                )
            if len(runs) > 1:
                print("median of the run medians / p95s:")
                for label, attribute in (
                    ("receive -> bus (project)", "project_ms"),
                    ("receive -> handler (bare)", "bare_ms"),
                    ("overhead (paired)", "overhead_ms"),
                    ("login (project connect)", "login_project_ms"),
                    ("login (bare slixmpp)", "login_bare_ms"),
                ):
                    series: list[list[float]] = [getattr(r, attribute) for r in runs]
                    medians = [median(values) for values in series]
                    p95s = [percentile(values, 95) for values in series]
                    print(f"  {label:<28} median {median(medians):7.3f} ms   p95 {median(p95s):7.3f} ms")
        finally:
            await server.stop_async()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
