"""OwnStatusChanged: the UI learns the choices and what each account shows, once per change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from aggregator.accounts.config import AccountConfig
from aggregator.api import Adapter, Presence, PresenceKind, Sphere
from aggregator.bus import EventBus
from aggregator.presence.events import OwnStatusChanged
from aggregator.presence.service import OwnStatus
from aggregator.presence.status import StatusFile

WORK, HOME = "xmpp:me@corp.example", "matrix:@me:home.example"
MON_10 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


class Quiet:
    async def set_presence(self, presence: Presence) -> None:
        pass


async def test_a_change_is_announced_once_with_every_accounts_shown_presence(tmp_path: Path) -> None:
    accounts = [
        AccountConfig(id=WORK, protocol="xmpp", address="me@corp.example", sphere=Sphere.WORK),
        AccountConfig(id=HOME, protocol="matrix", address="@me:home.example", sphere=Sphere.PERSONAL),
    ]
    status = OwnStatus(
        StatusFile(tmp_path / "status.json"),
        accounts=lambda: accounts,
        adapter_of=cast(Callable[[str], Adapter], lambda _a: Quiet()),
        clock=lambda: MON_10,
    )
    bus = EventBus()
    seen: list[OwnStatusChanged] = []
    bus.subscribe(OwnStatusChanged, seen.append)
    status.attach(bus)
    await status.tick()
    assert len(seen) == 1
    assert seen[0].shown_by(WORK) == Presence(PresenceKind.AVAILABLE)
    await status.tick()
    assert len(seen) == 1  # nothing changed: nothing announced

    await status.set_status(Presence(PresenceKind.BUSY, "focus"), sphere=Sphere.WORK)
    assert len(seen) == 2
    assert seen[-1].book.spheres == {Sphere.WORK: Presence(PresenceKind.BUSY, "focus")}
    assert seen[-1].shown_by(WORK) == Presence(PresenceKind.BUSY, "focus")
    assert seen[-1].shown_by(HOME) == Presence(PresenceKind.AVAILABLE)
    assert seen[-1].shown_by("irc:nobody") is None
    assert seen[-1] == status.snapshot()
