"""The core: every service of one running profile, built by ``bootstrap.build_core``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aggregator.accounts.config import AccountStore
from aggregator.accounts.manager import AccountManager
from aggregator.accounts.secrets import SecretStore
from aggregator.archive import Archive
from aggregator.bus import EventBus
from aggregator.conversations.inbound import InboundPipeline
from aggregator.conversations.outbound import OutboundService
from aggregator.conversations.router import EventRouter
from aggregator.files.service import FileService
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.policy.apply import PolicyReport
from aggregator.policy.events import PolicyNotice
from aggregator.policy.log import PolicyLog
from aggregator.prefs.service import Preferences
from aggregator.presence.service import OwnStatus
from aggregator.registry import ProtocolRegistry
from aggregator.rooms.service import RoomService
from aggregator.roster.service import Roster
from aggregator.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Core:
    settings: Settings
    paths: ProfilePaths
    registry: ProtocolRegistry
    bus: EventBus
    policy: PolicyEngine
    archive: Archive
    account_store: AccountStore
    secrets: SecretStore
    accounts: AccountManager
    inbound: InboundPipeline
    outbound: OutboundService
    router: EventRouter
    roster: Roster
    status: OwnStatus
    rooms: RoomService
    policy_log: PolicyLog | None = None
    #: What applying the policy file did at start (warnings to show prominently, accounts created).
    policy_report: PolicyReport | None = None
    #: The user's preferences: logging on/off, the scheduled retention, settings by key.
    prefs: Preferences | None = None
    #: The files of messages (attachments, downloads, scanning); None in cores built without one.
    files: FileService | None = None
    _noticed: bool = field(default=False, repr=False)

    async def start(self, only: list[str] | None = None) -> None:
        """Connect the enabled accounts and keep the own status up to date (auto-away, work hours).

        With ``only``, a one-shot command: connect just those accounts; no idle watching."""
        if self.policy_report is not None and not self._noticed:
            self._noticed = True
            for line in self.policy_report.warnings:
                self.bus.publish(PolicyNotice(message=line, warning=True))
            for line in self.policy_report.notes:
                self.bus.publish(PolicyNotice(message=line, warning=False))
        self.accounts.start(only)
        if only is None:
            self.status.start()
            if self.prefs is not None:
                self.prefs.start()

    async def stop(self) -> None:
        """Disconnect every account, handle every event already received, close the archive."""
        await self.status.stop()
        await self.accounts.stop()
        await self.rooms.wait_idle()
        if self.files is not None:
            await self.files.wait_idle()
        await self.outbound.wait_flushed()
        if self.prefs is not None:
            await self.prefs.stop()  # removes the messages of conversations that are not logged

    def close(self) -> None:
        self.archive.close()
