"""Pinned certificates on the real servers: Prosody and InspIRCd + Atheme started with a certificate that
normal verification refuses (self-signed with a wrong host name, or expired), and Synapse behind a TLS
listener presenting it.

Each case: an account WITHOUT a pin fails with the certificate's problem (and keeps failing: a pin for
one account trusts nothing for another); the pinned accounts (pinned from the certificate they failed on,
or by fingerprint alone before any connection) connect and messages flow, with the pin's warning; then
the server restarts with another certificate and the pinned accounts are refused with "the certificate
changed" and both fingerprints, and the server never sees their credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import pytest

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.accounts.trust import pin_fingerprint, pinned_warning, trust_presented_certificate
from aggregator.api import CERTIFICATE_CHANGED
from aggregator.archive.records import Direction
from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.events import AccountStateChanged, ConnectionState, MessageStored
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from tests.contract.matrix_harness import MatrixHarness, MatrixPeer
from tests.servers.certs import TestCerts
from tests.servers.irc import IrcServer
from tests.servers.odd_certs import (
    another_self_signed,
    expired_from_test_ca,
    self_signed_misnamed,
    server_certs,
    sha256_of,
)
from tests.servers.prosody import ProsodyServer

TIMEOUT = 40.0
SETTLED = (ConnectionState.CONNECTED, ConnectionState.FAILED)

#: (case id, how the certificate is made, the verification problem without a pin, how the pin is made)
CASES = [
    pytest.param(self_signed_misnamed, "self-signed certificate", "trust-presented", id="self-signed-misnamed"),
    pytest.param(expired_from_test_ca, "certificate has expired", "fingerprint-first", id="expired"),
]


class Site(Protocol):
    """One protocol's server, started with a chosen certificate."""

    protocol: str
    server: str
    options: dict[str, str]

    async def restart(self, cert_and_key: tuple[bytes, bytes]) -> None: ...
    def credentials_seen(self, address: str) -> int: ...
    async def accounts(self, count: int) -> list[tuple[str, str]]: ...


@dataclass
class World:
    core: Core
    paths: ProfilePaths
    ids: list[str]
    states: list[AccountStateChanged] = field(default_factory=list)
    stored: list[MessageStored] = field(default_factory=list)

    async def settled(self, account_id: str, *wanted: ConnectionState) -> ConnectionState:
        supervisor = self.core.accounts.supervisor(account_id)
        assert supervisor is not None
        try:
            return await supervisor.wait_for_state(*(wanted or SETTLED), timeout=TIMEOUT)
        except TimeoutError:
            history = [(e.state.value, e.reason) for e in self.states if e.account_id == account_id]
            raise AssertionError(f"{account_id} did not become {wanted or SETTLED}: {history}") from None

    def reason(self, account_id: str) -> str:
        supervisor = self.core.accounts.supervisor(account_id)
        assert supervisor is not None
        return supervisor.reason


@contextlib.asynccontextmanager
async def world(tmp_path: Path, site: Site, users: list[tuple[str, str]], ca_file: Path | None) -> AsyncIterator[World]:
    paths = ProfilePaths.resolve(tmp_path / "home")
    paths.ensure()
    secrets = SecretStore(profile_id(paths))
    store = AccountStore(paths.accounts_file)
    ids = []
    for address, password in users:
        account_id = make_account_id(site.protocol, address)
        store.add(
            AccountConfig(
                id=account_id,
                protocol=site.protocol,
                address=address,
                server=site.server,
                ca_file=str(ca_file) if ca_file else None,
                options=site.options,
            )
        )
        secrets.set_password(account_id, password)
        ids.append(account_id)
    core = build_core(paths, backoff_factory=lambda: Backoff(initial=0.1, cap=0.5))
    w = World(core, paths, ids)
    core.bus.subscribe(AccountStateChanged, w.states.append)
    core.bus.subscribe(MessageStored, w.stored.append)
    try:
        yield w
    finally:
        await core.stop()
        core.close()
        for account_id in ids:
            secrets.delete(account_id)


async def received(w: World, account_id: str, body: str) -> None:
    async with asyncio.timeout(TIMEOUT):
        while not any(
            e.message.account_id == account_id and e.message.body == body and e.message.direction is Direction.IN
            for e in w.stored
        ):
            await asyncio.sleep(0.05)


async def pinned_then_changed(
    tmp_path: Path,
    site: Site,
    test_certs: TestCerts,
    make: Callable[..., tuple[bytes, bytes]],
    problem: str,
    how: str,
    flow: Callable[[World, str, str], Any],
    pinned_count: int = 2,
) -> None:
    cert_and_key = make(test_certs) if make is expired_from_test_ca else make()
    fingerprint = sha256_of(cert_and_key[0])
    await site.restart(cert_and_key)
    users = await site.accounts(pinned_count + 1)
    # The expired certificate comes from the test CA: with that CA trusted, expiry is the only problem.
    ca_file = test_certs.ca_file if make is expired_from_test_ca else None
    async with world(tmp_path, site, users, ca_file) as w:
        pinned, unpinned = w.ids[:pinned_count], w.ids[pinned_count]
        if how == "fingerprint-first":  # typed before any connection, as an administrator gave it
            for account_id in pinned:
                pin_fingerprint(w.core.account_store, w.core.policy, w.paths, account_id, fingerprint.lower())
            w.core.accounts.configure(w.core.account_store.load())
        await w.core.start()

        assert await w.settled(unpinned) is ConnectionState.FAILED
        assert problem in w.reason(unpinned), w.reason(unpinned)
        shown = w.core.accounts.presented_certificate(unpinned)
        assert shown is not None and shown.fingerprint_sha256 == fingerprint

        if how == "trust-presented":
            for account_id in pinned:
                assert await w.settled(account_id) is ConnectionState.FAILED
                assert problem in w.reason(account_id)
                await trust_presented_certificate(w.core, account_id, fingerprint)
        for account_id in pinned:
            state = await w.settled(account_id, ConnectionState.CONNECTED, ConnectionState.FAILED)
            assert state is ConnectionState.CONNECTED, w.reason(account_id)
            config = w.core.accounts.config(account_id)
            assert config.pinned_certificate == fingerprint
            warning = pinned_warning(config)
            assert warning is not None and fingerprint in warning
        # A pin is for its account alone: the other account on the same server still refuses it.
        await w.core.accounts.stop_account(unpinned)
        w.core.accounts.start([unpinned])
        assert await w.settled(unpinned) is ConnectionState.FAILED
        assert problem in w.reason(unpinned)

        await flow(w, pinned[0], users[1][0] if pinned_count > 1 else "")

        seen_before = {a: site.credentials_seen(u[0]) for a, u in zip(pinned, users, strict=False)}
        assert all(seen_before.values()), f"the server's evidence of a login is missing: {seen_before}"
        other = another_self_signed()
        await site.restart(other)
        for account_id, (address, _password) in zip(pinned, users, strict=False):
            assert await w.settled(account_id, ConnectionState.FAILED) is ConnectionState.FAILED
            reason = w.reason(account_id)
            assert CERTIFICATE_CHANGED in reason, reason
            assert fingerprint in reason and sha256_of(other[0]) in reason, reason
            changed = w.core.accounts.presented_certificate(account_id)
            assert changed is not None and changed.fingerprint_sha256 == sha256_of(other[0])
            assert changed.problem.startswith(CERTIFICATE_CHANGED)
            assert site.credentials_seen(address) == seen_before[account_id], "credentials went to the new server"


# ------------------------------------------------------------------------------------------------ XMPP


class XmppSite:
    protocol = "xmpp"

    def __init__(self, directory: Path, test_certs: TestCerts, *, direct_tls: bool = False) -> None:
        self.directory, self.test_certs = directory, test_certs
        self.certs = server_certs(directory / "certs", test_certs, another_self_signed())
        self.prosody = ProsodyServer(directory / "prosody", self.certs)
        self.server = self.prosody.direct_tls_address if direct_tls else self.prosody.starttls_address
        self.options = {"direct_tls": "true"} if direct_tls else {}

    async def restart(self, cert_and_key: tuple[bytes, bytes]) -> None:
        server_certs(self.certs.directory, self.test_certs, cert_and_key)
        await self.prosody.stop_async()
        await asyncio.to_thread(self.prosody.start)

    def credentials_seen(self, address: str) -> int:
        """Logins Prosody accepted for ``address`` (the password is right: sent means accepted)."""
        return self.prosody.log_file.read_text(errors="replace").count(f"Authenticated as {address}")

    async def accounts(self, count: int) -> list[tuple[str, str]]:
        users = [await self.prosody.new_user("pin") for _ in range(count)]
        return [(u.jid, u.password) for u in users]


@pytest.fixture
async def xmpp_site(tmp_path: Path, test_certs: TestCerts, keyring_env: None) -> AsyncIterator[XmppSite]:
    site = XmppSite(tmp_path / "xmpp", test_certs)
    try:
        yield site
    finally:
        await site.prosody.stop_async()


async def xmpp_flow(w: World, sender: str, to: str) -> None:
    await w.core.outbound.send(sender, to, "pinned hello")
    await received(w, w.ids[1], "pinned hello")


@pytest.mark.parametrize(("make", "problem", "how"), CASES)
async def test_xmpp_pinned_certificate(
    tmp_path: Path, xmpp_site: XmppSite, test_certs: TestCerts, make: Any, problem: str, how: str
) -> None:
    await pinned_then_changed(tmp_path, xmpp_site, test_certs, make, problem, how, xmpp_flow)


async def test_xmpp_pinned_certificate_over_direct_tls(
    tmp_path: Path, test_certs: TestCerts, keyring_env: None
) -> None:
    site = XmppSite(tmp_path / "xmpp", test_certs, direct_tls=True)
    try:
        await pinned_then_changed(
            tmp_path, site, test_certs, self_signed_misnamed, "self-signed certificate", "fingerprint-first", xmpp_flow
        )
    finally:
        await site.prosody.stop_async()


# ------------------------------------------------------------------------------------------------- IRC


class IrcSite:
    protocol = "irc"

    def __init__(self, directory: Path, test_certs: TestCerts) -> None:
        self.test_certs = test_certs
        self.certs = server_certs(directory / "certs", test_certs, another_self_signed())
        self.irc = IrcServer(directory / "irc", self.certs)
        self.server = self.irc.tls_address
        self.options: dict[str, str] = {}
        self.logins = directory / "irc" / "commands.log"  # Atheme logs each SASL login as a command
        with self.irc.atheme_conf.open("a") as conf:
            conf.write(f'logfile "{self.logins}" {{ commands; }};\n')

    async def restart(self, cert_and_key: tuple[bytes, bytes]) -> None:
        server_certs(self.certs.directory, self.test_certs, cert_and_key)
        await asyncio.to_thread(self.irc.stop)
        await asyncio.to_thread(self.irc.start)

    def credentials_seen(self, address: str) -> int:
        """SASL logins Atheme accepted for ``address`` (the password is right: sent means accepted)."""
        log = self.logins.read_text(errors="replace") if self.logins.exists() else ""
        return sum(1 for line in log.splitlines() if address in line and "LOGIN" in line)

    async def accounts(self, count: int) -> list[tuple[str, str]]:
        return [(u.nick, u.password) for u in await self.irc.new_users(count, "pin")]


@pytest.fixture
async def irc_site(tmp_path: Path, test_certs: TestCerts, keyring_env: None) -> AsyncIterator[IrcSite]:
    site = IrcSite(tmp_path / "irc", test_certs)
    try:
        yield site
    finally:
        await asyncio.to_thread(site.irc.stop)


async def irc_flow(w: World, sender: str, to: str) -> None:
    await w.core.outbound.send(sender, to, "pinned hello")
    await received(w, w.ids[1], "pinned hello")


@pytest.mark.parametrize(("make", "problem", "how"), CASES)
async def test_irc_pinned_certificate(
    tmp_path: Path, irc_site: IrcSite, test_certs: TestCerts, make: Any, problem: str, how: str
) -> None:
    await pinned_then_changed(tmp_path, irc_site, test_certs, make, problem, how, irc_flow)


# ---------------------------------------------------------------------------------------------- Matrix


class TlsListener:
    """Synapse's TLS front (the fixture's Synapse speaks plain HTTP): presents the chosen certificate on
    a fixed port and relays to Synapse; a restart drops every connection, as a restarted server does.
    ``received`` counts the bytes clients sent to each certificate once TLS was up."""

    def __init__(self, upstream: str, directory: Path) -> None:
        target = urlsplit(upstream)
        assert target.hostname is not None and target.port is not None
        self.upstream = (target.hostname, target.port)
        self.directory = directory
        self.port = 0
        self.received: dict[str, int] = {}
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restart(self, cert_and_key: tuple[bytes, bytes]) -> None:
        await self.stop()
        fingerprint = sha256_of(cert_and_key[0])
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "cert.pem").write_bytes(cert_and_key[0])
        (self.directory / "key.pem").write_bytes(cert_and_key[1])
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.directory / "cert.pem", self.directory / "key.pem")
        self.received.setdefault(fingerprint, 0)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool) -> None:
            with contextlib.suppress(OSError, ssl.SSLError):
                while data := await reader.read(65536):
                    if count:
                        self.received[fingerprint] += len(data)
                    writer.write(data)
                    await writer.drain()
            with contextlib.suppress(OSError, ssl.SSLError, RuntimeError):
                writer.close()

        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._writers.add(writer)
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                writer.close()
                return
            self._writers.add(up_writer)
            await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

        self._server = await asyncio.start_server(relay, "127.0.0.1", self.port, ssl=context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)


class MatrixSite:
    protocol = "matrix"

    def __init__(self, harness: MatrixHarness, directory: Path) -> None:
        self.harness = harness
        self.listener = TlsListener(harness.server.url, directory)
        self.server = ""
        # The peer is a plain nio client without encryption: the direct chat this client starts stays plain.
        self.options: dict[str, str] = {"encrypt_new_chats": "false"}

    async def restart(self, cert_and_key: tuple[bytes, bytes]) -> None:
        await self.listener.restart(cert_and_key)
        self.server = f"https://localhost:{self.listener.port}"

    def credentials_seen(self, address: str) -> int:
        """Bytes sent (login, access token, anything) to the certificate now presented."""
        return sum(self.listener.received.values())

    async def accounts(self, count: int) -> list[tuple[str, str]]:
        users = [await self.harness.new_matrix_user("pin") for _ in range(count)]
        return [(u.user_id, u.password) for u in users]


@pytest.fixture
async def matrix_site(matrix_harness: MatrixHarness, tmp_path: Path, keyring_env: None) -> AsyncIterator[MatrixSite]:
    site = MatrixSite(matrix_harness, tmp_path / "tls")
    try:
        yield site
    finally:
        await site.listener.stop()


@pytest.mark.parametrize(("make", "problem", "how"), CASES)
async def test_matrix_pinned_certificate(
    tmp_path: Path, matrix_site: MatrixSite, matrix_harness: MatrixHarness, test_certs: TestCerts,
    make: Any, problem: str, how: str,
) -> None:  # fmt: skip
    peer: MatrixPeer = await matrix_harness.new_peer()

    async def flow(w: World, sender: str, _to: str) -> None:
        await w.core.outbound.send(sender, peer.address, "pinned hello")
        assert (await peer.next_message(TIMEOUT))[1] == "pinned hello"
        await peer.send(w.core.accounts.config(sender).address, "hello pinned")
        await received(w, sender, "hello pinned")

    try:
        await pinned_then_changed(tmp_path, matrix_site, test_certs, make, problem, how, flow, pinned_count=1)
    finally:
        await peer.close()
