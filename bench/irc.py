"""IRC: parser throughput against ``irctokens``, and receive -> stored -> announced latency over a local
InspIRCd + Atheme against a bare asyncio client.

Parser: the same realistic server lines (IRCv3 tags: ``time``, ``msgid``, ``account``, ``batch``,
``label``; sources, numerics, UTF-8 text) are parsed by ``protocols.irc.message.parse`` and by
``irctokens.tokenise`` alone (both take a decoded ``str``); a third line times the whole client input
path, ``IrcClient.feed(bytes)`` (split, decode, parse, typed events). Best of the repeats, lines/s.

Latency: InspIRCd + Atheme are started as the test harness does it (``tests/servers/irc.py``: loopback,
free ports, a test CA). bob (a bare plain-socket client) sends every round one PRIVMSG to alice and one
to carol, back to back (which first alternates). alice is the project side: ``IrcAdapter`` (TLS, SASL,
all the caps) -> an event queue -> ``InboundPipeline.process`` -> ``Archive`` on a file (WAL,
synchronous=FULL) -> ``MessageStored`` on the ``EventBus``. carol is a bare ``asyncio.open_connection``
client on the plain port reading lines. Latency from just before bob's write to the bus event (alice)
or the line read (carol); same process, same loop, same server.

    .venv/bin/python -m bench.irc                       # 1,000 messages, 3 runs; 200,000 parsed lines
    .venv/bin/python -m bench.irc --messages 200 --runs 1 --lines 50000
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from irctokens.line import tokenise

from aggregator.api import AccountSettings, AdapterEvent, Credentials, MessageReceived, Sphere
from aggregator.archive import Archive
from aggregator.bus import EventBus
from aggregator.conversations.inbound import InboundPipeline
from aggregator.events import MessageStored
from aggregator.policy import PolicyEngine
from bench.common import machine, median, percentile, ratio
from protocols.irc.adapter import IrcAdapter
from protocols.irc.client import IrcClient
from protocols.irc.message import parse
from tests.servers.certs import make_test_certs
from tests.servers.irc import HOST, IrcServer, IrcUser

WARMUP = 20
log = logging.getLogger("bench.irc")

# ----------------------------------------------------------------------------------------- parser


def realistic_lines(count: int) -> list[str]:
    """Server-to-client lines as a busy IRCv3 network sends them (mostly tagged PRIVMSG)."""
    words = ["hello", "the", "deploy", "is", "done", "üß", "café", "🙂", "see", "https://example.org/x?y=1", "ok"]
    lines: list[str] = []
    for n in range(count):
        nick = f"user{n % 97}"
        source = f"{nick}!~{nick}@host-{n % 13}.example.net"
        stamp = f"2026-11-23T12:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z"
        tags = f"@time={stamp};msgid=Ab{n:08d}Xy;account={nick}"
        text = " ".join(words[(n + i) % len(words)] for i in range(3 + n % 20))
        kind = n % 20
        if kind < 12:
            lines.append(f"{tags} :{source} PRIVMSG #channel{n % 5} :{text}")
        elif kind < 14:
            lines.append(f"{tags};batch=b{n % 7} :{source} PRIVMSG #channel{n % 5} :\x01ACTION {text}\x01")
        elif kind == 14:
            lines.append(f"{tags};label=k{n} :alice!~alice@me PRIVMSG {nick} :{text}")
        elif kind == 15:
            lines.append(f"@time={stamp};account={nick} :{source} JOIN #channel{n % 5} {nick} :Real Name {n}")
        elif kind == 16:
            lines.append(f"@time={stamp} :{source} QUIT :Quit: {text}")
        elif kind == 17:
            lines.append(f":irc.example.net 353 alice = #channel{n % 5} :@op +voice {nick} other{n} third{n}")
        elif kind == 18:
            lines.append(f"PING :irc.example.net{n}")
        else:
            lines.append(f"@time={stamp} :{source} NOTICE alice :{text}")
    return lines


def lines_per_second(work: Callable[[], object], count: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return count / best


def bench_parser(count: int, repeats: int) -> None:
    lines = realistic_lines(count)
    data = "".join(line + "\r\n" for line in lines).encode("utf-8")
    for line in lines[:200]:  # the same lines mean the same thing to both parsers
        mine, other = parse(line), tokenise(line)
        assert (mine.command, list(mine.params), dict(mine.tags)) == (
            other.command,
            other.params,
            dict(other.tags or {}),
        ), line

    def ours() -> None:
        for line in lines:
            parse(line)

    def theirs() -> None:
        for line in lines:
            tokenise(line)

    def client() -> None:
        feeder = IrcClient("alice")
        feeder.registered = True
        for start in range(0, len(data), 65536):
            feeder.feed(data[start : start + 65536])

    rates = {}
    for name, work in (("irctokens.tokenise", theirs), ("message.parse", ours), ("IrcClient.feed (bytes)", client)):
        rates[name] = lines_per_second(work, count, repeats)
    print(f"parser: {count} lines ({len(data) / count:.0f} bytes a line on average), best of {repeats}")
    for name, rate in rates.items():
        print(f"  {name:<24} {rate:>12,.0f} lines/s   {1e6 / rate:6.2f} µs a line")
    base = rates["irctokens.tokenise"]
    print(
        f"  message.parse / irctokens: {ratio(rates['message.parse'], base)} the throughput;"
        f" IrcClient.feed / irctokens: {ratio(rates['IrcClient.feed (bytes)'], base)}"
    )


# ---------------------------------------------------------------------------------------- latency


@dataclass
class Run:
    project_ms: list[float]
    bare_ms: list[float]
    overhead_ms: list[float]


class ProjectSide:
    """alice: the adapter feeding the inbound pipeline through a queue, as ``AccountSupervisor`` does."""

    def __init__(self, server: IrcServer, user: IrcUser, directory: Path) -> None:
        self.user = user
        account_id = f"irc:{user.nick}"
        self.archive = Archive.open(path=directory / "archive.sqlite3")
        self.archive.upsert_account(account_id, "irc", user.nick, "", Sphere.PERSONAL)
        self.bus = EventBus()
        self.pipeline = InboundPipeline(self.archive, self.bus, PolicyEngine())
        self.stored: dict[str, float] = {}
        self.bus.subscribe(MessageStored, self._on_stored)
        self.queue: asyncio.Queue[AdapterEvent] = asyncio.Queue()
        data_dir = directory / "account"
        data_dir.mkdir()
        settings = AccountSettings(
            account_id, user.nick, server=f"{HOST}:{server.tls_port}", ca_file=server.certs.ca_file, data_dir=data_dir
        )
        self.adapter = IrcAdapter(settings, self.queue.put_nowait)
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


class BareClient:
    """A plain asyncio IRC client: NICK/USER, answers PING, reads lines; nothing else."""

    def __init__(self, nick: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.nick = nick
        self.reader, self.writer = reader, writer
        self.seen: dict[str, float] = {}
        self.arrived: asyncio.Event | None = None
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, server: IrcServer, nick: str) -> BareClient:
        reader, writer = await asyncio.open_connection(HOST, server.port)
        client = cls(nick, reader, writer)
        writer.write(f"NICK {nick}\r\nUSER {nick[:10]} 0 * :{nick}\r\n".encode())
        async with asyncio.timeout(20):
            while line := await reader.readline():
                words = line.split(b" ", 2)
                if words[0] == b"PING":
                    writer.write(b"PONG " + line[5:])
                elif len(words) > 1 and words[1] in (b"376", b"422"):
                    break
        client.task = asyncio.get_running_loop().create_task(client._read())
        return client

    async def _read(self) -> None:
        marker = f" PRIVMSG {self.nick} :".encode()
        while line := await self.reader.readline():
            if marker in line:
                self.seen[line.split(marker, 1)[1].rstrip(b"\r\n").decode()] = time.perf_counter()
                if self.arrived is not None:
                    self.arrived.set()
            elif line.startswith(b"PING"):
                self.writer.write(b"PONG " + line[5:])

    async def close(self) -> None:
        self.writer.write(b"QUIT\r\n")
        if self.task is not None:
            self.task.cancel()
        self.writer.close()


async def measure_messages(server: IrcServer, project: ProjectSide, n: int) -> Run:
    tag = secrets.token_hex(3)
    carol, bob = await asyncio.gather(
        BareClient.connect(server, f"carol{tag}"), BareClient.connect(server, f"bob{tag}")
    )
    carol.arrived = project.arrived
    await project.adapter.connect(Credentials(project.user.password))
    alice = project.user.nick
    run = Run([], [], [])
    try:
        for index in range(n + WARMUP):
            body = f"bench message {index} with some words in it, as a chat line has"
            targets = [alice, carol.nick] if index % 2 == 0 else [carol.nick, alice]
            sent: dict[str, float] = {}
            for target in targets:
                sent[target] = time.perf_counter()
                bob.writer.write(f"PRIVMSG {target} :{body}\r\n".encode())
            async with asyncio.timeout(10):
                while body not in project.stored or body not in carol.seen:
                    project.arrived.clear()
                    await project.arrived.wait()
            if index < WARMUP:
                continue
            mine = (project.stored[body] - sent[alice]) * 1000
            bare = (carol.seen[body] - sent[carol.nick]) * 1000
            run.project_ms.append(mine)
            run.bare_ms.append(bare)
            run.overhead_ms.append(mine - bare)
    finally:
        await project.adapter.disconnect()
        await carol.close()
        await bob.close()
    return run


def row(label: str, values: list[float]) -> str:
    return f"{label:<28} median {median(values):7.3f} ms   p95 {percentile(values, 95):7.3f} ms"


async def bench_latency(messages: int, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-irc-") as tmp:
        root = Path(tmp)
        certs = make_test_certs(root / "certs")
        server = IrcServer(root / "ircd", certs)
        await asyncio.to_thread(server.start)
        try:
            print(f"InspIRCd + Atheme on {server.address} (plain) / {HOST}:{server.tls_port} (TLS)")
            users = await server.new_users(runs, "alice")
            results: list[Run] = []
            for number, user in enumerate(users, 1):
                directory = root / f"run{number}"
                directory.mkdir()
                project = ProjectSide(server, user, directory)
                try:
                    run = await measure_messages(server, project, messages)
                finally:
                    await project.close()
                results.append(run)
                print(f"run {number}: {messages} messages per side")
                print("  " + row("receive -> bus (project)", run.project_ms))
                print("  " + row("receive -> line (bare)", run.bare_ms))
                print("  " + row("overhead (paired)", run.overhead_ms))
                print(f"  ratio median: {ratio(median(run.project_ms), median(run.bare_ms))}")
            if len(results) > 1:
                print("median of the run medians / p95s:")
                for label, attribute in (
                    ("receive -> bus (project)", "project_ms"),
                    ("receive -> line (bare)", "bare_ms"),
                    ("overhead (paired)", "overhead_ms"),
                ):
                    series: list[list[float]] = [getattr(r, attribute) for r in results]
                    medians = [median(values) for values in series]
                    p95s = [percentile(values, 95) for values in series]
                    print(f"  {label:<28} median {median(medians):7.3f} ms   p95 {median(p95s):7.3f} ms")
        finally:
            await asyncio.to_thread(server.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=200_000, help="lines for the parser benchmark")
    parser.add_argument("--repeats", type=int, default=5, help="parser repeats (the best counts)")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-latency", action="store_true", help="only the parser")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(machine())
    bench_parser(args.lines, args.repeats)
    if not args.no_latency:
        asyncio.run(bench_latency(args.messages, args.runs))


if __name__ == "__main__":
    main()
