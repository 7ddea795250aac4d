"""One function builds the core, in order, with explicit dependencies:
settings -> policy -> archive -> (roster) -> accounts -> conversations."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountStore
from aggregator.accounts.manager import AccountManager
from aggregator.accounts.secrets import SecretStore
from aggregator.api import AdapterEvent
from aggregator.archive import Archive
from aggregator.bus import EventBus
from aggregator.conversations.inbound import InboundPipeline
from aggregator.conversations.outbound import OutboundService
from aggregator.conversations.router import EventRouter
from aggregator.core import Core
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.presence.idle import AppInputIdle, DBusIdle, FirstAnswer
from aggregator.presence.service import OwnStatus
from aggregator.presence.status import StatusFile
from aggregator.profile import profile_id
from aggregator.registry import ProtocolRegistry
from aggregator.roster.service import Roster
from aggregator.settings import Settings

log = logging.getLogger(__name__)


def build_core(
    paths: ProfilePaths,
    *,
    registry: ProtocolRegistry | None = None,
    database_url: str | None = None,
    backoff_factory: Callable[[], Backoff] | None = None,
) -> Core:
    """Build every service of the profile. Must run on the engine loop (services bind to it)."""
    paths.ensure()
    settings = Settings.load(paths.settings_file)
    if backoff_factory is None:

        def backoff_factory() -> Backoff:
            return Backoff(initial=settings.reconnect_initial_delay, cap=settings.reconnect_max_delay)

    registry = registry or ProtocolRegistry.discover()
    account_store = AccountStore(paths.accounts_file)
    configs = account_store.load()
    policy = PolicyEngine()
    archive = Archive.open(path=None if database_url else paths.archive_file, url=database_url)
    bus = EventBus()
    secrets = SecretStore(profile_id(paths))

    router_ref: list[EventRouter] = []

    async def on_event(event: AdapterEvent) -> None:
        await router_ref[0].dispatch(event)

    accounts = AccountManager(
        registry=registry,
        secrets=secrets,
        bus=bus,
        archive=archive,
        paths=paths,
        on_event=on_event,
        backoff_factory=backoff_factory,
        connect_timeout=settings.connect_timeout,
    )
    accounts.configure(configs)
    roster = Roster(archive, policy=policy, accounts=accounts.configs, bus=bus)
    roster.load()
    roster.attach(bus)
    app_input = AppInputIdle()
    status = OwnStatus(
        StatusFile(paths.config_dir / "status.json"),
        accounts=accounts.configs,
        adapter_of=accounts.connected_adapter,
        idle=FirstAnswer(DBusIdle(), app_input),
        app_input=app_input,
    )
    status.attach(bus)
    inbound = InboundPipeline(archive, bus, policy)
    outbound = OutboundService(archive=archive, bus=bus, policy=policy, accounts=accounts, registry=registry)
    router = EventRouter(archive=archive, bus=bus, inbound=inbound, outbound=outbound)
    router_ref.append(router)
    return Core(
        settings=settings,
        paths=paths,
        registry=registry,
        bus=bus,
        policy=policy,
        archive=archive,
        account_store=account_store,
        secrets=secrets,
        accounts=accounts,
        inbound=inbound,
        outbound=outbound,
        router=router,
        roster=roster,
        status=status,
    )
