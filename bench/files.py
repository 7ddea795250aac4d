"""Files: upload and download of one large file through each local server, against the bare library.

For each transport the project's path and a bare baseline move the same file in the same run, alternating
which goes first, and the throughput (MB/s) and the peak RSS growth during the transfer are measured:

* XMPP (Prosody's mod_http_file_share over HTTPS): upload = ``XmppAdapter.send_message`` with the file
  (slot request, streamed PUT with the account's TLS, the message with the link) against a bare slot
  request (slixmpp) and a streamed ``aiohttp`` PUT; download = ``XmppAdapter.download`` into the
  quarantine store (hashing, fsync) against a bare ``aiohttp`` GET into a file.
* Matrix (Synapse's media repository): upload = ``protocols.matrix.files.upload`` against a bare
  ``aiohttp`` POST; download = ``files.download`` into the store against a bare ``aiohttp`` GET.
* DCC: ``protocols.irc.dcc`` (sender and receiver, acknowledgements, into the store) against a bare socket
  pair (``loop.sock_sendfile`` and ``sock_recv_into`` a file).

The scan overhead (clamd INSTREAM of the same file, offline with one signature) is reported on its own.

    .venv/bin/python -m bench.files                      # 200 MB, 3 runs
    .venv/bin/python -m bench.files --mb 50 --runs 1 --only dcc
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import socket
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from aggregator.api import AccountSettings, ConversationKey, Credentials, FileOffer, OutgoingFile, OutgoingMessage
from aggregator.files.clamd import scan_file
from aggregator.files.store import FileStore
from bench.common import machine, median, ratio
from protocols import http_files
from protocols.irc import dcc
from protocols.matrix import files as matrix_files
from protocols.xmpp.adapter import XmppAdapter
from tests.contract.xmpp_harness import close_client, login_client
from tests.servers.certs import make_test_certs
from tests.servers.clamd import ClamdServer
from tests.servers.prosody import ProsodyServer
from tests.servers.synapse import SynapseServer

log = logging.getLogger("bench.files")
CHUNK = 256 * 1024


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Sample:
    seconds: float
    rss_growth: int


async def measured(work: Callable[[], Awaitable[None]]) -> Sample:
    """Run ``work``, sampling RSS every 5 ms; the growth is the peak over the value just before."""
    start_rss = rss_bytes()
    peak = start_rss
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_bytes())
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    try:
        await work()
    finally:
        elapsed = time.perf_counter() - started
        done.set()
        await sampler
    return Sample(elapsed, max(0, max(peak, rss_bytes()) - start_rss))


@dataclass
class Series:
    project: list[Sample] = field(default_factory=list)
    bare: list[Sample] = field(default_factory=list)


async def pair(
    series: Series, project: Callable[[], Awaitable[None]], bare: Callable[[], Awaitable[None]], turn: int
) -> None:
    first, second = (project, bare) if turn % 2 == 0 else (bare, project)
    a = await measured(first)
    b = await measured(second)
    if turn % 2 == 0:
        series.project.append(a)
        series.bare.append(b)
    else:
        series.bare.append(a)
        series.project.append(b)


async def _bare_body(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


async def _bare_get(url: str, tls: Any, target: Path, headers: dict[str, str] | None = None) -> None:
    async with aiohttp.ClientSession() as session, session.get(url, ssl=tls, headers=headers or {}) as response:
        assert response.status == 200, response.status
        with target.open("wb") as out:
            async for chunk in response.content.iter_chunked(CHUNK):
                out.write(chunk)


async def _into_store(store: FileStore, chunks: AsyncIterator[bytes]) -> None:
    received = await store.receive(chunks)
    store.discard(received)


# -- XMPP -------------------------------------------------------------------------------------------------


async def bench_xmpp(root: Path, data: Path, size: int, runs: int) -> dict[str, Series]:
    certs = make_test_certs(root / "certs")
    server = ProsodyServer(root / "prosody", certs, log_level="warn", upload_limit_mb=size // (1024 * 1024) + 16)
    server.start()
    try:
        me, peer = server.register("me", "pw-me-123"), server.register("peer", "pw-peer-123")
        settings = AccountSettings(f"xmpp:{me.jid}", me.jid, server=server.starttls_address, ca_file=certs.ca_file)
        adapter = XmppAdapter(settings, lambda _event: None)
        await adapter.connect(Credentials(me.password))
        bare = await login_client(server, me.jid, me.password, resource="bare")
        bare.register_plugin("xep_0363")
        tls = ssl.create_default_context(cafile=str(certs.ca_file))
        file = OutgoingFile(path=data, name="big.bin", mime_type="application/octet-stream", size=size)
        store = FileStore(root / "xmpp-store")
        up, down = Series(), Series()
        urls: list[str] = []

        async def project_up() -> None:
            receipt = await adapter.send_message(
                ConversationKey.direct(settings.account_id, peer.jid),
                OutgoingMessage("", os.urandom(6).hex(), file=file),
            )
            assert receipt.file_url is not None
            urls.append(receipt.file_url)

        async def bare_up() -> None:
            plugin = bare.plugin["xep_0363"]
            info = await plugin.find_upload_service(domain=server.domain)
            slot = (await plugin.request_slot(info["from"], "big.bin", size, "application/octet-stream"))[
                "http_upload_slot"
            ]
            headers = {
                "Content-Length": str(size),
                "Content-Type": "application/octet-stream",
                **{h["name"]: h["value"] for h in slot["put"]["headers"]},
            }
            async with (
                aiohttp.ClientSession() as session,
                session.put(slot["put"]["url"], data=_bare_body(data), headers=headers, ssl=tls) as response,
            ):
                assert response.status < 300
            bare.send_message(mto=peer.jid, mbody=slot["get"]["url"], mtype="chat")
            urls.append(slot["get"]["url"])

        async def project_down() -> None:
            offer = FileOffer(url=urls[0], name="big.bin", size=size)
            await _into_store(store, adapter.download(offer))

        async def bare_down() -> None:
            await _bare_get(urls[0], tls, root / "xmpp-bare.bin")

        for turn in range(runs):
            await pair(up, project_up, bare_up, turn)
            await pair(down, project_down, bare_down, turn)
        await adapter.disconnect()
        await close_client(bare)
        return {"XMPP upload": up, "XMPP download": down}
    finally:
        server.stop()


# -- Matrix -----------------------------------------------------------------------------------------------


async def bench_matrix(root: Path, data: Path, size: int, runs: int) -> dict[str, Series]:
    server = SynapseServer(root / "synapse")
    await server.start_async()
    try:
        me = await server.new_user("me")
        tls = http_files.tls_for(None, None)
        file = OutgoingFile(path=data, name="big.bin", mime_type="application/octet-stream", size=size)
        store = FileStore(root / "matrix-store")
        auth = {"Authorization": f"Bearer {me.access_token}"}
        up, down = Series(), Series()
        uris: list[str] = []

        async def project_up() -> None:
            content = await matrix_files.upload(server.url, me.access_token, tls, file, encrypt=False, allow_http=True)
            uris.append(content["url"])

        async def bare_up() -> None:
            headers = {**auth, "Content-Length": str(size), "Content-Type": "application/octet-stream"}
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{server.url}/_matrix/media/v3/upload?filename=big.bin", data=_bare_body(data), headers=headers
                ) as response,
            ):
                assert response.status == 200, await response.text()
                uris.append((await response.json())["content_uri"])

        async def project_down() -> None:
            await _into_store(store, matrix_files.download(server.url, me.access_token, tls, uris[0], allow_http=True))

        async def bare_down() -> None:
            host, media_id = matrix_files.parse_mxc(uris[0])
            url = f"{server.url}/_matrix/client/v1/media/download/{host}/{media_id}"
            await _bare_get(url, None, root / "matrix-bare.bin", auth)

        for turn in range(runs):
            await pair(up, project_up, bare_up, turn)
            await pair(down, project_down, bare_down, turn)
        return {"Matrix upload": up, "Matrix download": down}
    finally:
        await server.stop_async()


# -- DCC --------------------------------------------------------------------------------------------------


async def bench_dcc(root: Path, data: Path, size: int, runs: int) -> dict[str, Series]:
    store = FileStore(root / "dcc-store")
    series = Series()

    async def project() -> None:
        offered: asyncio.Queue[dcc.DccOffer] = asyncio.Queue()

        async def announce(offer: dcc.DccOffer) -> None:
            await offered.put(offer)

        sending = asyncio.create_task(dcc.Sending(data, "big.bin", size, "127.0.0.1").run(announce))
        await _into_store(store, dcc.receive(await offered.get()))
        await sending

    async def bare() -> None:
        loop = asyncio.get_running_loop()
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]

        async def send() -> None:
            conn, _ = await loop.sock_accept(listener)
            with conn, data.open("rb") as fh:
                await loop.sock_sendfile(conn, fh)

        sender = asyncio.create_task(send())
        client = socket.socket()
        client.setblocking(False)
        await loop.sock_connect(client, ("127.0.0.1", port))
        buffer = bytearray(CHUNK)
        received = 0
        with client, (root / "dcc-bare.bin").open("wb") as out:
            while received < size:
                n = await loop.sock_recv_into(client, buffer)
                if not n:
                    break
                out.write(memoryview(buffer)[:n])
                received += n
        await sender
        listener.close()

    for turn in range(runs):
        await pair(series, project, bare, turn)
    return {"DCC": series}


async def bench_scan(root: Path, data: Path, size: int, runs: int) -> list[float]:
    import tempfile as _tempfile

    clamd_root = Path(_tempfile.mkdtemp(prefix="bench-clamd-"))
    server = ClamdServer(clamd_root, stream_max_mb=size // (1024 * 1024) + 16)
    server.start()
    try:
        seconds: list[float] = []
        for _ in range(runs):
            started = time.perf_counter()
            result = await scan_file(server.socket, data)
            seconds.append(time.perf_counter() - started)
            assert result.outcome.value == "clean", result
        return seconds
    finally:
        server.stop()


def report(label: str, series: Series, size: int) -> str:
    mb = size / (1024 * 1024)
    p_rate = mb / median([s.seconds for s in series.project])
    b_rate = mb / median([s.seconds for s in series.bare])
    p_rss = median([s.rss_growth for s in series.project]) / (1024 * 1024)
    b_rss = median([s.rss_growth for s in series.bare]) / (1024 * 1024)
    share = f"{100 * p_rate / b_rate:.0f}%" if b_rate else "n/a"
    return (
        f"{label:<16} project {p_rate:7.1f} MB/s  bare {b_rate:7.1f} MB/s  = {share:>5} of bare"
        f" ({ratio(b_rate, p_rate)} time)   RSS growth: project {p_rss:5.1f} MB, bare {b_rss:5.1f} MB"
    )


async def main_async(args: argparse.Namespace) -> None:
    size = args.mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp:
        root = Path(tmp)
        data = root / "big.bin"
        with data.open("wb") as out:
            block = os.urandom(1024 * 1024)
            for i in range(args.mb):
                out.write(hashlib.sha256(block + i.to_bytes(4, "big")).digest() * 32768)
        print(f"{machine()}; {args.mb} MB file, {args.runs} runs per side (medians)")
        results: dict[str, Series] = {}
        if "dcc" in args.only:
            results |= await bench_dcc(root, data, size, args.runs)
        if "xmpp" in args.only:
            results |= await bench_xmpp(root, data, size, args.runs)
        if "matrix" in args.only:
            results |= await bench_matrix(root, data, size, args.runs)
        for label, series in results.items():
            print(report(label, series, size))
        if "scan" in args.only:
            scans = await bench_scan(root, data, size, args.runs)
            print(f"{'clamd scan':<16} {args.mb / median(scans):7.1f} MB/s ({median(scans):.2f} s for the file)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="file size in MB (default 200)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--only", nargs="+", default=["dcc", "xmpp", "matrix", "scan"], choices=["dcc", "xmpp", "matrix", "scan"]
    )
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
