"""Order of backfilled and live messages (issue 13, found by tests/chaos/test_kill_flood.py).

Some servers stamp their history in whole seconds (Prosody's MAM, InspIRCd's replay) while live
messages carry an exact time. A message caught up after a crash must not sort before the live messages
of its second that the server had before it; the server's stamp is kept as ``sent_at``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.api import ConversationKey, MessageReceived, Sphere, TimestampPrecision
from aggregator.archive import Archive
from aggregator.archive.ids import id_to_ms
from aggregator.bus import EventBus
from aggregator.conversations.inbound import InboundPipeline
from aggregator.events import ConnectionState
from aggregator.policy import PolicyEngine
from protocols.fake.adapter import FakeAdapter  # noqa: F401  (the protocol under test)
from tests.core.conftest import CoreWorld, eventually

ACCOUNT = "xmpp:alice@example.org"
PEER = ConversationKey.direct(ACCOUNT, "bob@example.org")
#: A whole second, some time ago.
S = datetime(2026, 3, 1, 12, 0, 7, tzinfo=UTC)


def ms(n: int) -> timedelta:
    return timedelta(milliseconds=n)


def bodies(archive: Archive, handle: str) -> list[str]:
    return [m.body for m in archive.history(archive.conversations_with(handle))]


# -- end to end over the fake protocol: live, crash, catch-up -------------------------------------


async def test_messages_caught_up_after_a_crash_sort_after_the_live_ones_of_their_second(world: CoreWorld) -> None:
    second = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await world.server.deliver(world.bob, world.alice, "flood 0", timestamp=second + ms(100))
    await world.server.deliver(world.bob, world.alice, "flood 1", timestamp=second + ms(200))
    await eventually(lambda: len(bodies(core.archive, world.bob)) == 2)
    await world.stop()  # alice's client is gone; bob's flood goes on within the same second
    await world.server.deliver(world.bob, world.alice, "flood 2", timestamp=second)  # whole seconds
    await world.server.deliver(world.bob, world.alice, "flood 3", timestamp=second)
    await world.server.deliver(world.bob, world.alice, "flood 4", timestamp=second + timedelta(seconds=1))
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await eventually(lambda: len(bodies(core.archive, world.bob)) == 5)
    await world.drain()
    history = core.archive.history(core.archive.conversations_with(world.bob))
    assert [m.body for m in history] == ["flood 0", "flood 1", "flood 2", "flood 3", "flood 4"]
    assert [m.is_backfill for m in history] == [False, False, True, True, True]
    # The server's stamps are kept; the caught-up messages stay within their own second.
    assert [m.sent_at for m in history[2:]] == [second, second, second + timedelta(seconds=1)]
    assert all(id_to_ms(m.id) // 1000 == int(second.timestamp()) for m in history[:4])


# -- the pipeline's cases, one message at a time ----------------------------------------------------


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    opened = Archive.open(path=tmp_path / "archive.sqlite3")
    opened.upsert_account(ACCOUNT, "xmpp", "alice@example.org", "", Sphere.WORK)
    yield opened
    opened.close()


def received(
    body: str,
    at: datetime,
    *,
    backfill: bool,
    precision: TimestampPrecision = TimestampPrecision.SECOND,
    server_id: str | None = None,
) -> MessageReceived:
    return MessageReceived(
        account_id=ACCOUNT,
        conversation=PEER,
        sender="bob@example.org",
        body=body,
        server_id=server_id or body,
        timestamp=at,
        is_backfill=backfill,
        timestamp_precision=precision if backfill else TimestampPrecision.EXACT,
    )


def test_a_backfilled_whole_second_goes_after_what_was_stored_in_it(archive: Archive) -> None:
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(received("live .100", S + ms(100), backfill=False))
    pipeline.process(received("live .200", S + ms(200), backfill=False))
    pipeline.process(received("caught up 1", S, backfill=True))
    pipeline.process(received("caught up 2", S, backfill=True))
    assert bodies(archive, "bob@example.org") == ["live .100", "live .200", "caught up 1", "caught up 2"]


def test_a_backfilled_message_goes_after_live_ones_whose_receive_time_trailed_into_the_next_second(
    archive: Archive,
) -> None:
    """Under a flood the client receives a message later than the server stamped the next one."""
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(received("live .900", S + ms(900), backfill=False))
    pipeline.process(received("live, received at 1.262", S + ms(1262), backfill=False))
    stored = pipeline.process(received("caught up", S, backfill=True))
    assert stored is not None and stored.sent_at == S  # the server's stamp
    assert bodies(archive, "bob@example.org") == ["live .900", "live, received at 1.262", "caught up"]


def test_offline_copies_stored_before_the_earlier_gap_stay_after_it(archive: Archive) -> None:
    """XMPP: the server's offline store (stamped later) arrives before MAM fetches the earlier gap."""
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(received("live 1", S + ms(400), backfill=False))
    pipeline.process(received("live 2", S + ms(1262), backfill=False))
    pipeline.positions.for_connect(ACCOUNT)
    pipeline.process(received("offline 1", S + timedelta(seconds=1), backfill=True))
    pipeline.process(received("offline 2", S + timedelta(seconds=1), backfill=True))
    pipeline.process(received("gap 1", S, backfill=True))  # MAM, from the stored position
    pipeline.process(received("gap 2", S, backfill=True))
    pipeline.process(received("offline 1", S + timedelta(seconds=1), backfill=True))  # MAM again: duplicates
    pipeline.process(received("live 3", S + ms(9000), backfill=False))
    assert bodies(archive, "bob@example.org") == [
        "live 1", "live 2", "gap 1", "gap 2", "offline 1", "offline 2", "live 3"
    ]  # fmt: skip


def test_history_long_before_the_stored_messages_keeps_its_own_time(archive: Archive) -> None:
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(received("live", S + timedelta(minutes=5), backfill=False))
    pipeline.process(received("older history", S, backfill=True))
    assert bodies(archive, "bob@example.org") == ["older history", "live"]


def test_a_catch_up_after_a_long_absence_is_stored_at_the_servers_time(archive: Archive) -> None:
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(received("an hour before", S - timedelta(hours=1), backfill=False))
    first = pipeline.process(received("caught up 1", S, backfill=True))
    second = pipeline.process(received("caught up 2", S, backfill=True))
    assert first is not None and second is not None
    assert id_to_ms(first.id) == id_to_ms(second.id) == int(S.timestamp() * 1000)  # unchanged
    assert first.sent_at == second.sent_at == S
    assert bodies(archive, "bob@example.org") == ["an hour before", "caught up 1", "caught up 2"]


def test_live_messages_of_the_current_connection_stay_after_its_catch_up(archive: Archive) -> None:
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(received("before the crash", S + ms(200), backfill=False))
    pipeline.positions.for_connect(ACCOUNT)  # the restart's connect
    pipeline.process(received("live after the restart", S + ms(600), backfill=False))
    pipeline.process(received("caught up", S, backfill=True))  # the server had it before the restart
    assert bodies(archive, "bob@example.org") == ["before the crash", "caught up", "live after the restart"]


def test_a_room_replay_repeating_stored_lines_adds_only_the_missed_ones_after_them(archive: Archive) -> None:
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(received("line 1", S + ms(100), backfill=False))
    pipeline.process(received("line 2", S + ms(300), backfill=False))
    for body in ("line 1", "line 2", "line 3", "line 4"):  # the replay: whole seconds, from the start
        pipeline.process(received(body, S, backfill=True))
    assert bodies(archive, "bob@example.org") == ["line 1", "line 2", "line 3", "line 4"]


def test_backfill_with_exact_stamps_sorts_by_its_own_time(archive: Archive) -> None:
    """Matrix's origin_server_ts has milliseconds: its order is the server's."""
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(received("live .200", S + ms(200), backfill=False))
    pipeline.process(received("earlier event", S + ms(50), backfill=True, precision=TimestampPrecision.EXACT))
    assert bodies(archive, "bob@example.org") == ["earlier event", "live .200"]


def test_placing_looks_at_the_messages_own_conversation_only(archive: Archive) -> None:
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    other = ConversationKey.direct(ACCOUNT, "carol@example.org")
    carol = received("carol .500", S + ms(500), backfill=False)
    pipeline.process(replace(carol, conversation=other, sender="carol@example.org"))
    stored = pipeline.process(received("caught up", S, backfill=True))
    assert stored is not None and id_to_ms(stored.id) == int(S.timestamp() * 1000)
