"""A full disk while a connect's resend of pending messages runs: the messages stay pending for the next
connect, and the failure is said in one warning, not left as an exception nobody retrieves."""

from __future__ import annotations

import logging

import pytest

from aggregator.archive.storage import ArchiveStorageError
from aggregator.events import AccountStateChanged, ConnectionState
from tests.core.conftest import CoreWorld


async def test_a_full_disk_during_the_resend_after_a_connect_keeps_the_messages_pending(
    world: CoreWorld, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)

    def disk_full(account_id: str) -> list[object]:
        raise ArchiveStorageError("the disk holding the archive (test) is full")

    monkeypatch.setattr(core.archive, "pending_outbound", disk_full)
    flushes = set(core.outbound._flushes)
    with caplog.at_level(logging.WARNING, logger="aggregator.conversations.outbound"):
        core.bus.publish(AccountStateChanged(account_id=world.account_id, state=ConnectionState.CONNECTED))
        new = core.outbound._flushes - flushes
        assert new, "a connect starts the resend of pending messages"
        for task in new:
            await task  # raised ArchiveStorageError before: "Task exception was never retrieved"
    assert any("wait for the next connect" in r.getMessage() and "is full" in r.getMessage() for r in caplog.records)
