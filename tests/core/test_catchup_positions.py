"""Catch-up positions (schema v7) are durable only together with the messages they cover (issue 13).

The pipeline stores a message's position in the message's own transaction; a position that comes alone
is stored only while every earlier message of the account was handled; after a failed store the
account's positions are held until the next connect, which resumes from the last good one.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from aggregator.accounts.config import AccountConfig
from aggregator.accounts.secrets import SecretStore
from aggregator.accounts.supervisor import AccountSupervisor
from aggregator.api import (
    AdapterEvent,
    ConversationKey,
    Credentials,
    MessageReceived,
    MessageState,
    OutgoingMessage,
    PositionReached,
    Presence,
    ResumePosition,
    SendReceipt,
    Sphere,
)
from aggregator.archive import Archive, Direction
from aggregator.bus import EventBus
from aggregator.conversations.inbound import InboundPipeline
from aggregator.events import ConnectionState
from aggregator.policy import PolicyEngine

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "archives"
ACCOUNT = "xmpp:alice@example.org"
PEER = ConversationKey.direct(ACCOUNT, "bob@example.org")


def message(n: int, *, stream: str = "alice@example.org") -> MessageReceived:
    return MessageReceived(
        account_id=ACCOUNT,
        conversation=PEER,
        sender="bob@example.org",
        body=f"message {n}",
        server_id=f"archive-{n}",
        timestamp=datetime(2026, 1, 1, 12, 0, n, tzinfo=UTC),
        is_backfill=True,
        position=ResumePosition(stream, f"pos-{n}"),
    )


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    opened = Archive.open(path=tmp_path / "archive.sqlite3")
    opened.upsert_account(ACCOUNT, "xmpp", "alice@example.org", "", Sphere.WORK)
    yield opened
    opened.close()


def test_a_v6_archive_upgrades_with_no_positions_and_keeps_them_from_then_on(tmp_path: Path) -> None:
    old = tmp_path / "archive.sqlite3"
    shutil.copyfile(FIXTURES / "v6.sqlite3", old)
    with sqlite3.connect(old) as raw:
        assert not raw.execute("SELECT name FROM sqlite_master WHERE name = 'catchup_positions'").fetchall()
    upgraded = Archive.open(path=old)
    try:
        assert upgraded.positions(ACCOUNT) == {}  # the adapter starts from its first-sync window once
        conv = upgraded.conversation_id(PEER)
        assert conv is not None
        upgraded.insert_message(
            conversation_id=conv,
            account_id=ACCOUNT,
            direction=Direction.IN,
            sender="bob@example.org",
            body="after the upgrade",
            sent_at=datetime.now(UTC),
            state=MessageState.RECEIVED,
            server_id="archive-new",
            position=ResumePosition("alice@example.org", "pos-new"),
        )
    finally:
        upgraded.close()
    reopened = Archive.open(path=old)
    try:
        assert reopened.positions(ACCOUNT) == {"alice@example.org": "pos-new"}
    finally:
        reopened.close()


def test_the_stored_v7_archive_has_its_position() -> None:
    with sqlite3.connect(FIXTURES / "v7.sqlite3") as raw:
        rows = raw.execute("SELECT account_id, stream FROM catchup_positions").fetchall()
    assert rows == [(ACCOUNT, "alice@example.org")]


def test_a_message_and_its_position_are_stored_together(archive: Archive) -> None:
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(message(1))
    pipeline.process(message(2))
    assert archive.positions(ACCOUNT) == {"alice@example.org": "pos-2"}
    # A duplicate (the offline copy of an archived message) still moves the position: it is handled.
    pipeline.process(message(3))
    pipeline.process(message(3))
    assert [m.body for m in archive.history(archive.conversations_with("bob@example.org"))] == [
        "message 1",
        "message 2",
        "message 3",
    ]
    # Another stream of the same account is kept apart.
    pipeline.process(message(4, stream="room@conference.example.org"))
    assert archive.positions(ACCOUNT) == {"alice@example.org": "pos-3", "room@conference.example.org": "pos-4"}


def test_a_message_that_could_not_be_stored_holds_the_position_until_the_next_connect(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(message(1))
    real_insert = archive.insert_message

    def failing_insert(**kwargs: Any) -> Any:
        raise OSError("disk I/O error")

    monkeypatch.setattr(archive, "insert_message", failing_insert)
    with pytest.raises(OSError):
        pipeline.process(message(2))
    monkeypatch.setattr(archive, "insert_message", real_insert)
    # Later messages are stored, but neither they nor a position alone may move the position past 2.
    pipeline.process(message(3))
    pipeline.reached(PositionReached(account_id=ACCOUNT, position=ResumePosition("alice@example.org", "pos-9")))
    assert archive.positions(ACCOUNT) == {"alice@example.org": "pos-1"}
    # The next connect resumes after 1 (so message 2 is fetched again), and positions move again.
    assert pipeline.positions.for_connect(ACCOUNT) == {"alice@example.org": "pos-1"}
    pipeline.process(message(2))
    assert archive.positions(ACCOUNT) == {"alice@example.org": "pos-2"}


class _ResumingAdapter:
    """A stand-in adapter that records what it was resumed from at each connect."""

    def __init__(self) -> None:
        self.resumed: list[dict[str, str]] = []

    def resume_from(self, positions: Mapping[str, str]) -> None:
        self.resumed.append(dict(positions))

    async def connect(self, credentials: Credentials) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def set_presence(self, presence: Presence) -> None:
        return None

    async def send_message(self, conversation: ConversationKey, message: OutgoingMessage) -> SendReceipt:
        return SendReceipt(None)


class _NoSecrets:
    def credentials(self, account_id: str) -> Credentials:
        return Credentials("pw")


async def test_the_supervisor_hands_the_stored_positions_to_the_adapter_before_it_connects(archive: Archive) -> None:
    pipeline = InboundPipeline(archive, EventBus(), PolicyEngine())
    pipeline.process(message(5))
    adapter = _ResumingAdapter()
    handled: list[AdapterEvent] = []

    async def on_event(event: AdapterEvent) -> None:
        handled.append(event)

    supervisor = AccountSupervisor(
        AccountConfig(id=ACCOUNT, protocol="xmpp", address="alice@example.org"),
        lambda _sink: adapter,
        cast(SecretStore, _NoSecrets()),
        lambda *_: None,
        on_event,
        resume=pipeline.positions.for_connect,
    )
    supervisor.start()
    try:
        await supervisor.wait_for_state(ConnectionState.CONNECTED, timeout=5)
    finally:
        await asyncio.wait_for(supervisor.stop(), 5)
    assert adapter.resumed == [{"alice@example.org": "pos-5"}]
