"""The settings commands (``aggregator.app.settings``) on a profile no instance runs: the values as a
start would see them (the policy's locked values and required logging applied), and ``set`` checked
against the policy, its refusals recorded in the archive's policy log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aggregator.api import AggregatorError, ConfigurationError, Sphere
from aggregator.app import settings as commands
from aggregator.app.accounts import AccountCommands
from aggregator.app.offline.profile import OfflineProfile
from aggregator.paths import ProfilePaths
from aggregator.policy.apply import enforce_locked
from aggregator.policy.engine import FailSafe, PolicyEngine
from aggregator.policy.file import load_policy
from aggregator.policy.log import PolicyLog
from aggregator.policy.state import PolicyState
from aggregator.prefs import keys
from aggregator.prefs.service import Preferences, enforce_logging
from aggregator.settings import Settings, read_raw

__all__ = ["known_keys", "set_value", "show"]

known_keys = keys.known_keys


def _engine(paths: ProfilePaths) -> tuple[PolicyEngine, PolicyState, dict[str, Sphere]]:
    """The policy as a start would see it, without applying it; and the accounts' spheres."""
    load = load_policy(setting_names=Settings.names())
    state = PolicyState.load(paths.config_dir)
    engine = PolicyEngine(load.policy, fail_safe=state.fail_safe if load.error else FailSafe())
    try:
        spheres = {a.id: a.sphere for a in AccountCommands.offline(paths).accounts()}
    except ConfigurationError as exc:
        raise AggregatorError(str(exc)) from None
    engine.bind_accounts(lambda: spheres)
    return engine, state, spheres


def _settings(paths: ProfilePaths, engine: PolicyEngine) -> Settings:
    settings, _notes = enforce_logging(enforce_locked(Settings.load(paths.settings_file), engine), engine)
    return settings


def show(paths: ProfilePaths) -> dict[str, Any]:
    """The ``settings.show`` reply: every setting, its value and where it comes from."""
    engine, state, spheres = _engine(paths)
    try:
        raw = read_raw(paths.settings_file)
    except (OSError, ValueError) as exc:
        raise AggregatorError(f"cannot read {paths.settings_file}: {exc}") from None
    views = keys.views(_settings(paths, engine), raw, engine, spheres, state.seeded)
    return {"ok": True, "settings": [commands.view_json(v) for v in views]}


def set_value(paths: ProfilePaths, key: str, value: str, profile: Callable[[], OfflineProfile]) -> dict[str, Any]:
    """The ``settings.set`` reply; a bad key or value: ``ConfigurationError`` before ``profile()`` is
    asked for the archive (a typo is a usage error, nothing else)."""
    engine, state, spheres = _engine(paths)
    keys.parse_value(keys.parse_key(key), value)
    paths.ensure()
    with profile() as offline:
        engine.add_listener(PolicyLog(offline.archive).record)
        prefs = Preferences(
            paths, _settings(paths, engine), engine, offline.archive, lambda: spheres, seeded=state.seeded
        )
        return commands.run(prefs, {"op": "settings.set", "key": key, "value": value})
