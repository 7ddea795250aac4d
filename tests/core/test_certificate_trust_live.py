"""An untrusted server certificate, shown and then trusted, on the real servers.

Each account has no CA file, so the test CA's server certificate is not trusted: the account FAILS
with the certificate the server presented (its fingerprint is the one of the test's certificate
file), and after "trust this certificate for this account" it connects, with verification still on
for every other account (the pin is this account's alone).

Synapse's fixture serves plain HTTP only, so Matrix goes through a small TLS terminator in front of it
that presents the test certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.accounts.trust import pinned_certificate_path, trust_presented_certificate
from aggregator.api import CertificateDetails, ConfigurationError
from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.events import AccountStateChanged, ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from tests.contract.irc_harness import IrcHarness
from tests.contract.matrix_harness import MatrixHarness
from tests.contract.xmpp_harness import XmppHarness
from tests.servers.certs import TestCerts

TIMEOUT = 40.0  # generous: the machine's cores are shared with other test runs


def leaf_fingerprint(cert_file: Path) -> str:
    der = ssl.PEM_cert_to_DER_cert(cert_file.read_text())
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


@dataclass
class Profile:
    core: Core
    account_id: str
    states: list[AccountStateChanged]


Account = Callable[..., Awaitable[Profile]]


@pytest.fixture
async def one_account(tmp_path: Path, keyring_env: None) -> AsyncIterator[Account]:
    """``await one_account(protocol, address, server, password, **options)``: a core with that account,
    without a CA file."""
    made: list[tuple[Core, SecretStore, str]] = []

    async def make(protocol: str, address: str, server: str, password: str, **options: str) -> Profile:
        paths = ProfilePaths.resolve(tmp_path / "home")
        paths.ensure()
        account_id = make_account_id(protocol, address)
        AccountStore(paths.accounts_file).add(
            AccountConfig(id=account_id, protocol=protocol, address=address, server=server, options=options)
        )
        secrets = SecretStore(profile_id(paths))
        secrets.set_password(account_id, password)
        core = build_core(paths, backoff_factory=lambda: Backoff(initial=0.1, cap=1.0))
        made.append((core, secrets, account_id))
        states: list[AccountStateChanged] = []
        core.bus.subscribe(AccountStateChanged, states.append)
        return Profile(core, account_id, states)

    yield make
    for core, secrets, account_id in made:
        await core.stop()
        core.close()
        secrets.delete(account_id)


async def fails_then_connects_once_trusted(profile: Profile, test_certs: TestCerts, host: str) -> CertificateDetails:
    core, account_id = profile.core, profile.account_id
    await core.start()
    supervisor = core.accounts.supervisor(account_id)
    assert supervisor is not None
    assert await supervisor.wait_for_state(ConnectionState.FAILED, timeout=TIMEOUT) is ConnectionState.FAILED
    failed = [e for e in profile.states if e.state is ConnectionState.FAILED]
    assert failed and failed[-1].certificate is not None, failed
    shown = failed[-1].certificate
    assert "not trusted" in failed[-1].reason
    assert shown.fingerprint_sha256 == leaf_fingerprint(test_certs.cert_file)
    assert shown.subject == "CN=localhost" and shown.issuer == "CN=IM Test CA"
    assert shown.host == host
    assert shown.problem and shown.problem in failed[-1].reason
    assert shown.not_before < shown.not_after
    assert ssl.PEM_cert_to_DER_cert(shown.pem) == ssl.PEM_cert_to_DER_cert(test_certs.cert_file.read_text())
    assert core.accounts.presented_certificate(account_id) == shown

    config = await trust_presented_certificate(core, account_id, shown.fingerprint_sha256.lower().replace(":", ""))
    pinned = pinned_certificate_path(core.paths, account_id)
    assert config.pinned_certificate == shown.fingerprint_sha256 and config.ca_file is None
    assert core.account_store.resolve(account_id).pinned_certificate == shown.fingerprint_sha256  # saved
    assert stat.S_IMODE(pinned.stat().st_mode) == 0o644
    assert pinned.read_text() == shown.pem
    supervisor = core.accounts.supervisor(account_id)
    assert supervisor is not None
    state = await supervisor.wait_for_state(ConnectionState.CONNECTED, ConnectionState.FAILED, timeout=TIMEOUT)
    assert state is ConnectionState.CONNECTED, supervisor.reason
    assert core.accounts.presented_certificate(account_id) is None
    return shown


@pytest.mark.parametrize("direct_tls", [False, True], ids=["starttls", "direct-tls"])
async def test_xmpp_untrusted_certificate_is_shown_then_trusted(
    one_account: Account, xmpp_harness: XmppHarness, test_certs: TestCerts, direct_tls: bool
) -> None:
    address, password = await xmpp_harness.new_user()
    server = xmpp_harness.server.direct_tls_address if direct_tls else xmpp_harness.server.starttls_address
    profile = await one_account("xmpp", address, server, password, direct_tls=str(direct_tls).lower())
    await fails_then_connects_once_trusted(profile, test_certs, server)


async def test_irc_untrusted_certificate_is_shown_then_trusted(
    one_account: Account, irc_harness: IrcHarness, test_certs: TestCerts
) -> None:
    nick, password = await irc_harness.new_user()
    server = irc_harness.server.tls_address
    profile = await one_account("irc", nick, server, password)
    await fails_then_connects_once_trusted(profile, test_certs, server)


@contextlib.asynccontextmanager
async def tls_terminator(test_certs: TestCerts, upstream: str) -> AsyncIterator[int]:
    """A TLS listener on 127.0.0.1 presenting the test certificate, relaying to a plain HTTP upstream."""
    target = urlsplit(upstream)
    assert target.hostname is not None and target.port is not None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(test_certs.cert_file, test_certs.key_file)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError, ssl.SSLError, RuntimeError):
            writer.close()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)


async def test_matrix_untrusted_certificate_is_shown_then_trusted(
    one_account: Account, matrix_harness: MatrixHarness, test_certs: TestCerts
) -> None:
    user = await matrix_harness.new_matrix_user("certs")
    async with tls_terminator(test_certs, matrix_harness.server.url) as port:
        profile = await one_account("matrix", user.user_id, f"https://localhost:{port}", user.password)
        await fails_then_connects_once_trusted(profile, test_certs, f"localhost:{port}")
        await profile.core.stop()


async def test_a_changed_certificate_is_not_trusted_unseen(
    one_account: Account, irc_harness: IrcHarness, test_certs: TestCerts
) -> None:
    nick, password = await irc_harness.new_user()
    profile = await one_account("irc", nick, irc_harness.server.tls_address, password)
    await profile.core.start()
    supervisor = profile.core.accounts.supervisor(profile.account_id)
    assert supervisor is not None
    await supervisor.wait_for_state(ConnectionState.FAILED, timeout=TIMEOUT)
    with pytest.raises(ConfigurationError, match="nothing was trusted"):
        await trust_presented_certificate(profile.core, profile.account_id, "00" * 32)
    assert profile.core.account_store.resolve(profile.account_id).pinned_certificate is None
    assert not pinned_certificate_path(profile.core.paths, profile.account_id).exists()
    assert profile.core.accounts.state(profile.account_id) is ConnectionState.FAILED
