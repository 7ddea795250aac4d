"""The file service with a slow peer: progress is published while a file moves, a transfer can be cancelled
and fetched again, an account without file support says so (issue 16, items 4 and 6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.api import ConversationKey, FileOffer, MessageState, NotConnectedError, Sphere
from aggregator.archive import Archive, Direction, StoredMessage
from aggregator.bus import EventBus
from aggregator.events import AttachmentChanged, AttachmentProgress
from aggregator.files.model import AttachmentState
from aggregator.files.service import FileService
from aggregator.files.store import FileStore
from aggregator.policy import PolicyEngine

DATA = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4000


class SlowPeer:
    """A peer's file server that sends in small pieces and can be held in the middle."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.halfway = asyncio.Event()

    async def download(self, offer: FileOffer) -> AsyncIterator[bytes]:
        for i in range(0, len(DATA), 10_000):
            if i >= len(DATA) // 2:
                self.halfway.set()
                await self.gate.wait()
            await asyncio.sleep(0.01)
            yield DATA[i : i + 10_000]

    def max_upload_bytes(self) -> int | None:
        return None


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    made = Archive.open(path=tmp_path / "archive.sqlite3")
    made.upsert_account("x:me", "x", "me@x", "", Sphere.PERSONAL)
    yield made
    made.close()


def _message(archive: Archive) -> StoredMessage:
    conv = archive.conversation_id(ConversationKey.direct("x:me", "bob"))
    assert conv is not None
    stored = archive.insert_message(
        conversation_id=conv,
        account_id="x:me",
        direction=Direction.IN,
        sender="bob",
        body="photo.png",
        sent_at=datetime.now(UTC),
        state=MessageState.RECEIVED,
    )
    assert stored is not None
    return stored


async def test_progress_cancel_and_fetch_again(archive: Archive, tmp_path: Path) -> None:
    bus = EventBus()
    changes: list[AttachmentChanged] = []
    progress: list[AttachmentProgress] = []
    bus.subscribe(AttachmentChanged, changes.append)
    bus.subscribe(AttachmentProgress, progress.append)
    peer = SlowPeer()
    service = FileService(
        archive=archive,
        bus=bus,
        policy=PolicyEngine(),
        store=FileStore(tmp_path / "files"),
        adapter_of=lambda _account: peer,
    )
    peer.gate.clear()
    message = _message(archive)
    (stored,) = service.offered(message, (FileOffer(url="https://x/photo.png", name="photo.png", size=len(DATA)),))
    async with asyncio.timeout(10):
        await peer.halfway.wait()
    assert service.cancel(stored.id)
    await service.wait_idle()
    assert service.get(stored.id).attachment.state is AttachmentState.FAILED
    assert service.get(stored.id).attachment.reason == "cancelled"
    assert progress and all(p.total == len(DATA) and p.done <= len(DATA) for p in progress)
    assert list((tmp_path / "files" / "quarantine").iterdir()) == []  # nothing half-written is left

    peer.gate.set()
    again = await service.fetch(stored.id)
    assert again.attachment.state is AttachmentState.CLEAN
    assert again.attachment.local_path is not None and again.attachment.local_path.read_bytes() == DATA
    states = [c.attachment.attachment.state for c in changes]
    assert states[0] is AttachmentState.OFFERED and states[-1] is AttachmentState.CLEAN
    assert AttachmentState.TRANSFERRING in states


async def test_an_offline_account_leaves_the_file_offered_with_the_reason(archive: Archive, tmp_path: Path) -> None:
    def offline(account: str) -> object:
        raise NotConnectedError(f"account {account} is not connected")

    service = FileService(
        archive=archive, bus=EventBus(), policy=PolicyEngine(), store=FileStore(tmp_path / "files"), adapter_of=offline
    )
    (stored,) = service.offered(_message(archive), (FileOffer(url="https://x/a.png", name="a.png", size=10),))
    await service.wait_idle()
    after = service.get(stored.id).attachment
    assert after.state is AttachmentState.OFFERED and "not connected" in after.reason
