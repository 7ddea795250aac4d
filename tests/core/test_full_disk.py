"""A full disk under a running core (fake protocol, the profile on a small tmpfs): the user is told,
the account is held, nothing the server delivered or held is lost, and everything works again by
itself once there is space."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aggregator.accounts.backoff import Backoff
from aggregator.api import MessageState
from aggregator.archive.storage import ArchiveStorageError
from aggregator.bootstrap import build_core
from aggregator.events import AccountStateChanged, ArchiveStorageChanged, ConnectionState, MessageStored
from tests.core.conftest import CoreWorld, core_world, eventually
from tests.small_disk import SmallDisk, small_disk

#: Big enough that a few of them need new pages of the WAL (a full disk cannot hide behind reused ones).
PADDING = "x" * 6000


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    with small_disk(tmp_path / "disk", "16m") as mounted:
        yield mounted


@pytest.fixture
async def world_on_disk(disk: SmallDisk, keyring_env: None) -> AsyncIterator[CoreWorld]:
    """The core's usual world (one fake account, alice, talking to bob), with the profile on ``disk``."""
    async with core_world(disk.root / "home") as w:
        try:
            yield w
        finally:
            disk.free()


def _bodies(w: CoreWorld) -> list[str]:
    assert w.core is not None
    archive = w.core.archive
    return [m.body.removesuffix(PADDING) for m in archive.history(archive.conversations_with(w.bob))]


async def test_a_full_disk_holds_the_account_loses_nothing_and_recovers_by_itself(
    world_on_disk: CoreWorld, disk: SmallDisk
) -> None:
    w = world_on_disk
    w.core = build_core(w.paths, backoff_factory=lambda: Backoff(initial=0.05, cap=0.3))
    core = w.core
    storage: list[ArchiveStorageChanged] = []
    stored: list[MessageStored] = []
    core.bus.subscribe(ArchiveStorageChanged, storage.append)
    core.bus.subscribe(MessageStored, stored.append)
    core.bus.subscribe(AccountStateChanged, w.states.append)
    await core.start()
    await w.wait_state(ConnectionState.CONNECTED)
    supervisor = core.accounts.supervisor(w.account_id)
    assert supervisor is not None

    await w.server.deliver(w.bob, w.alice, "before the disk filled")
    await eventually(lambda: len(stored) == 1)

    # The disk fills up while messages keep coming: the first one that cannot be stored tells the user.
    disk.fill()
    expected = ["before the disk filled"]
    for n in range(200):
        expected.append(f"while filling {n}")
        await w.server.deliver(w.bob, w.alice, f"while filling {n}{PADDING}")
        await eventually(lambda: bool(storage) or len(stored) == len(expected))
        if storage:
            break
    assert storage and not storage[0].writable, "the full disk was never reported"
    assert "is full" in storage[0].reason

    # The account is held: offline, so that its server keeps what comes meanwhile; the user sees why.
    await eventually(lambda: not w.server.online(w.alice))
    await w.wait_state(ConnectionState.WAITING)
    assert supervisor.is_held()
    assert any(s.state is ConnectionState.WAITING and "is full" in s.reason for s in w.states)
    for n in range(3):
        expected.append(f"while full {n}")
        await w.server.deliver(w.bob, w.alice, f"while full {n}")
    # A send cannot be stored: it is refused at once, with the reason, and nothing is half done.
    with pytest.raises(ArchiveStorageError, match="is full"):
        await core.outbound.send(w.account_id, w.bob, "not now")

    # Space comes back: it recovers by itself, stores what it kept and what the server held.
    disk.free()
    await eventually(lambda: len(storage) == 2, timeout=20)
    assert storage[1].writable
    await w.wait_state(ConnectionState.CONNECTED, timeout=20)
    for n in range(3):
        expected.append(f"after {n}")
        await w.server.deliver(w.bob, w.alice, f"after {n}")
    await eventually(lambda: len(_bodies(w)) >= len(expected), timeout=20)
    await w.drain()
    assert _bodies(w) == expected

    row = await core.outbound.send(w.account_id, w.bob, "reply after the disk was full")
    assert row.state is MessageState.SENT
    assert [m.body for m in w.server.received(w.alice)] == ["reply after the disk was full"]
