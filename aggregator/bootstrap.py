"""One function builds the core, in order, with explicit dependencies:
policy -> settings -> archive -> (roster) -> accounts -> conversations.

The policy comes first: it seeds and locks settings and creates the preseeded accounts before they are read."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountStore
from aggregator.accounts.manager import AccountManager
from aggregator.accounts.secrets import SecretStore
from aggregator.api import AccountId, AdapterEvent
from aggregator.archive import Archive
from aggregator.archive.storage import StorageState
from aggregator.bus import EventBus
from aggregator.contacts.book import ContactBook, roster_names
from aggregator.conversations.inbound import InboundPipeline
from aggregator.conversations.outbound import OutboundService
from aggregator.conversations.positions import CatchupPositions
from aggregator.conversations.router import EventRouter
from aggregator.core import Core
from aggregator.events import ArchiveStorageChanged
from aggregator.files.service import FileService
from aggregator.files.store import FILES_DIR, FileStore
from aggregator.paths import ProfilePaths
from aggregator.policy.apply import enforce_locked, start_policy
from aggregator.policy.events import PolicyDenied
from aggregator.policy.log import PolicyLog
from aggregator.policy.state import PolicyState
from aggregator.prefs.service import Preferences
from aggregator.presence.idle import AppInputIdle, DBusIdle, FirstAnswer
from aggregator.presence.service import OwnStatus
from aggregator.presence.status import StatusFile
from aggregator.profile import profile_id
from aggregator.registry import ProtocolRegistry
from aggregator.rooms.lock import autojoin_lock
from aggregator.rooms.service import RoomService
from aggregator.rooms.store import FILE_NAME as ROOMS_FILE
from aggregator.rooms.store import RoomStore
from aggregator.roster.service import Roster
from aggregator.settings import Settings

log = logging.getLogger(__name__)


def _storage_changed(bus: EventBus, state: StorageState) -> None:
    """The archive stopped (or resumed) taking writes: one log line, and a core event for the front ends."""
    if state.writable:
        log.warning("The archive takes writes again; held accounts reconnect")
    else:
        log.warning("Cannot store anything: %s; accounts are held until there is space", state.reason)
    bus.publish(ArchiveStorageChanged(writable=state.writable, reason=state.reason))


def build_core(
    paths: ProfilePaths,
    *,
    registry: ProtocolRegistry | None = None,
    database_url: str | None = None,
    backoff_factory: Callable[[], Backoff] | None = None,
) -> Core:
    """Build every service of the profile. Must run on the engine loop (services bind to it)."""
    paths.ensure()
    registry = registry or ProtocolRegistry.discover()
    secrets = SecretStore(profile_id(paths))
    policy, policy_report = start_policy(paths, registry, secrets)
    settings = enforce_locked(Settings.load(paths.settings_file), policy)
    if backoff_factory is None:

        def backoff_factory() -> Backoff:
            return Backoff(initial=settings.reconnect_initial_delay, cap=settings.reconnect_max_delay)

    account_store = AccountStore(paths.accounts_file)
    configs = account_store.load()
    database_url = database_url or settings.database_url
    archive = Archive.open(path=None if database_url else paths.archive_file, url=database_url)
    bus = EventBus()
    archive.storage.add_listener(lambda state: _storage_changed(bus, state))
    policy_log = PolicyLog(archive)
    policy.add_listener(policy_log.record)
    policy.add_listener(lambda event: bus.publish(PolicyDenied(event=event)))

    router_ref: list[EventRouter] = []

    async def on_event(event: AdapterEvent) -> None:
        await router_ref[0].dispatch(event)

    positions = CatchupPositions(archive)
    accounts = AccountManager(
        registry=registry,
        secrets=secrets,
        bus=bus,
        archive=archive,
        paths=paths,
        on_event=on_event,
        backoff_factory=backoff_factory,
        connect_timeout=settings.connect_timeout,
        resume=positions.for_connect,
    )
    accounts.configure(configs)
    policy.bind_accounts(lambda: {a.id: a.sphere for a in accounts.configs()})
    prefs = Preferences(
        paths,
        settings,
        policy,
        archive,
        lambda: {a.id: a.sphere for a in accounts.configs()},
        seeded=PolicyState.load(paths.config_dir).seeded,
    )
    prefs.begin()  # before any account connects
    prefs.attach(bus)
    policy_report.notes.extend(prefs.notes)
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
    inbound = InboundPipeline(archive, bus, policy, positions)
    outbound = OutboundService(archive=archive, bus=bus, policy=policy, accounts=accounts, registry=registry)
    router = EventRouter(
        archive=archive,
        bus=bus,
        inbound=inbound,
        outbound=outbound,
        policy=policy,
        adapter_of=accounts.connected_adapter,
        contacts=ContactBook(
            archive, bus, label_of=lambda a: _account_label(accounts, a), name_of=roster_names(roster)
        ),
    )
    router_ref.append(router)
    rooms = RoomService(
        archive,
        RoomStore(paths.config_dir / ROOMS_FILE),
        registry=registry,
        accounts=accounts.configs,
        adapter_of=accounts.connected_adapter,
        autojoin_lock=lambda account_id: autojoin_lock(policy, paths, account_id),
    )
    rooms.load()
    rooms.attach(bus)
    outbound.is_known_room = rooms.is_room
    files = FileService(
        archive=archive,
        bus=bus,
        policy=policy,
        store=FileStore(paths.data_dir / FILES_DIR),
        adapter_of=accounts.connected_adapter,
    )
    inbound.files = outbound.files = files
    prefs.retention.release_files = files.store.delete_contents
    return Core(
        settings=prefs.settings,
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
        rooms=rooms,
        policy_log=policy_log,
        policy_report=policy_report,
        prefs=prefs,
        files=files,
    )


def _account_label(accounts: AccountManager, account_id: AccountId) -> str:
    try:
        return accounts.config(account_id).display_name
    except KeyError:
        return account_id
