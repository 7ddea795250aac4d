"""IRCv3 conformance of the IRC adapter (issue 20, part 1): a polite end when no SASL mechanism can be
used, SASL SCRAM-SHA-256 (preferred over PLAIN), STS (upgrade to TLS, the policy remembered for its
duration, no plaintext while it holds) and a SASL account name that is not the nick.

Against the scripted server (``tests/servers/scripted_irc.py``, which does what the specifications allow)
and the session's InspIRCd + Atheme. Atheme 7.2.12 (Debian 12) offers PLAIN and EXTERNAL only, not
SCRAM-SHA-256: SCRAM is tested against the scripted server, whose server side follows RFC 5802/7677.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aggregator.api import (
    AccountSettings,
    AuthenticationError,
    ConnectionLost,
    ConversationKey,
    Credentials,
    NetworkError,
    OutgoingMessage,
    PlaintextRefusedError,
)
from protocols.irc import events as ev
from protocols.irc.adapter import IrcAdapter
from protocols.irc.scram import ScramClient
from protocols.irc.sts import STS_FILE, StsStore
from tests.contract.irc_harness import IrcHarness, IrcPeer
from tests.contract.sink import EventCollector
from tests.servers.certs import TestCerts
from tests.servers.irc import IrcServer
from tests.servers.scripted_irc import SERVER, ScriptedConnection, ScriptedIrcServer

PASSWORD = "s3cret-pässword"


def settings(server: str, *, data_dir: Path | None = None, ca_file: Path | None = None, plain: bool = True,
             **options: str) -> AccountSettings:  # fmt: skip
    return AccountSettings(
        "irc:alice", "alice", server=server, allow_plaintext=plain, ca_file=ca_file, options=options, data_dir=data_dir
    )


def wire(server: ScriptedIrcServer) -> list[str]:
    return [line for _, line in server.lines]


# ------------------------------------------------------------------------------------------ SASL


def plain_ok(mechanism: str, payloads: list[bytes], c: ScriptedConnection) -> list[str]:
    if mechanism != "PLAIN":
        return [f":{SERVER} 908 {c.nick} PLAIN :are available SASL mechanisms", f":{SERVER} 904 {c.nick} :failed"]
    if not payloads:
        return ["AUTHENTICATE +"]
    _, account, password = payloads[-1].split(b"\0")
    if password.decode() != PASSWORD:
        return [f":{SERVER} 904 {c.nick} :SASL authentication failed"]
    return [f":{SERVER} 900 {c.nick} {c.nick}!u@h {account.decode()} :You are now logged in",
            f":{SERVER} 903 {c.nick} :SASL authentication successful"]  # fmt: skip


class ScramServer:
    """The server side of SCRAM-SHA-256 (RFC 5802) for one password; ``forge`` sends a wrong signature."""

    def __init__(self, password: str, *, forge: bool = False, refuse: bool = False) -> None:
        self.salt = secrets.token_bytes(16)
        self.iterations = 4096
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), self.salt, self.iterations)
        self.stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", hashlib.sha256).digest()).digest()
        self.server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        self.forge, self.refuse = forge, refuse
        self.accounts: list[str] = []

    def __call__(self, mechanism: str, payloads: list[bytes], c: ScriptedConnection) -> list[str]:
        if mechanism == "PLAIN":
            return plain_ok(mechanism, payloads, c)
        if mechanism != "SCRAM-SHA-256" or (self.refuse and payloads):
            return [f":{SERVER} 904 {c.nick} :SASL authentication failed"]
        if not payloads:
            return ["AUTHENTICATE +"]
        if len(payloads) == 1:
            self.first_bare = payloads[0].decode().removeprefix("n,,")
            attrs = dict(item.split("=", 1) for item in self.first_bare.split(","))
            self.accounts.append(attrs["n"])
            self.nonce = attrs["r"] + secrets.token_hex(8)
            salt = base64.b64encode(self.salt).decode()
            self.server_first = f"r={self.nonce},s={salt},i={self.iterations}"
            return [f"AUTHENTICATE {base64.b64encode(self.server_first.encode()).decode()}"]
        if len(payloads) == 2:
            final = payloads[1].decode()
            without_proof, _, proof = final.rpartition(",p=")
            auth = f"{self.first_bare},{self.server_first},{without_proof}".encode()
            signature = hmac.new(self.stored_key, auth, hashlib.sha256).digest()
            client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature, strict=True))
            if hashlib.sha256(client_key).digest() != self.stored_key:
                return [f":{SERVER} 904 {c.nick} :SASL authentication failed"]
            key = b"forged" if self.forge else self.server_key
            verifier = base64.b64encode(hmac.new(key, auth, hashlib.sha256).digest()).decode()
            return [f"AUTHENTICATE {base64.b64encode(f'v={verifier}'.encode()).decode()}"]
        return [f":{SERVER} 900 {c.nick} {c.nick}!u@h {self.accounts[-1]} :You are now logged in",
                f":{SERVER} 903 {c.nick} :SASL authentication successful"]  # fmt: skip


def test_scram_client_matches_rfc_7677() -> None:
    client = ScramClient("user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
    assert client.first() == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    final = client.final(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    assert final == (
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    client.verify(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")


@pytest.mark.parametrize("caps", ["sasl=EXTERNAL", "sasl=ECDSA-NIST256P-CHALLENGE", "multi-prefix"])
async def test_no_usable_mechanism_ends_with_a_quit_that_says_why(caps: str) -> None:
    async with ScriptedIrcServer(caps=caps, sasl=plain_ok) as server:
        adapter = IrcAdapter(settings(server.address), EventCollector())
        with pytest.raises(AuthenticationError, match="SASL"):
            await adapter.connect(Credentials(PASSWORD))
        await server.wait_for(lambda: server.closed == [1], "the end of the connection")
        (connection,) = server.connections
        assert connection.quit_reason, wire(server)  # a QUIT with a reason, not a dropped connection
        assert not connection.registered
        assert not any(line.startswith("AUTHENTICATE") for line in wire(server))


async def test_a_refused_login_ends_with_a_quit() -> None:
    async with ScriptedIrcServer(caps="sasl=PLAIN", sasl=plain_ok) as server:
        adapter = IrcAdapter(settings(server.address), EventCollector())
        with pytest.raises(AuthenticationError):
            await adapter.connect(Credentials("wrong"))
        await server.wait_for(lambda: server.closed == [1], "the end of the connection")
        assert server.connections[0].quit_reason == "SASL authentication failed"


async def test_scram_sha_256_is_preferred_over_plain_and_the_password_never_travels() -> None:
    scram = ScramServer(PASSWORD)
    async with ScriptedIrcServer(caps="sasl=PLAIN,SCRAM-SHA-256,EXTERNAL", sasl=scram) as server:
        sink = EventCollector()
        adapter = IrcAdapter(settings(server.address), sink)
        await adapter.connect(Credentials(PASSWORD))
        try:
            mechanisms = [line.split()[1] for line in wire(server) if line.startswith("AUTHENTICATE ")][:1]
            assert mechanisms == ["SCRAM-SHA-256"]
            assert scram.accounts == ["alice"]
            everything = "\n".join(wire(server))
            assert PASSWORD not in everything
            assert base64.b64encode(PASSWORD.encode()).decode()[:12] not in everything
            assert not any(line == "AUTHENTICATE PLAIN" for line in wire(server))
        finally:
            await adapter.disconnect()


async def test_a_server_that_cannot_prove_the_password_is_refused_without_falling_back_to_plain() -> None:
    async with ScriptedIrcServer(caps="sasl=PLAIN,SCRAM-SHA-256", sasl=ScramServer(PASSWORD, forge=True)) as server:
        adapter = IrcAdapter(settings(server.address), EventCollector())
        with pytest.raises(AuthenticationError, match="prove"):
            await adapter.connect(Credentials(PASSWORD))
        assert "AUTHENTICATE *" in wire(server)
        assert "AUTHENTICATE PLAIN" not in wire(server)


async def test_an_account_without_scram_secrets_logs_in_with_plain() -> None:
    """A server that offers SCRAM but refuses it for this account (its password predates SCRAM)."""
    async with ScriptedIrcServer(caps="sasl=PLAIN,SCRAM-SHA-256", sasl=ScramServer(PASSWORD, refuse=True)) as server:
        adapter = IrcAdapter(settings(server.address), EventCollector())
        await adapter.connect(Credentials(PASSWORD))
        try:
            starts = [line for line in wire(server) if line in ("AUTHENTICATE SCRAM-SHA-256", "AUTHENTICATE PLAIN")]
            assert starts == ["AUTHENTICATE SCRAM-SHA-256", "AUTHENTICATE PLAIN"]
        finally:
            await adapter.disconnect()


# ------------------------------------------------------------------------------------------- STS


@pytest.fixture
def server_tls(test_certs: TestCerts) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(test_certs.cert_file), str(test_certs.key_file))
    return context


@pytest.fixture
async def sts_server(server_tls: ssl.SSLContext) -> AsyncIterator[ScriptedIrcServer]:
    server = ScriptedIrcServer(tls_context=server_tls)
    async with server:
        server.caps = f"sts=port={server.tls_port},duration=5"  # duration is ignored on plaintext
        server.tls_caps = "sts=duration=3600"
        yield server


def connections(server: ScriptedIrcServer) -> list[bool]:
    """Whether each connection so far was TLS."""
    return [c.tls for c in server.connections]


async def test_sts_upgrades_to_tls_and_refuses_plaintext_while_the_policy_holds(
    sts_server: ScriptedIrcServer, test_certs: TestCerts, tmp_path: Path
) -> None:
    server = sts_server
    made = settings(server.address, data_dir=tmp_path, ca_file=test_certs.ca_file)
    adapter = IrcAdapter(made, EventCollector())
    await adapter.connect(Credentials(None))
    assert connections(server) == [False, True]  # the plaintext one was left at CAP LS
    assert not server.connections[0].registered and server.connections[1].registered
    policy = json.loads((tmp_path / STS_FILE).read_text())["127.0.0.1"]
    assert policy["port"] == server.tls_port and policy["duration"] == 3600
    await adapter.disconnect()

    again = IrcAdapter(made, EventCollector())  # e.g. after a restart: same account, same data
    await again.connect(Credentials(None))
    assert connections(server) == [False, True, True]  # straight to TLS, never plaintext
    await again.disconnect()

    server._servers[1].close()  # the TLS port is gone: no fallback to plaintext
    await server._servers[1].wait_closed()
    third = IrcAdapter(made, EventCollector())
    with pytest.raises(NetworkError):
        await third.connect(Credentials(None))
    assert connections(server) == [False, True, True]


async def test_a_policy_of_duration_zero_is_forgotten(
    sts_server: ScriptedIrcServer, test_certs: TestCerts, tmp_path: Path
) -> None:
    server = sts_server
    made = settings(server.address, data_dir=tmp_path, ca_file=test_certs.ca_file)
    adapter = IrcAdapter(made, EventCollector())
    await adapter.connect(Credentials(None))
    await adapter.disconnect()
    assert "127.0.0.1" in json.loads((tmp_path / STS_FILE).read_text())
    server.tls_caps = "sts=duration=0"
    await adapter.connect(Credentials(None))  # straight to TLS, where the policy is withdrawn
    await adapter.disconnect()
    assert json.loads((tmp_path / STS_FILE).read_text()) == {}
    server.caps = ""
    await adapter.connect(Credentials(None))  # plaintext again, as the account says
    await adapter.disconnect()
    assert connections(server) == [False, True, True, False]


async def test_an_sts_value_without_a_port_is_ignored_on_plaintext(tmp_path: Path) -> None:
    async with ScriptedIrcServer(caps="sts=duration=3600") as server:
        adapter = IrcAdapter(settings(server.address, data_dir=tmp_path), EventCollector())
        await adapter.connect(Credentials(None))
        await adapter.disconnect()
        assert connections(server) == [False] and not (tmp_path / STS_FILE).exists()


# --------------------------------------------------------------------------------- account name


async def test_the_sasl_account_name_can_differ_from_the_nick(irc_harness: IrcHarness, irc_server: IrcServer) -> None:
    account, password = await irc_harness.new_user()  # a NickServ account, registered under its nick
    nick = f"n{secrets.token_hex(5)}"  # another nick, not registered
    bob = await IrcPeer.connect(irc_server, f"b{secrets.token_hex(5)}")
    try:
        made = irc_harness.settings(f"irc:{nick}", nick, sasl_account=account)
        adapter = IrcAdapter(made, EventCollector())
        await adapter.connect(Credentials(password))  # the old client sent the nick as the login: refused
        try:
            key = ConversationKey.direct(f"irc:{nick}", bob.handle)
            await adapter.send_message(key, OutgoingMessage(body="from my account", idempotency_key="k1"))
            seen = await bob.wait_event(lambda e: isinstance(e, ev.Message) and e.text == "from my account")
            assert isinstance(seen, ev.Message)
            assert (seen.source, seen.account) == (nick, account)  # bob sees alice's nick and her account
        finally:
            await adapter.disconnect()
    finally:
        await bob.close()


async def test_while_a_policy_holds_a_plaintext_port_is_refused(test_certs: TestCerts, tmp_path: Path) -> None:
    """The remembered policy names a port that now speaks plaintext: no login goes out in the clear."""
    async with ScriptedIrcServer() as server:
        StsStore(tmp_path / STS_FILE).remember("127.0.0.1", server.port, 3600)
        adapter = IrcAdapter(settings(server.address, data_dir=tmp_path, ca_file=test_certs.ca_file), EventCollector())
        with pytest.raises(PlaintextRefusedError, match="STS policy"):
            await adapter.connect(Credentials(PASSWORD))
        assert not any(c.registered for c in server.connections)
        assert not [line for line in wire(server) if line.startswith(("NICK", "USER", "AUTHENTICATE"))]


async def test_sts_announced_after_registration_moves_the_connection_to_tls(
    sts_server: ScriptedIrcServer, test_certs: TestCerts, tmp_path: Path
) -> None:
    """``CAP NEW sts=port=P`` on a registered plaintext connection: it ends, and the next connect is TLS."""
    server = sts_server
    plain_caps = server.caps
    server.caps = "cap-notify"
    sink = EventCollector()
    adapter = IrcAdapter(settings(server.address, data_dir=tmp_path, ca_file=test_certs.ca_file), sink)
    await adapter.connect(Credentials(None))
    server.caps = plain_caps
    server.announce(f":{SERVER} CAP {{nick}} NEW :{plain_caps}")
    lost = await sink.wait_for(ConnectionLost, timeout=10)
    assert "STS" in lost.reason
    await adapter.connect(Credentials(None))  # what the account's supervisor does next
    try:
        assert connections(server) == [False, True]
        assert json.loads((tmp_path / STS_FILE).read_text())["127.0.0.1"]["port"] == server.tls_port
    finally:
        await adapter.disconnect()
