"""The account manager: connects the enabled accounts and keeps them supervised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig
from aggregator.accounts.secrets import SecretStore
from aggregator.accounts.supervisor import AccountSupervisor, ResumeSource
from aggregator.api import AccountId, Adapter, AdapterEvent, CertificateDetails, NotConnectedError
from aggregator.archive import Archive, StatusKind
from aggregator.archive.storage import ArchiveStorageError
from aggregator.bus import EventBus
from aggregator.events import AccountsChanged, AccountStateChanged, ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.registry import ProtocolRegistry

log = logging.getLogger(__name__)

_STATUS_CODES = {
    ConnectionState.CONNECTING: StatusKind.CONNECTING,
    ConnectionState.CONNECTED: StatusKind.CONNECTED,
    ConnectionState.WAITING: StatusKind.DISCONNECTED,
    ConnectionState.OFFLINE: StatusKind.DISCONNECTED,
    ConnectionState.FAILED: StatusKind.FAILED,
}


class AccountManager:
    def __init__(
        self,
        *,
        registry: ProtocolRegistry,
        secrets: SecretStore,
        bus: EventBus,
        archive: Archive,
        paths: ProfilePaths,
        on_event: Callable[[AdapterEvent], Awaitable[None]],
        backoff_factory: Callable[[], Backoff] = Backoff,
        connect_timeout: float = 30.0,
        resume: ResumeSource | None = None,
    ) -> None:
        self._connect_timeout = connect_timeout
        self._resume = resume
        self._registry = registry
        self._secrets = secrets
        self._bus = bus
        self._archive = archive
        self._paths = paths
        self._on_event = on_event
        self._backoff_factory = backoff_factory
        self._supervisors: dict[AccountId, AccountSupervisor] = {}
        self._configs: dict[AccountId, AccountConfig] = {}

    def configure(self, accounts: Iterable[AccountConfig]) -> None:
        """Take new or edited accounts; publishes ``AccountsChanged`` for those that differ."""
        changed: list[AccountId] = []
        for account in accounts:
            if self._configs.get(account.id) != account:
                changed.append(account.id)
            self._configs[account.id] = account
            self._archive.upsert_account(account.id, account.protocol, account.address, account.label, account.sphere)
        if changed:
            self._bus.publish(AccountsChanged(account_ids=tuple(changed)))

    def configs(self) -> list[AccountConfig]:
        return list(self._configs.values())

    def config(self, account_id: AccountId) -> AccountConfig:
        return self._configs[account_id]

    def start(self, only: Iterable[AccountId] | None = None) -> None:
        wanted = set(only) if only is not None else None
        for account in self._configs.values():
            if wanted is not None and account.id not in wanted:
                continue
            if not account.enabled and wanted is None:
                self._publish(account, ConnectionState.DISABLED, "", None)
                continue
            self._start_one(account)

    def _start_one(self, account: AccountConfig) -> AccountSupervisor:
        existing = self._supervisors.get(account.id)
        if existing is not None:
            return existing
        info = self._registry.get(account.protocol)
        data_dir = self._paths.account_data_dir(account.id)
        data_dir.parent.mkdir(exist_ok=True, mode=0o700)
        data_dir.mkdir(exist_ok=True, mode=0o700)
        settings = account.to_settings(data_dir)
        supervisor = AccountSupervisor(
            account,
            lambda sink: info.create(settings, sink),
            self._secrets,
            self._on_state,
            self._on_event,
            self._backoff_factory(),
            connect_timeout=self._connect_timeout,
            resume=self._resume,
        )
        self._supervisors[account.id] = supervisor
        supervisor.start()
        return supervisor

    async def stop(self) -> None:
        supervisors = list(self._supervisors.values())
        self._supervisors.clear()
        await asyncio.gather(*(s.stop() for s in supervisors), return_exceptions=True)

    async def stop_account(self, account_id: AccountId, *, forget: bool = False) -> None:
        """Disconnect one account (the account dialog: disable, edit, remove); ``forget`` also drops its
        configuration from this run. ``configure`` + ``start([id])`` bring it back."""
        supervisor = self._supervisors.pop(account_id, None)
        if supervisor is not None:
            await supervisor.stop()
        if forget and self._configs.pop(account_id, None) is not None:
            self._bus.publish(AccountsChanged(account_ids=(account_id,)))

    def supervisor(self, account_id: AccountId) -> AccountSupervisor | None:
        return self._supervisors.get(account_id)

    def state(self, account_id: AccountId) -> ConnectionState:
        sup = self._supervisors.get(account_id)
        if sup is None:
            config = self._configs.get(account_id)
            return ConnectionState.DISABLED if config and not config.enabled else ConnectionState.OFFLINE
        return sup.state

    def reason(self, account_id: AccountId) -> str:
        """Why the account is in its state (FAILED, WAITING); "" when there is nothing to say."""
        sup = self._supervisors.get(account_id)
        return sup.reason if sup is not None and sup.state is not ConnectionState.CONNECTED else ""

    def presented_certificate(self, account_id: AccountId) -> CertificateDetails | None:
        """The certificate an account FAILED on (what its server presented), awaiting the user's decision."""
        sup = self._supervisors.get(account_id)
        return sup.certificate if sup is not None and sup.state is ConnectionState.FAILED else None

    def connected_adapter(self, account_id: AccountId) -> Adapter:
        sup = self._supervisors.get(account_id)
        if sup is None or not sup.connected:
            raise NotConnectedError(f"account {account_id} is not connected")
        return sup.adapter

    def _on_state(self, account: AccountConfig, state: ConnectionState, reason: str, retry_in: float | None) -> None:
        code = _STATUS_CODES.get(state)
        if code is not None:
            try:
                self._archive.record_status(account.id, code, reason)
            except ArchiveStorageError as exc:  # a full disk: the state is still shown, not kept
                log.info("Could not record the state of %s: %s", account.id, exc)
            except Exception:
                log.exception("Could not record the state of %s", account.id)
        self._publish(account, state, reason, retry_in)

    def _publish(self, account: AccountConfig, state: ConnectionState, reason: str, retry_in: float | None) -> None:
        sup = self._supervisors.get(account.id)
        certificate = sup.certificate if sup is not None and state is ConnectionState.FAILED else None
        self._bus.publish(
            AccountStateChanged(
                account_id=account.id, state=state, reason=reason, retry_in=retry_in, certificate=certificate
            )
        )
