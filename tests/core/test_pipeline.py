"""The core's conversation pipeline over the fake protocol, end to end in one process."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aggregator.api import MessageState
from aggregator.archive import Direction, StatusKind
from aggregator.events import ConnectionState, MessageStored, MessageUpdated
from protocols.fake.adapter import FakeAdapter  # noqa: F401  (the protocol under test)
from tests.core.conftest import CoreWorld, eventually


def _history(w: CoreWorld) -> list[tuple[str, str, MessageState]]:
    assert w.core is not None
    convs = w.core.archive.conversations_with(w.bob)
    return [(m.direction.label, m.body, m.state) for m in w.core.archive.history(convs)]


async def test_inbound_messages_are_stored_then_announced_with_their_row_id(world: CoreWorld) -> None:
    core = await world.start()
    announced: list[MessageStored] = []
    core.bus.subscribe(MessageStored, announced.append)
    await world.wait_state(ConnectionState.CONNECTED)
    await world.server.deliver(world.bob, world.alice, "hello <b>there</b>")
    await eventually(lambda: len(announced) == 1)
    stored = core.archive.get(announced[0].message.id)
    assert stored is not None and stored.body == "hello <b>there</b>"
    assert stored.direction is Direction.IN and stored.state is MessageState.RECEIVED
    assert stored.server_id


async def test_offline_history_arrives_once_with_server_time_and_in_order(world: CoreWorld) -> None:
    old = datetime.now(UTC) - timedelta(hours=3)
    await world.server.deliver(world.bob, world.alice, "first", timestamp=old)
    await world.server.deliver(world.bob, world.alice, "second", timestamp=old + timedelta(minutes=1))
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await world.server.deliver(world.bob, world.alice, "live")
    await eventually(lambda: len(_history(world)) == 3)
    msgs = core.archive.history(core.archive.conversations_with(world.bob))
    assert [m.body for m in msgs] == ["first", "second", "live"]
    assert abs((msgs[0].sent_at - old).total_seconds()) < 0.01
    assert msgs[0].is_backfill and not msgs[2].is_backfill
    # Reconnecting replays nothing twice.
    await world.server.drop_connections()
    await world.wait_state(ConnectionState.WAITING)
    await world.wait_state(ConnectionState.CONNECTED)
    await world.drain()
    assert len(_history(world)) == 3


async def test_send_waits_for_the_server_and_records_its_id(world: CoreWorld) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    row = await core.outbound.send(world.account_id, world.bob, "hi bob")
    assert row.state is MessageState.SENT
    (accepted,) = world.server.received(world.alice)
    assert accepted.body == "hi bob" and row.server_id == accepted.server_id


async def test_messages_sent_while_offline_go_out_in_order_exactly_once_after_reconnect(world: CoreWorld) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    port = world.server.port
    await world.server.stop()
    await world.wait_state(ConnectionState.WAITING)
    rows = [await core.outbound.send(world.account_id, world.bob, f"queued {i}") for i in range(3)]
    assert all(r.state is MessageState.PENDING for r in rows)
    # The server comes back on the same port; the supervisor reconnects and flushes.
    world.server.port = port
    await world.server.start()
    await eventually(lambda: len(world.server.received(world.alice)) == 3)
    await world.wait_state(ConnectionState.CONNECTED)
    await core.outbound.wait_flushed()
    assert [m.body for m in world.server.received(world.alice)] == ["queued 0", "queued 1", "queued 2"]
    assert [s for _, _, s in _history(world)] == [MessageState.SENT] * 3
    # A marker sent afterwards goes out after anything still queued: a second copy would come before it.
    await core.outbound.send(world.account_id, world.bob, "marker")
    await eventually(lambda: any(m.body == "marker" for m in world.server.received(world.alice)))
    assert [m.body for m in world.server.received(world.alice)] == ["queued 0", "queued 1", "queued 2", "marker"]


async def test_a_refused_send_is_marked_failed_with_the_reason(world: CoreWorld) -> None:
    core = await world.start()
    updates: list[MessageUpdated] = []
    core.bus.subscribe(MessageUpdated, updates.append)
    await world.wait_state(ConnectionState.CONNECTED)
    world.server.reject_sends = True
    row = await core.outbound.send(world.account_id, world.bob, "nope")
    assert row.state is MessageState.FAILED and row.error
    assert updates and updates[-1].message.state is MessageState.FAILED


async def test_own_messages_from_another_session_are_logged_as_outgoing(world: CoreWorld) -> None:
    """The user's phone sent a message: the server echoes it to us, we log it once as 'out'."""
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    row = await core.outbound.send(world.account_id, world.bob, "from desktop")
    await world.drain()
    # Our own echo of the desktop send does not create a second row.
    assert [(d, b) for d, b, _ in _history(world)] == [("out", "from desktop")]
    assert row.state is MessageState.SENT


async def test_wrong_password_stops_retrying_with_a_clear_reason(world: CoreWorld) -> None:
    assert world.core is None
    from aggregator.accounts.secrets import SecretStore
    from aggregator.profile import profile_id

    SecretStore(profile_id(world.paths)).set_password(world.account_id, "Not-The-Pw-9431")
    await world.start()
    # The account's connect loop: once it has ended, no retry can come any more (the sync point below).
    connect_loop = f"connect:{world.account_id}"
    assert any(t.get_name() == connect_loop for t in asyncio.all_tasks()), "the connect loop's task is named so"
    await world.wait_state(ConnectionState.FAILED)
    failed = [s for s in world.states if s.state is ConnectionState.FAILED]
    assert failed and ("password" in failed[0].reason.lower() or "auth" in failed[0].reason.lower())
    await eventually(lambda: all(t.get_name() != connect_loop for t in asyncio.all_tasks()))
    assert sum(s.state is ConnectionState.CONNECTING for s in world.states) == 1
    assert "Not-The-Pw-9431" not in failed[0].reason


async def test_temporary_failures_are_retried_with_backoff(world: CoreWorld) -> None:
    world.server.fail_next_logins(2)
    await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    waits = [s for s in world.states if s.state is ConnectionState.WAITING]
    assert len(waits) == 2 and all(w.retry_in is not None and w.retry_in <= 0.3 for w in waits)


async def test_connection_state_changes_are_recorded_in_the_archive(world: CoreWorld) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await world.server.set_presence(world.bob, "away", "lunch")
    await eventually(lambda: any(e.kind is StatusKind.PRESENCE for e in core.archive.status_events(world.account_id)))
    kinds = [e.kind for e in core.archive.status_events(world.account_id)]
    assert kinds[:2] == [StatusKind.CONNECTING, StatusKind.CONNECTED]
    presence = [e for e in core.archive.status_events(world.account_id) if e.kind is StatusKind.PRESENCE]
    assert presence[-1].handle == world.bob and "lunch" in presence[-1].detail


async def test_an_account_with_unusable_settings_fails_alone(world: CoreWorld) -> None:
    from aggregator.accounts.config import AccountConfig, AccountStore

    store = AccountStore(world.paths.accounts_file)
    broken = AccountConfig(id="fake:carol@fake.test", protocol="fake", address="carol@fake.test", server="no-port")
    store.add(broken)
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    sup = core.accounts.supervisor(broken.id)
    assert sup is not None
    await sup.wait_for_state(ConnectionState.FAILED, timeout=5)
    assert "no-port" in sup.reason


async def test_a_placeholder_is_completed_once_when_the_real_text_arrives(world: CoreWorld) -> None:
    """Matrix: an event stored as '[unable to decrypt]' gets its text when the keys arrive."""
    from aggregator.api import ConversationKey, MessageKind, MessageReceived

    core = await world.start()
    updates: list[MessageUpdated] = []
    core.bus.subscribe(MessageUpdated, updates.append)
    conv = ConversationKey.direct(world.account_id, world.bob)

    def event(body: str, **extra: object) -> MessageReceived:
        return MessageReceived(
            account_id=world.account_id,
            conversation=conv,
            sender=world.bob,
            server_id="$ev1",
            body=body,
            kind=MessageKind.SYSTEM if extra.get("placeholder") else MessageKind.CHAT,
            replaces_server_id=None if extra.get("placeholder") else "$ev1",
        )

    first = core.inbound.process(event("[unable to decrypt]", placeholder=True))
    assert first is not None
    again = event("the secret plan")
    assert core.inbound.process(again) is None  # no second row
    core.inbound.process(again)  # a repeat changes nothing more
    (stored,) = core.archive.history(core.archive.conversations_with(world.bob))
    assert stored.id == first.id and stored.body == "the secret plan" and stored.kind is MessageKind.CHAT
    assert len(updates) == 1


async def test_a_deletion_is_recorded_next_to_the_message_it_deletes(world: CoreWorld) -> None:
    """Matrix redactions: the deleted message keeps its text (the archive is the user's record); the
    deletion is a SYSTEM row of its own whose ``edit_of`` is that message, or none when it is unknown."""
    from aggregator.api import ConversationKey, MessageKind, MessageReceived

    core = await world.start()
    updates: list[MessageUpdated] = []
    core.bus.subscribe(MessageUpdated, updates.append)
    conv = ConversationKey.direct(world.account_id, world.bob)
    at = datetime.now(UTC) - timedelta(minutes=5)

    def event(server_id: str, body: str, replaces: str | None = None, minutes: int = 0) -> MessageReceived:
        return MessageReceived(
            account_id=world.account_id,
            conversation=conv,
            sender=world.bob,
            server_id=server_id,
            body=body,
            timestamp=at + timedelta(minutes=minutes),
            kind=MessageKind.SYSTEM if replaces else MessageKind.CHAT,
            replaces_server_id=replaces,
        )

    original = core.inbound.process(event("$m1", "regrettable"))
    assert original is not None
    deletion = core.inbound.process(event("$r1", f"[message deleted by {world.bob}]", "$m1", minutes=1))
    assert deletion is not None and deletion.edit_of == original.id and deletion.kind is MessageKind.SYSTEM
    assert core.inbound.process(event("$r1", f"[message deleted by {world.bob}]", "$m1", minutes=1)) is None
    orphan = core.inbound.process(event("$r2", f"[message deleted by {world.bob}]", "$before-history", minutes=2))
    assert orphan is not None and orphan.edit_of is None
    rows = core.archive.history(core.archive.conversations_with(world.bob))
    assert [(m.body, m.edit_of) for m in rows] == [
        ("regrettable", None),
        (f"[message deleted by {world.bob}]", original.id),
        (f"[message deleted by {world.bob}]", None),
    ]
    unchanged = core.archive.get(original.id)
    assert unchanged is not None and unchanged.body == "regrettable" and unchanged.kind is MessageKind.CHAT
    assert not updates


async def test_a_send_to_a_room_address_is_filed_under_the_room(world: CoreWorld) -> None:
    """IRC: `aggregator send alice '#team' hi` belongs to the channel, where its echo and any
    replay will look for it, not to a direct conversation named '#team'."""
    from dataclasses import replace

    from aggregator.api import ConversationKind
    from protocols.fake import PROTOCOL

    core = await world.start()
    core.registry.register(replace(PROTOCOL, is_room_handle=lambda h: h.startswith("room")))
    assert core.outbound.prepare(world.account_id, "room@fake.test", "hi").kind is ConversationKind.ROOM
    assert core.outbound.prepare(world.account_id, world.bob, "hi").kind is ConversationKind.DIRECT


def test_irc_channels_are_rooms() -> None:
    from protocols.irc import PROTOCOL

    assert PROTOCOL.is_room_handle("#team") and PROTOCOL.is_room_handle("&local")
    assert not PROTOCOL.is_room_handle("bob")
