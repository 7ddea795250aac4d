"""What a user does with an XMPP account, end to end: the real ``aggregator`` console script in
subprocesses (keyring session), the session's Prosody, and bob as a plain slixmpp client in the test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from tests.cli.conftest import FAST_RECONNECT, Headless, Message, Profile, wait_until
from tests.contract.xmpp_harness import XmppPeer, close_client, login_client
from tests.servers.certs import TestCerts
from tests.servers.prosody import ProsodyServer

CONNECT_TIMEOUT = 30.0  # generous: the machine's cores are shared with other test runs


@dataclass(frozen=True, slots=True)
class Account:
    address: str
    password: str

    @property
    def account_id(self) -> str:
        return f"xmpp:{self.address}"


def state(account: Account, name: str) -> str:
    return rf"^\S+ {re.escape(account.account_id)}: {name}\b"


async def add_account(
    profile: Profile, prosody: ProsodyServer, account: Account, *extra: str, ca: bool = True, password: str = ""
) -> None:
    args = ["account", "add", "xmpp", account.address, "--server", prosody.starttls_address, "--password-stdin"]
    if ca:
        args += ["--ca-file", str(prosody.certs.ca_file)]
    (await profile.run(*args, *extra, stdin=(password or account.password) + "\n")).ok()


async def new_account(prosody: ProsodyServer, prefix: str) -> Account:
    user = await prosody.new_user(prefix)
    return Account(user.jid, user.password)


async def start_headless(profile: Profile, account: Account) -> Headless:
    headless = await profile.headless()
    await headless.wait_line(state(account, "connected"), timeout=CONNECT_TIMEOUT)
    return headless


def stored_archive_ids(profile: Profile, account: Account) -> set[str | None]:
    """The archive ids of the catch-up positions stored for ``account`` (read-only, beside the running client)."""
    with contextlib.closing(sqlite3.connect(f"file:{profile.archive_file}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT value FROM catchup_positions WHERE account_id = ?", (account.account_id,))
        return {json.loads(value).get("id") for (value,) in rows}


async def caught_up(profile: Profile, prosody: ProsodyServer, account: Account, peer: Account, marker: str) -> Message:
    """The sync point after a connect: ``peer`` sends a live ``marker``; returns its row once its archive id is
    a stored position. A live message carries a position only once the catch-up is complete on this
    connection, so by then everything the catch-up found (a duplicate included) is logged."""
    async with online(prosody, peer) as client:
        await client.send(account.address, marker)
    history = await profile.wait_history(peer.address, with_bodies(marker), timeout=20)
    (row,) = [m for m in history if m["body"] == marker]
    await wait_until(lambda: row["server_id"] in stored_archive_ids(profile, account), "the marker's position")
    return row


@contextlib.asynccontextmanager
async def online(prosody: ProsodyServer, account: Account, resource: str = "peer") -> AsyncIterator[XmppPeer]:
    peer = XmppPeer(account.address, await login_client(prosody, account.address, account.password, resource=resource))
    try:
        yield peer
    finally:
        await peer.close()


async def archive(prosody: ProsodyServer, account: Account) -> list[tuple[str, str, datetime]]:
    """(archive id, body, archive time) of the account's MAM archive, read by a plain slixmpp client."""
    client = await login_client(prosody, account.address, account.password, resource="reader", presence=False)
    found: list[tuple[str, str, datetime]] = []

    def collect(stanza: Any) -> None:
        result = stanza.xml.find("{urn:xmpp:mam:2}result")
        body = result.find(".//{jabber:client}body") if result is not None else None
        delay = result.find(".//{urn:xmpp:delay}delay") if result is not None else None
        if result is not None and body is not None and delay is not None:
            stamp = datetime.fromisoformat(delay.get("stamp", "").replace("Z", "+00:00"))
            found.append((result.get("id", ""), body.text or "", stamp))

    client.register_handler(Callback("mam", MatchXPath("{jabber:client}message/{urn:xmpp:mam:2}result"), collect))
    try:
        iq = client.make_iq_set()
        iq.xml.append(ET.fromstring("<query xmlns='urn:xmpp:mam:2' queryid='e2e'/>"))
        await iq.send(timeout=15)
    finally:
        await close_client(client)
    return found


def with_bodies(*texts: str) -> Any:
    return lambda messages: all(any(m["body"] == text for m in messages) for text in texts)


def count(messages: list[Message], body: str) -> int:
    return sum(1 for m in messages if m["body"] == body)


# --------------------------------------------------------------------------------- (a) receiving


async def test_messages_from_bob_are_in_history_in_order_with_the_servers_timestamps(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    alice, bob = await new_account(running_prosody, "alice"), await new_account(running_prosody, "bob")
    await add_account(profile, running_prosody, alice)
    headless = await start_headless(profile, alice)
    texts = [f"message {n} from bob" for n in range(1, 4)]
    async with online(running_prosody, bob) as peer:
        for text in texts:
            await peer.send(alice.address, text)
    messages = await profile.wait_history(bob.address, with_bodies(*texts), timeout=20)
    assert [m["body"] for m in messages] == texts
    assert all((m["direction"], m["sender"], m["state"]) == ("in", bob.address, "received") for m in messages)
    stamps = {body: (archive_id, stamp) for archive_id, body, stamp in await archive(running_prosody, alice)}
    for message in messages:
        archive_id, stamp = stamps[message["body"]]
        assert message["server_id"] == archive_id  # the dedupe key is the server's archive id
        sent_at = datetime.fromisoformat(message["sent_at"].replace("Z", "+00:00"))
        assert abs((sent_at - stamp).total_seconds()) < 2.0, (message, stamp)  # the archive keeps whole seconds
    assert [m["sent_at"] for m in messages] == sorted(m["sent_at"] for m in messages)
    assert await headless.stop() == 0


# ------------------------------------------------------------------ (b) reconnecting and backfill


async def test_reconnects_after_a_server_restart_delivers_the_queued_message_once_and_backfills_once(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    prosody = running_prosody
    alice, bob = await new_account(prosody, "alice"), await new_account(prosody, "bob")
    await add_account(profile, prosody, alice)
    headless = await start_headless(profile, alice)

    mark = len(headless.lines)
    await prosody.stop_async()
    await headless.wait_line(state(alice, "waiting"), start=mark, timeout=15)
    queued = (await profile.run("send", alice.address, bob.address, "sent while the server was down")).ok()
    assert queued.stdout.startswith("Queued message "), str(queued)

    mark = len(headless.lines)
    await asyncio.to_thread(prosody.start)
    restarted = time.monotonic()
    await headless.wait_line(state(alice, "connected"), start=mark, timeout=FAST_RECONNECT["reconnect_max_delay"] + 10)
    took = time.monotonic() - restarted
    assert took < FAST_RECONNECT["reconnect_max_delay"] + 10, took  # the cap, plus a login on a loaded machine
    await profile.wait_history(bob.address, lambda ms: [m["state"] for m in ms] == ["sent"], timeout=20)

    async with online(prosody, bob) as peer:  # bob comes online: offline storage delivers it
        received = await peer.next_message(timeout=15)
        assert received == (alice.address, "sent while the server was down")
        # Alice sends a marker after it: messages go out in order, so a duplicate would have come first.
        (await profile.run("send", alice.address, bob.address, "marker after the restart")).ok()
        assert await peer.next_message(timeout=15) == (alice.address, "marker after the restart")
        copies = [s for s in peer.stanzas if s["body"] == "sent while the server was down"]
        assert len(copies) == 1
        origin = copies[0].xml.find("{urn:xmpp:sid:0}origin-id")
        assert origin is not None and origin.get("id")  # the core's idempotency key went out as origin-id

        # Alice goes offline; bob writes; alice's next run backfills from MAM, exactly once.
        assert await headless.stop() == 0
        away = [f"while alice was offline {n}" for n in range(1, 3)]
        for text in away:
            await peer.send(alice.address, text)
    headless = await start_headless(profile, alice)
    messages = await profile.wait_history(bob.address, with_bodies(*away), timeout=20)
    await caught_up(profile, prosody, alice, bob, "marker after the second start")
    messages = await profile.history(bob.address)
    assert [count(messages, text) for text in away] == [1, 1], messages
    assert all(m["backfill"] for m in messages if m["body"] in away)
    assert count(messages, "sent while the server was down") == 1
    assert await headless.stop() == 0

    # A third run fetches nothing again (the stored position), and changes nothing.
    headless = await start_headless(profile, alice)
    marker = await caught_up(profile, prosody, alice, bob, "marker after the third start")
    assert await profile.history(bob.address) == [*messages, marker]
    assert await headless.stop() == 0


async def test_offline_storage_copy_and_archive_copy_are_one_row(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    """A message stored offline reaches the account twice (offline storage on presence, then MAM):
    both copies carry the same stanza-id, and history has one row. Checked on the wire with a plain
    client first (presence, no MAM), then through the product."""
    alice, bob = await new_account(running_prosody, "alice"), await new_account(running_prosody, "bob")
    await add_account(profile, running_prosody, alice)
    async with online(running_prosody, bob) as peer:
        await peer.send(alice.address, "stored offline")
    # Another client of alice's takes the offline copy first (presence first, no MAM): it has the id.
    phone = await login_client(running_prosody, alice.address, alice.password, resource="phone", presence=False)
    got: list[Any] = []
    phone.add_event_handler("message", got.append)
    phone.send_presence()
    try:
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        (offline,) = got
        assert offline.xml.find("{urn:xmpp:delay}delay") is not None
        stanza_id = offline.xml.find("{urn:xmpp:sid:0}stanza-id").get("id")
    finally:
        await close_client(phone)
    ((archive_id, _, _),) = [entry for entry in await archive(running_prosody, alice) if entry[1] == "stored offline"]
    assert stanza_id == archive_id
    headless = await start_headless(profile, alice)
    (message,) = await profile.wait_history(bob.address, with_bodies("stored offline"), timeout=20)
    assert message["server_id"] == archive_id
    assert await headless.stop() == 0


# --------------------------------------------------------------------------------------- (c) carbons


async def test_messages_from_a_second_resource_are_logged_as_outgoing(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    alice, bob = await new_account(running_prosody, "alice"), await new_account(running_prosody, "bob")
    await add_account(profile, running_prosody, alice)
    headless = await start_headless(profile, alice)
    async with online(running_prosody, alice, resource="phone") as phone:
        await phone.send(bob.address, "typed on my phone")
    (message,) = await profile.wait_history(bob.address, with_bodies("typed on my phone"), timeout=20)
    assert (message["direction"], message["sender"], message["state"]) == ("out", alice.address, "sent")
    assert await headless.stop() == 0
    # The archive copy on the next connect is the same row.
    headless = await start_headless(profile, alice)
    marker = await caught_up(profile, running_prosody, alice, bob, "marker after the restart")
    assert await profile.history(bob.address) == [message, marker]
    assert await headless.stop() == 0


# ------------------------------------------------------------------------------------ (d) refusals


async def test_a_wrong_password_is_a_clear_error_and_not_retried(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    alice = await new_account(running_prosody, "alice")
    await add_account(profile, running_prosody, alice, password="not-" + alice.password)
    headless = await profile.headless()
    failed = headless.lines[await headless.wait_line(state(alice, "failed"), timeout=CONNECT_TIMEOUT)]
    assert "refused the login" in failed and "not-authorized" in failed, failed
    assert alice.password not in headless.output()
    await asyncio.sleep(3)  # a retrying client would try several times in this window
    assert len(headless.matching(state(alice, "connecting"))) == 1, headless.output()
    assert headless.matching(state(alice, "waiting")) == []
    assert await headless.stop() == 0


async def test_an_untrusted_certificate_is_refused_naming_the_problem(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    alice = await new_account(running_prosody, "alice")
    await add_account(profile, running_prosody, alice, ca=False)
    headless = await profile.headless()
    failed = headless.lines[await headless.wait_line(state(alice, "failed"), timeout=CONNECT_TIMEOUT)]
    assert "certificate" in failed and "not trusted" in failed, failed
    assert "self-signed certificate in certificate chain" in failed or "unable to get local issuer" in failed
    await asyncio.sleep(1)
    assert len(headless.matching(state(alice, "connecting"))) == 1, headless.output()
    assert await headless.stop() == 0


class NoTlsServer:
    """Offers SASL but no STARTTLS, never answers a login; records what clients send."""

    FEATURES = (
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
        " from='localhost' id='s1' version='1.0'><stream:features>"
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>"
        "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"
    )

    def __init__(self) -> None:
        self.received = bytearray()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                self.received += data
                if b"<stream:stream" in data:
                    writer.write(self.FEATURES.encode())
        writer.close()


async def test_plaintext_is_refused_unless_the_account_allows_it(profile: Profile, test_certs: TestCerts) -> None:
    fake = NoTlsServer()
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    address = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    strict, lax = Account("strict@localhost", "pw-strict-123"), Account("lax@localhost", "pw-lax-456")
    try:
        for account, extra in ((strict, ()), (lax, ("--allow-plaintext",))):
            args = ["account", "add", "xmpp", account.address, "--server", address, "--password-stdin", *extra]
            (await profile.run(*args, stdin=account.password + "\n")).ok()
        headless = await profile.headless()
        failed = headless.lines[await headless.wait_line(state(strict, "failed"), timeout=CONNECT_TIMEOUT)]
        assert "offers no encryption" in failed and "allow plaintext" in failed, failed
        deadline = time.monotonic() + 15
        while b"<auth" not in fake.received and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        auth = bytes(fake.received)
        assert b'mechanism="SCRAM-SHA-1"' in auth or b"mechanism='SCRAM-SHA-1'" in auth, auth[-300:]
        assert b"PLAIN" not in auth.split(b"<auth", 1)[1][:80]
        assert strict.password.encode() not in auth and lax.password.encode() not in auth
        assert await headless.stop() == 0
    finally:
        server.close()
        await server.wait_closed()
