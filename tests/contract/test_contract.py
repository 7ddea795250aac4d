"""The adapter contract: what every protocol adapter must do, as a user of the client would notice it.

Runs once per harness in ``conftest.HARNESSES``; see ``harness.py`` for what a protocol provides.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from aggregator.api import (
    AccountError,
    AccountSettings,
    Adapter,
    AuthenticationError,
    Capability,
    ConfigurationError,
    ConnectionLost,
    ConversationKey,
    Credentials,
    FieldKind,
    MessageReceived,
    NetworkError,
    OutgoingMessage,
    Presence,
    PresenceChanged,
    PresenceKind,
    SendReceipt,
)
from tests.contract.harness import ContractHarness, Peer
from tests.contract.sink import EventCollector, tasks_finished


@dataclass
class Account:
    """A user of the server with an adapter for it (not connected until ``connect``)."""

    harness: ContractHarness
    address: str
    password: str
    settings: AccountSettings
    adapter: Adapter
    sink: EventCollector = field(default_factory=EventCollector)

    @property
    def account_id(self) -> str:
        return self.settings.account_id

    async def connect(self) -> None:
        await self.adapter.connect(Credentials(self.password))

    def direct(self, peer: Peer) -> ConversationKey:
        return ConversationKey.direct(self.account_id, peer.handle)

    async def send(self, peer: Peer, body: str) -> tuple[SendReceipt, str]:
        key = secrets.token_hex(8)
        receipt = await self.adapter.send_message(self.direct(peer), OutgoingMessage(body, key))
        return receipt, key


NewAccount = Callable[[], Awaitable[Account]]


# Sync points. A test that asserts "nothing more happened" waits for a later event that proves it instead
# of sleeping: messages on one connection arrive in order, so once a marker sent afterwards has arrived,
# anything sent before it (a duplicate, a second send) would have arrived too.


async def peer_marker_arrives(account: Account, peer: Peer) -> None:
    """The peer sends a marker; returns once the account has received it (everything the peer sent
    before, and everything the server queued for the account before it, has been received)."""
    marker = "marker " + secrets.token_hex(4)
    await peer.send(account.address, marker)
    await account.sink.wait_for(MessageReceived, lambda e: e.body == marker and not e.is_own_echo)


async def account_marker_is_next(account: Account, peer: Peer) -> None:
    """The account sends a marker; asserts it is the peer's next message (so nothing else the account
    sent before it, such as a duplicate, reached the peer)."""
    marker = "marker " + secrets.token_hex(4)
    await account.send(peer, marker)
    assert (await peer.next_message())[1] == marker


async def connection_carries_a_message(harness: ContractHarness, account: Account) -> None:
    """A round trip on the account's connection: a new contact's message arrives."""
    peer = await harness.new_peer()
    await harness.make_contacts(account.address, peer.address)
    await peer_marker_arrives(account, peer)


@pytest.fixture
async def new_account(harness: ContractHarness) -> AsyncIterator[NewAccount]:
    made: list[Account] = []

    async def make() -> Account:
        address, password = await harness.new_user()
        account_id = f"{harness.info.id}:{address}"
        sink = EventCollector()
        adapter = harness.info.create(harness.settings(account_id, address), sink)
        account = Account(harness, address, password, harness.settings(account_id, address), adapter, sink)
        made.append(account)
        return account

    yield make
    for account in made:
        await account.adapter.disconnect()


@pytest.fixture
async def account(new_account: NewAccount) -> Account:
    """A connected account."""
    made = await new_account()
    await made.connect()
    return made


# ------------------------------------------------------------------------------------ connecting


async def test_connect_succeeds(new_account: NewAccount) -> None:
    account = await new_account()
    assert isinstance(account.adapter, Adapter)
    await account.connect()
    await connection_carries_a_message(account.harness, account)
    assert not account.sink.of_type(ConnectionLost)


async def test_wrong_password_is_an_authentication_error_without_the_password(
    harness: ContractHarness, new_account: NewAccount
) -> None:
    account = await new_account()
    wrong = "Wr0ng-" + secrets.token_urlsafe(12)
    with pytest.raises(AuthenticationError) as raised:
        await account.adapter.connect(Credentials(wrong))
    shown = f"{raised.value} {raised.value!r}"
    assert wrong not in shown
    assert account.password not in shown
    assert str(raised.value), "the user needs a reason"
    await account.adapter.disconnect()
    assert not account.sink.of_type(ConnectionLost)


async def test_unreachable_server_is_a_network_error(harness: ContractHarness) -> None:
    address, password = await harness.new_user()
    sink = EventCollector()
    adapter = harness.info.create(harness.unreachable_settings("acct", address), sink)
    with pytest.raises(NetworkError) as raised:
        await adapter.connect(Credentials(password))
    assert str(raised.value)
    assert raised.value.retryable
    assert password not in str(raised.value)
    await adapter.disconnect()


async def test_disconnect_twice_is_fine_and_reports_no_lost_connection(new_account: NewAccount) -> None:
    account = await new_account()
    before = asyncio.all_tasks()
    await account.connect()
    await account.adapter.disconnect()
    await account.adapter.disconnect()
    await tasks_finished(before)  # nothing of the adapter's is left running that could still report
    assert not account.sink.of_type(ConnectionLost)


async def test_disconnect_before_connect_is_fine(new_account: NewAccount) -> None:
    account = await new_account()
    await account.adapter.disconnect()


async def test_send_after_disconnect_is_an_account_error(harness: ContractHarness, account: Account) -> None:
    peer = await harness.new_peer()
    await harness.make_contacts(account.address, peer.address)
    await account.adapter.disconnect()
    with pytest.raises(AccountError):
        await account.send(peer, "too late")
    # The same user connects again and sends a marker: it is the first thing the peer receives.
    sink = EventCollector()
    adapter = harness.info.create(account.settings, sink)
    again = Account(harness, account.address, account.password, account.settings, adapter, sink)
    try:
        await again.connect()
        await account_marker_is_next(again, peer)
    finally:
        await again.adapter.disconnect()


# -------------------------------------------------------------------------------------- messages

BODIES = [
    "hello",
    "Grüße aus Köln, Привет, 日本語 👋🏽",
    "<b>markup</b> & &amp; stays literal",
    "  leading and trailing spaces  ",
]


@pytest.mark.parametrize("body", BODIES)
async def test_peer_message_arrives_once_unchanged(harness: ContractHarness, account: Account, body: str) -> None:
    peer = await harness.new_peer()
    await harness.make_contacts(account.address, peer.address)
    await peer.send(account.address, body)

    def from_peer(event: MessageReceived) -> bool:
        return event.body == body and not event.is_own_echo

    received = await account.sink.wait_for(MessageReceived, from_peer)
    await peer_marker_arrives(account, peer)
    assert len(account.sink.of_type(MessageReceived, from_peer)) == 1
    assert received.sender == peer.handle
    assert received.conversation == account.direct(peer)
    assert received.server_id
    assert received.timestamp is not None and received.timestamp.tzinfo is not None
    assert not received.is_backfill


@pytest.mark.parametrize("body", BODIES)
async def test_sent_message_reaches_the_peer_exactly_once(
    harness: ContractHarness, account: Account, body: str
) -> None:
    peer = await harness.new_peer()
    await harness.make_contacts(account.address, peer.address)
    receipt, _ = await account.send(peer, body)
    assert isinstance(receipt, SendReceipt)
    assert receipt.timestamp is None or receipt.timestamp.tzinfo is not None
    sender, received = await peer.next_message()
    assert received == body
    assert sender
    await account_marker_is_next(account, peer)


async def test_two_sends_arrive_in_order(harness: ContractHarness, account: Account) -> None:
    peer = await harness.new_peer()
    await harness.make_contacts(account.address, peer.address)
    await account.send(peer, "first")
    await account.send(peer, "second")
    assert (await peer.next_message())[1] == "first"
    assert (await peer.next_message())[1] == "second"


async def test_own_echoes_carry_the_idempotency_key(harness: ContractHarness, account: Account) -> None:
    """A sent message may come back as an echo, but never as a second, unmatched message."""
    peer = await harness.new_peer()
    await harness.make_contacts(account.address, peer.address)
    _, key = await account.send(peer, "echo me")
    await peer.next_message()
    await peer_marker_arrives(account, peer)
    for event in account.sink.of_type(MessageReceived, lambda e: e.body == "echo me"):
        assert event.is_own_echo
        assert event.idempotency_key == key
        assert event.conversation == account.direct(peer)


# -------------------------------------------------------------------------------------- presence


async def test_peer_presence_is_reported_with_status(harness: ContractHarness, new_account: NewAccount) -> None:
    account = await new_account()
    peer = await harness.new_peer()
    await harness.make_contacts(account.address, peer.address)
    await account.connect()
    await peer.set_presence(PresenceKind.AWAY, "at lunch 🍜")
    changed = await account.sink.wait_for(
        PresenceChanged, lambda e: e.handle == peer.handle and e.presence.kind is PresenceKind.AWAY
    )
    assert changed.presence.status == "at lunch 🍜"


async def test_presence_set_before_connecting_is_reported_on_connect(
    harness: ContractHarness, new_account: NewAccount
) -> None:
    account = await new_account()
    peer = await harness.new_peer()
    await harness.make_contacts(account.address, peer.address)
    await peer.set_presence(PresenceKind.AWAY, "back soon")
    await account.connect()
    changed = await account.sink.wait_for(
        PresenceChanged, lambda e: e.handle == peer.handle and e.presence.kind is PresenceKind.AWAY
    )
    assert changed.presence.status == "back soon"


async def test_own_presence_can_be_set(account: Account) -> None:
    await account.adapter.set_presence(Presence(PresenceKind.AWAY, "busy elsewhere"))
    await account.adapter.set_presence(Presence(PresenceKind.AVAILABLE))
    await connection_carries_a_message(account.harness, account)
    assert not account.sink.of_type(ConnectionLost)


# ----------------------------------------------------------------------------------------- events


async def test_events_carry_the_account_id_and_normalised_handles(harness: ContractHarness, account: Account) -> None:
    peer = await harness.new_peer()
    await harness.make_contacts(account.address, peer.address)
    await peer.send(account.address, "ping")
    await account.send(peer, "pong")
    await account.sink.wait_for(MessageReceived, lambda e: e.body == "ping")
    assert (await peer.next_message())[1] == "pong"
    await peer_marker_arrives(account, peer)
    normalize = harness.info.normalize_handle
    for event in account.sink.events:
        assert event.account_id == account.account_id, event
        if isinstance(event, MessageReceived):
            assert normalize(event.sender) == event.sender, event
            assert event.conversation.account_id == account.account_id, event
            assert normalize(event.conversation.handle) == event.conversation.handle, event
        if isinstance(event, PresenceChanged):
            assert normalize(event.handle) == event.handle, event


# ---------------------------------------------------------------------------------- protocol info


async def test_protocol_info_is_usable(harness: ContractHarness) -> None:
    info = harness.info
    names = [f.name for f in info.fields]
    assert len(names) == len(set(names)), "field names are unique"
    assert all(f.secret for f in info.fields if f.kind is FieldKind.PASSWORD), "passwords go to the keyring"
    assert Capability.DIRECT_MESSAGES in info.capabilities
    assert PresenceKind.AVAILABLE in info.presence_kinds
    assert PresenceKind.OFFLINE in info.presence_kinds
    assert info.max_body_length is None or info.max_body_length > 0
    example = info.normalize_address(info.address_example)
    assert info.normalize_address(example) == example


@pytest.mark.parametrize("garbage", ["", "   ", "\n", "@", "no spaces @ all", "\x00"])
async def test_normalize_address_rejects_garbage(harness: ContractHarness, garbage: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        harness.info.normalize_address(garbage)
    assert str(raised.value)


async def test_normalize_address_is_idempotent(harness: ContractHarness) -> None:
    info = harness.info
    address_text = st.one_of(
        st.text(),
        st.from_regex(r"[A-Za-z0-9@:.#!_ -]{1,30}", fullmatch=True),
        st.just(info.address_example.upper()),
    )

    @given(address_text)
    @hypothesis_settings(max_examples=300, deadline=None)
    def check(text: str) -> None:
        try:
            normal = info.normalize_address(text)
        except ConfigurationError:
            return
        assert info.normalize_address(normal) == normal
        assert info.normalize_handle(normal) == info.normalize_handle(info.normalize_handle(normal))

    check()


async def test_peer_handles_are_normalised(harness: ContractHarness) -> None:
    peer = await harness.new_peer()
    assert harness.info.normalize_handle(peer.handle) == peer.handle
