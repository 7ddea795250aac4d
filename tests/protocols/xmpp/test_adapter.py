"""What the XMPP adapter does beyond the contract suite, against a real Prosody."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from aggregator.api import (
    AdapterWarning,
    AuthenticationError,
    CertificateError,
    ConnectionLost,
    ConversationKey,
    Credentials,
    MessageReceived,
    MessageState,
    MessageStateChanged,
    NetworkError,
    NotConnectedError,
    OutgoingMessage,
    PlaintextRefusedError,
    PresenceChanged,
    PresenceKind,
    SubscriptionRequested,
    TypingChanged,
)
from tests.contract.sink import tasks_finished
from tests.contract.xmpp_harness import XmppHarness, XmppPeer, close_client, login_client, server_round_trip
from tests.protocols.xmpp.conftest import Client, NewClient
from tests.servers.prosody import ProsodyServer


def to(client: Client, peer: XmppPeer) -> ConversationKey:
    return ConversationKey.direct(client.adapter._account_id, peer.handle)


# ----------------------------------------------------------------------------------- connecting


async def test_direct_tls_login(new_client: NewClient, harness: XmppHarness) -> None:
    client = await new_client(server=harness.server.direct_tls_address, options={"direct_tls": "true"})
    peer = await harness.new_peer()
    await client.adapter.send_message(to(client, peer), OutgoingMessage("over direct TLS", "k1"))
    assert (await peer.next_message())[1] == "over direct TLS"


async def test_wrong_password_is_authentication_error(new_client: NewClient) -> None:
    client = await new_client(connect=False)
    wrong = "nope-" + secrets.token_hex(6)
    with pytest.raises(AuthenticationError) as raised:
        await client.adapter.connect(Credentials(wrong))
    assert "not-authorized" in str(raised.value)
    assert wrong not in repr(raised.value) and client.password not in repr(raised.value)
    assert not raised.value.retryable


@pytest.mark.parametrize("direct_tls", [False, True], ids=["starttls", "direct-tls"])
async def test_untrusted_certificate_is_certificate_error_naming_the_problem(
    new_client: NewClient, harness: XmppHarness, direct_tls: bool
) -> None:
    server = harness.server.direct_tls_address if direct_tls else harness.server.starttls_address
    client = await new_client(
        connect=False, ca_file=None, server=server, options={"direct_tls": str(direct_tls).lower()}
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    before = asyncio.all_tasks()
    with pytest.raises(CertificateError) as raised:
        await client.connect()
    message = str(raised.value)
    # OpenSSL's own words for a certificate signed by an unknown CA:
    assert "self-signed certificate in certificate chain" in message or "unable to get local issuer" in message
    assert server in message
    assert client.password not in message
    assert loop.time() - started < 5, "no reconnect loop behind the error"
    await tasks_finished(before)  # nothing of the failed attempt is left running that could still report
    assert not client.sink.of_type(ConnectionLost)


async def test_unreachable_fails_fast_without_retry_loop(new_client: NewClient, harness: XmppHarness) -> None:
    client = await new_client(connect=False, server=harness.unreachable_settings("a", "a@localhost").server)
    with pytest.raises(NetworkError) as raised:
        await client.connect()
    assert "cannot reach" in str(raised.value)


class NoTlsServer:
    """A fake XMPP server that offers SASL but no STARTTLS; records what the client sends."""

    FEATURES = (
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
        " from='localhost' id='s1' version='1.0'><stream:features>"
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>"
        "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"
    )

    def __init__(self) -> None:
        self.received = bytearray()
        self.closed = asyncio.Event()  # the client closed its end: nothing more can come from it
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                self.received += data
                if b"<stream:stream" in data:
                    writer.write(self.FEATURES.encode())
        self.closed.set()
        writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        try:
            yield f"127.0.0.1:{port}"
        finally:
            self.server.close()


async def test_plaintext_is_refused_before_any_credentials(new_client: NewClient) -> None:
    fake = NoTlsServer()
    async with fake.running() as address:
        client = await new_client(connect=False, server=address)
        with pytest.raises(PlaintextRefusedError) as raised:
            await client.connect()
        assert "no encryption" in str(raised.value)
        await asyncio.wait_for(fake.closed.wait(), 10)  # the client hung up: everything it sent is in
    assert b"<auth" not in fake.received
    assert client.password.encode() not in fake.received


async def test_disconnect_while_connecting_and_connect_again(new_client: NewClient) -> None:
    client = await new_client(connect=False)
    attempt = asyncio.ensure_future(client.connect())
    await asyncio.sleep(0)
    await client.adapter.disconnect()
    with pytest.raises(NotConnectedError):
        await attempt
    await client.connect()
    await client.adapter.disconnect()


# ------------------------------------------------------------------------------------- messages


async def test_send_message_carries_origin_id_receipt_request_and_gets_delivered(
    new_client: NewClient, harness: XmppHarness
) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    peer.client.register_plugin("xep_0184")  # the peer acknowledges receipt requests
    key = "key-" + secrets.token_hex(4)
    receipt = await client.adapter.send_message(to(client, peer), OutgoingMessage("with receipt", key))
    assert receipt.remote_id is None  # XMPP servers give no id in the ack; origin-id matches the copy later
    await peer.next_message()
    stanza = peer.stanzas[-1]
    assert stanza["id"] == key
    assert stanza["origin_id"]["id"] == key
    assert stanza.xml.find("{urn:xmpp:receipts}request") is not None
    delivered = await client.sink.wait_for(MessageStateChanged, lambda e: e.idempotency_key == key)
    assert delivered.state is MessageState.DELIVERED
    assert delivered.conversation == to(client, peer)


async def test_incoming_message_uses_stanza_id_and_delay(new_client: NewClient, harness: XmppHarness) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    peer.send_raw(
        f"<message to='{client.jid}' type='chat' id='m1'><body>old news</body>"
        "<delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z'/></message>"
    )
    event = await client.sink.wait_for(MessageReceived, lambda e: e.body == "old news")
    assert event.timestamp == datetime(2002, 9, 10, 23, 8, 25, tzinfo=UTC)
    assert event.server_id and event.server_id != "m1"  # Prosody's MAM stanza-id, not the sender's id
    assert event.sender == peer.handle


async def test_hostile_stanzas_become_text_or_warnings_and_the_adapter_keeps_running(
    new_client: NewClient, harness: XmppHarness
) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    await harness.make_contacts(client.jid, peer.address)
    big = "x" * (1024 * 1024)
    peer.send_raw(f"<message to='{client.jid}' type='chat'><body>{big}</body></message>")
    peer.send_raw(
        f"<message to='{client.jid}' type='chat' id='m2'><body>a <b>bold</b> &lt;script&gt; move</body></message>"
    )
    peer.send_raw(
        f"<message to='{client.jid}' type='chat' id='m3'><body>bad time</body>"
        "<delay xmlns='urn:xmpp:delay' stamp='yesterday-ish'/></message>"
    )
    peer.send_raw(f"<message to='{client.jid}' type='chat'><body>no id at all</body></message>")
    peer.send_raw(f"<presence to='{client.jid}'><show>sleeping</show></presence>")
    peer.send_raw(f"<message to='{client.jid}' type='chat' id='m4'><active xmlns='jabber:x:nonsense'/></message>")
    await server_round_trip(peer.client)
    await peer.send(client.jid, "still alive?")

    sink = client.sink
    await sink.wait_for(MessageReceived, lambda e: e.body == "still alive?")
    assert (await sink.wait_for(MessageReceived, lambda e: len(e.body) == len(big))).body == big
    markup = await sink.wait_for(MessageReceived, lambda e: e.body.startswith("a "))
    assert markup.body == "a bold <script> move"  # markup is flattened to its text, never interpreted
    bad_time = await sink.wait_for(MessageReceived, lambda e: e.body == "bad time")
    assert bad_time.timestamp is not None and abs(datetime.now(UTC) - bad_time.timestamp).total_seconds() < 60
    no_id = await sink.wait_for(MessageReceived, lambda e: e.body == "no id at all")
    assert no_id.server_id  # the server's stanza-id
    warnings = [w.message for w in sink.of_type(AdapterWarning)]
    assert any("invalid delay timestamp" in w for w in warnings), warnings
    assert any("sleeping" in w for w in warnings), warnings
    assert not sink.of_type(ConnectionLost)


async def test_typing_and_subscription_requests(new_client: NewClient, harness: XmppHarness) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    peer.client.register_plugin("xep_0085")
    message = peer.client.make_message(mto=client.jid, mtype="chat")
    message["chat_state"] = "composing"
    message.send()
    typing = await client.sink.wait_for(TypingChanged)
    assert typing.typing and typing.handle == peer.handle
    peer.client.send_presence_subscription(pto=client.jid)
    request = await client.sink.wait_for(SubscriptionRequested)
    assert request.handle == peer.handle
    await client.adapter.answer_subscription(peer.handle, accept=True)
    # accepted and subscribed back: the peer auto-accepts, so its presence arrives
    await client.sink.wait_for(PresenceChanged, lambda e: e.handle == peer.handle)


async def test_set_typing_reaches_the_peer(new_client: NewClient, harness: XmppHarness) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    peer.client.register_plugin("xep_0085")
    composing = asyncio.ensure_future(peer.client.wait_until("chatstate_composing", timeout=10))
    await client.adapter.set_typing(to(client, peer), True)
    stanza = await composing
    assert stanza["from"].bare == client.jid


async def test_presence_of_several_resources_is_merged(new_client: NewClient, harness: XmppHarness) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    await harness.make_contacts(client.jid, peer.address)
    await peer.set_presence(PresenceKind.AVAILABLE, "desk")
    await client.sink.wait_for(PresenceChanged, lambda e: e.presence.status == "desk")
    second = await login_client(harness.server, peer.address, harness.passwords[peer.address], presence=False)
    try:
        second.send_presence(pshow="away", pstatus="phone", ppriority=-1)
        await server_round_trip(second)
        await close_client(second)  # the phone goes offline; the desk is still available
        # The desk's message is routed after the phone's unavailable presence: once it is in, so is that.
        await peer.send(client.jid, "marker")
        await client.sink.wait_for(MessageReceived, lambda e: e.body == "marker")
        last = client.sink.of_type(PresenceChanged, lambda e: e.handle == peer.handle)[-1]
        assert last.presence.kind is PresenceKind.AVAILABLE and last.presence.status == "desk"
    finally:
        await close_client(second)
    await peer.close()
    offline = await client.sink.wait_for(PresenceChanged, lambda e: e.presence.kind is PresenceKind.OFFLINE)
    assert offline.handle == peer.handle


# -------------------------------------------------------------------------------------- carbons


async def test_carbons_of_another_session(new_client: NewClient, harness: XmppHarness) -> None:
    client = await new_client()
    peer = await harness.new_peer()
    other = await login_client(harness.server, client.jid, client.password, resource="phone")
    try:
        await other.plugin["xep_0280"].enable()
        other.plugin.enable("xep_0359")
        sent = other.make_message(mto=peer.address, mbody="from my phone", mtype="chat")
        sent["origin_id"]["id"] = "phone-key"
        sent.send()
        echo = await client.sink.wait_for(MessageReceived, lambda e: e.body == "from my phone")
        assert echo.is_own_echo
        assert echo.idempotency_key == "phone-key"
        assert echo.conversation == to(client, peer)
        assert echo.sender == client.jid
        peer.client.send_message(mto=f"{client.jid}/phone", mbody="to your phone", mtype="chat")
        copy = await client.sink.wait_for(MessageReceived, lambda e: e.body == "to your phone")
        assert not copy.is_own_echo and copy.sender == peer.handle
    finally:
        await close_client(other)


# ---------------------------------------------------------------------------------- lost stream


async def test_server_stop_is_one_connection_lost_and_reconnect_works(
    new_client: NewClient, harness: XmppHarness, running_prosody: ProsodyServer
) -> None:
    client = await new_client()
    try:
        await running_prosody.stop_async()
        lost = await client.sink.wait_for(ConnectionLost)
        assert lost.retryable
        with pytest.raises(NotConnectedError):
            await client.adapter.send_message(
                ConversationKey.direct("x", "someone@localhost"), OutgoingMessage("lost", "k-lost")
            )
    finally:
        running_prosody.start()
    await client.adapter.disconnect()
    await client.connect()
    peer = await harness.new_peer()  # a round trip on the new stream
    await harness.make_contacts(client.jid, peer.address)
    await peer.send(client.jid, "marker")
    await client.sink.wait_for(MessageReceived, lambda e: e.body == "marker")
    assert len(client.sink.of_type(ConnectionLost)) == 1


async def test_send_fails_with_network_error_when_the_stream_drops_before_the_ack(
    new_client: NewClient, harness: XmppHarness, running_prosody: ProsodyServer
) -> None:
    client = await new_client()
    pid = running_prosody.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # the server cannot ack anything now
    try:
        send = asyncio.ensure_future(
            client.adapter.send_message(
                ConversationKey.direct(client.settings.account_id, "nobody@localhost"), OutgoingMessage("lost", "k")
            )
        )
        await asyncio.sleep(0.05)
        assert not send.done()
        assert client.adapter._client is not None
        client.adapter._client.abort()  # what a dropped network looks like to the client
        with pytest.raises(NetworkError) as raised:
            await send
        assert "dropped before the server confirmed" in str(raised.value)
        lost = await client.sink.wait_for(ConnectionLost)
        assert lost.retryable
    finally:
        os.kill(pid, signal.SIGCONT)
