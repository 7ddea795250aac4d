"""A roster on a real archive file, with no network: accounts, messages and a recording bus."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator.accounts.config import AccountConfig
from aggregator.api import ConversationKey, MessageState, RosterItem, RosterSnapshot, Sphere
from aggregator.archive import Archive, Direction, StoredMessage
from aggregator.bus import EventBus
from aggregator.events import MessageStored
from aggregator.policy import PolicyEngine
from aggregator.roster.service import Roster

XMPP = "xmpp:me@example.org"
MATRIX = "matrix:@me:example.org"
IRC = "irc:me"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

ACCOUNTS = (
    AccountConfig(id=XMPP, protocol="xmpp", address="me@example.org", sphere=Sphere.WORK),
    AccountConfig(id=MATRIX, protocol="matrix", address="@me:example.org", sphere=Sphere.PERSONAL),
    AccountConfig(id=IRC, protocol="irc", address="me", sphere=Sphere.PERSONAL),
)


@dataclass
class RosterWorld:
    path: Path
    policy: PolicyEngine = field(default_factory=PolicyEngine)
    accounts: list[AccountConfig] = field(default_factory=lambda: list(ACCOUNTS))
    events: list[Any] = field(default_factory=list)
    archive: Archive | None = None
    roster: Roster | None = None
    bus: EventBus | None = None

    def open(self) -> Roster:
        self.archive = Archive.open(path=self.path)
        for a in self.accounts:
            self.archive.upsert_account(a.id, a.protocol, a.address, a.label, a.sphere)
        self.bus = EventBus()
        self.bus.subscribe(object, self.events.append, priority=1000)
        self.roster = Roster(self.archive, policy=self.policy, accounts=lambda: self.accounts, bus=self.bus)
        self.roster.load()
        self.roster.attach(self.bus)
        return self.roster

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()
        self.archive = self.roster = self.bus = None

    def reopen(self) -> Roster:
        self.close()
        self.events.clear()
        return self.open()

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def snapshot(self, account_id: str, *items: tuple[str, str | None]) -> None:
        assert self.bus is not None
        self.bus.publish(
            RosterSnapshot(account_id=account_id, items=tuple(RosterItem(handle=h, name=n) for h, n in items))
        )

    def message(
        self, account_id: str, handle: str, body: str, minutes: float, *, out: bool = False, name: str | None = None
    ) -> StoredMessage:
        """Store a direct message (as the pipeline does) and announce it."""
        assert self.archive is not None and self.bus is not None
        key = ConversationKey.direct(account_id, handle)
        conv = self.archive.conversation_id(key)
        assert conv is not None
        stored = self.archive.insert_message(
            conversation_id=conv,
            account_id=account_id,
            direction=Direction.OUT if out else Direction.IN,
            sender="me" if out else handle,
            sender_name=name,
            body=body,
            sent_at=T0 + timedelta(minutes=minutes),
            state=MessageState.SENT if out else MessageState.RECEIVED,
            server_id=f"{account_id}/{handle}/{minutes}",
        )
        assert stored is not None
        self.bus.publish(MessageStored(message=stored))
        return stored


def world_at(tmp_path: Path) -> Iterator[RosterWorld]:
    w = RosterWorld(tmp_path / "archive.sqlite3")
    w.open()
    try:
        yield w
    finally:
        w.close()


__all__ = ["ACCOUNTS", "IRC", "MATRIX", "T0", "XMPP", "RosterWorld", "world_at"]
