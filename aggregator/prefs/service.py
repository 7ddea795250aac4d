"""The user's preferences in a running core: read them, change them (within the policy), and act on
them: logging on/off (``unlogged``), the scheduled retention (``retention_job``). Engine thread only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aggregator.api import AggregatorError, ConfigurationError, PolicyError, Sphere
from aggregator.archive import Archive
from aggregator.bus import EventBus
from aggregator.events import AccountStateChanged
from aggregator.paths import ProfilePaths
from aggregator.policy.engine import Decision, PolicyEngine, PolicyEvent, Verdict
from aggregator.prefs import keys
from aggregator.prefs.retention_job import RetentionJob, plan
from aggregator.prefs.unlogged import UnloggedJournal
from aggregator.settings import LoggingChoice, Settings, logging_choice, read_raw, retention_days, write_raw

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def enforce_logging(settings: Settings, policy: PolicyEngine) -> tuple[Settings, list[str]]:
    """``settings`` with logging turned back on wherever the policy requires it; the notes say what was
    overridden (the user's choice in ``settings.json`` is overridden, not silently ignored)."""
    choice = settings.logging
    notes: list[str] = []
    spheres = dict(choice.spheres)
    for sphere, enabled in choice.spheres.items():
        required = policy.sphere_logging_required(sphere)
        if not enabled and required.verdict is Verdict.DENY:
            spheres[sphere] = True
            notes.append(f"logging of {sphere.value} accounts turned back on: {required.reason}")
    accounts = dict(choice.accounts)
    for account_id, enabled in choice.accounts.items():
        required = policy.logging_required(account_id)
        if not enabled and required.verdict is Verdict.DENY:
            accounts[account_id] = True
            notes.append(f"logging of {account_id} turned back on: {required.reason}")
    if not notes:
        return settings, notes
    return replace(settings, logging=LoggingChoice(spheres, accounts)), notes


class Preferences:
    def __init__(
        self,
        paths: ProfilePaths,
        settings: Settings,
        policy: PolicyEngine,
        archive: Archive,
        accounts: Callable[[], Mapping[str, Sphere]],
        *,
        seeded: Mapping[str, float] | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._paths = paths
        self._policy = policy
        self._archive = archive
        self._accounts = accounts
        self._seeded = dict(seeded or {})
        self.settings, self.notes = enforce_logging(settings, policy)
        if self.notes:
            for note in self.notes:
                log.warning("Settings: %s", note)
            self._write_logging()
        self.journal = UnloggedJournal(paths.config_dir, policy, clock)
        self.retention = RetentionJob(archive, self._retention_plan, clock=clock)

    # -- lifecycle ------------------------------------------------------------------------------------

    def begin(self) -> None:
        """At start, before any account connects: remove what a previous run left unlogged (a crash),
        then note which accounts are not logged from now on."""
        self.journal.purge(self._archive)
        self.reconcile()

    def attach(self, bus: EventBus) -> None:
        # Published (synchronously) before an account connects: a new or moved account is covered in time.
        bus.subscribe(AccountStateChanged, lambda _e: self.reconcile())

    def start(self) -> None:
        self.retention.start()

    async def stop(self) -> None:
        """After the accounts stopped: remove the messages of the conversations that are not logged."""
        await self.retention.stop()
        try:
            self.journal.purge(self._archive)
        except Exception:
            log.exception("Could not remove the unlogged messages now; they go at the next start")

    # -- reading --------------------------------------------------------------------------------------

    def logging_enabled(self, account_id: str) -> bool:
        """Whether this account's conversations are kept (the policy's requirement beats the setting)."""
        if self._policy.logging_required(account_id).verdict is Verdict.DENY:
            return True
        sphere = self._accounts().get(account_id, Sphere.PERSONAL)
        return self.settings.logging.enabled(account_id, sphere)

    def views(self) -> list[keys.SettingView]:
        return keys.views(self.settings, self._raw(), self._policy, self._accounts(), self._seeded)

    def view(self, name: str) -> keys.SettingView | None:
        return next((v for v in self.views() if v.key == name), None)

    # -- changing -------------------------------------------------------------------------------------

    def set(self, name: str, text: str) -> keys.SettingView:
        """Set one setting from its text (``ConfigurationError``: bad key or value; ``PolicyError``: the
        policy forbids it, recorded as a ``settings`` policy event)."""
        key = keys.parse_key(name)
        value = keys.parse_value(key, text)
        if key.account is not None and key.account not in self._accounts():
            raise ConfigurationError(f"there is no account {key.account}")
        try:
            keys.check_allowed(key, value, self._policy)
        except PolicyError as exc:
            self._policy.record(
                PolicyEvent(
                    "settings", Decision(Verdict.DENY, exc.rule, f"{name} = {text}: {exc}"), account_id=key.account
                )
            )
            raise
        raw = keys.changed_raw(self._raw(), key, value)
        write_raw(self._paths.settings_file, raw)
        self._apply(key, raw)
        log.info("Setting %s = %s", name, keys.value_text(value))
        view = self.view(name)
        assert view is not None
        return view

    def _apply(self, key: keys.Key, raw: Mapping[str, object]) -> None:
        if key.kind is keys.KeyKind.LOGGING:
            self.settings = replace(self.settings, logging=logging_choice(raw["logging"]))
            self.reconcile()
        elif key.kind is keys.KeyKind.RETENTION:
            self.settings = replace(self.settings, retention_days=retention_days(raw["retention_days"]))
            self.retention.poke()
        else:
            # Connection settings and the database apply at the next start.
            changed: dict[str, Any] = {key.name: raw.get(key.name)}
            self.settings = replace(self.settings, **changed)

    def reconcile(self) -> None:
        """Open or close the unlogged spans to match the settings and the accounts."""
        for account_id in self._accounts():
            if self.logging_enabled(account_id):
                self.journal.close(account_id)
            else:
                self.journal.open(account_id)

    # -- internals ------------------------------------------------------------------------------------

    def _raw(self) -> dict[str, object]:
        try:
            return read_raw(self._paths.settings_file)
        except (OSError, ValueError) as exc:
            raise AggregatorError(f"cannot read {self._paths.settings_file}: {exc}") from None

    def _write_logging(self) -> None:
        try:
            raw = read_raw(self._paths.settings_file)
        except (OSError, ValueError) as exc:
            log.error(
                "Cannot rewrite %s (%s); the policy's logging applies in memory only", self._paths.settings_file, exc
            )
            return
        raw["logging"] = self.settings.logging.to_json()
        write_raw(self._paths.settings_file, raw)

    def _retention_plan(self) -> Mapping[int, tuple[str, ...]]:
        return plan(self._policy.retention_plan(), self.settings.retention_days, self._accounts())
