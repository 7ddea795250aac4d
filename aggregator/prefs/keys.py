"""The user's settings as named keys (``aggregator settings``, the preferences dialog): parsing a key and a
typed value, where each value comes from, and whether the organisation's policy forbids a change.

Keys: ``reconnect_initial_delay``, ``reconnect_max_delay``, ``connect_timeout`` (seconds),
``database_url``, ``logging.work``, ``logging.personal``, ``logging.account.ID`` (on/off),
``retention_days.work``, ``retention_days.personal`` (days, 0 = keep forever). Pure functions.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aggregator.api import ConfigurationError, PolicyError, Sphere
from aggregator.policy.engine import PolicyEngine, Verdict
from aggregator.settings import Settings, database_url, days_value, seconds

log = logging.getLogger(__name__)

SECONDS_KEYS = ("reconnect_initial_delay", "reconnect_max_delay", "connect_timeout")
_TRUE = frozenset({"on", "true", "yes", "1"})
_FALSE = frozenset({"off", "false", "no", "0"})


class Source(enum.StrEnum):
    DEFAULT = "default"
    USER = "user"
    POLICY_DEFAULT = "policy default"
    LOCKED = "locked"


class KeyKind(enum.StrEnum):
    SECONDS = "seconds"
    DATABASE = "database"
    LOGGING = "logging"
    RETENTION = "retention"


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    kind: KeyKind
    sphere: Sphere | None = None
    account: str | None = None


@dataclass(frozen=True, slots=True)
class SettingView:
    """One setting as the user sees it: its value, where it comes from, and (locked, limited) why."""

    key: str
    value: Any  # float, str | None, bool, int
    source: Source
    reason: str = ""

    @property
    def text(self) -> str:
        if self.key.startswith("retention_days.") and self.value == 0:
            return "0 (keep forever)"
        return value_text(self.value)


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def known_keys() -> str:
    return ", ".join(
        [
            *SECONDS_KEYS,
            "database_url",
            "logging.work",
            "logging.personal",
            "logging.account.ID",
            "retention_days.work",
            "retention_days.personal",
        ]
    )


def parse_key(name: str) -> Key:
    """The key ``name`` names (``ConfigurationError`` listing the known keys if none)."""
    if name in SECONDS_KEYS:
        return Key(name, KeyKind.SECONDS)
    if name == "database_url":
        return Key(name, KeyKind.DATABASE)
    head, _, rest = name.partition(".")
    if head == "logging" and rest.startswith("account.") and rest[len("account.") :]:
        return Key(name, KeyKind.LOGGING, account=rest[len("account.") :])
    if head in ("logging", "retention_days") and rest in {s.value for s in Sphere}:
        kind = KeyKind.LOGGING if head == "logging" else KeyKind.RETENTION
        return Key(name, kind, sphere=Sphere(rest))
    raise ConfigurationError(f"unknown setting {name!r} (known: {known_keys()})")


def parse_value(key: Key, text: str) -> Any:
    """The value ``text`` gives for ``key`` (``ConfigurationError`` saying what is wrong)."""
    raw = text.strip()
    try:
        match key.kind:
            case KeyKind.SECONDS:
                try:
                    number = float(raw)
                except ValueError:
                    raise ValueError("must be a number of seconds in (0, 3600]") from None
                return seconds(number)
            case KeyKind.DATABASE:
                return None if raw.lower() in ("", "none") else database_url(raw)
            case KeyKind.LOGGING:
                if raw.lower() in _TRUE:
                    return True
                if raw.lower() in _FALSE:
                    return False
                raise ValueError("must be on or off")
            case KeyKind.RETENTION:
                try:
                    days = int(raw)
                except ValueError:
                    raise ValueError("must be a whole number of days, 0 (keep forever) or more") from None
                return days_value(days)
    except ValueError as exc:
        raise ConfigurationError(f"{key.name} {exc}, not {text!r}") from None
    raise AssertionError(key.kind)


def check_allowed(key: Key, value: Any, engine: PolicyEngine) -> None:
    """Raise ``PolicyError`` (with the reason and the rule) if the policy forbids ``key = value``."""
    if key.kind is KeyKind.SECONDS:
        lock = engine.setting_lock(key.name)
        if lock is not None and float(value) != lock.value:
            raise PolicyError(f"{key.name} is {lock.reason}, at {lock.value:g}", rule=f"locked.{key.name}")
    elif key.kind is KeyKind.LOGGING and value is False:
        decision = (
            engine.logging_required(key.account)
            if key.account is not None
            else engine.sphere_logging_required(key.sphere or Sphere.PERSONAL)
        )
        if decision.verdict is Verdict.DENY:
            raise PolicyError(f"logging cannot be turned off: {decision.reason}", rule=decision.rule)
    elif key.kind is KeyKind.RETENTION:
        limit = engine.sphere_retention_days(key.sphere or Sphere.PERSONAL)
        if limit is not None and (value == 0 or value > limit):
            wanted = "forever" if value == 0 else f"{value} days"
            raise PolicyError(
                f"{key.name}: the organisation's policy keeps {key.sphere.value if key.sphere else ''} messages "
                f"at most {limit} days, so they cannot be kept {wanted}",
                rule="retention_days",
            )


def changed_raw(raw: Mapping[str, Any], key: Key, value: Any) -> dict[str, Any]:
    """``settings.json`` (as JSON) with ``key`` set to ``value``; the other keys are kept as they are."""
    data = dict(raw)
    if key.kind in (KeyKind.SECONDS, KeyKind.DATABASE):
        if value is None:
            data.pop(key.name, None)
        else:
            data[key.name] = value
    elif key.kind is KeyKind.LOGGING:
        logging_ = dict(data.get("logging") or {})
        if key.account is not None:
            accounts = dict(logging_.get("accounts") or {})
            accounts[key.account] = value
            logging_["accounts"] = accounts
        else:
            assert key.sphere is not None
            logging_[key.sphere.value] = value
        data["logging"] = logging_
    else:
        assert key.sphere is not None
        days = dict(data.get("retention_days") or {})
        days[key.sphere.value] = value
        data["retention_days"] = days
    return data


def views(
    settings: Settings,
    raw: Mapping[str, Any],
    engine: PolicyEngine,
    accounts: Mapping[str, Sphere],
    seeded: Mapping[str, float],
) -> list[SettingView]:
    """Every setting, in a stable order, with its value in force and where it comes from.

    ``settings``: the values in force (locks applied); ``raw``: the user's file as JSON; ``accounts``: each
    configured account's sphere; ``seeded``: the policy defaults written into the file (policy state)."""
    found: list[SettingView] = []
    for name in SECONDS_KEYS:
        value = float(getattr(settings, name))
        lock = engine.setting_lock(name)
        if lock is not None:
            found.append(SettingView(name, lock.value, Source.LOCKED, lock.reason))
        elif name in raw and name in seeded and raw[name] == seeded[name]:
            found.append(
                SettingView(name, value, Source.POLICY_DEFAULT, "the organisation's default; you may change it")
            )
        else:
            found.append(SettingView(name, value, Source.USER if name in raw else Source.DEFAULT))
    found.append(
        SettingView("database_url", settings.database_url, Source.USER if "database_url" in raw else Source.DEFAULT)
    )
    raw_logging = raw.get("logging") if isinstance(raw.get("logging"), dict) else {}
    assert isinstance(raw_logging, dict)
    for sphere in Sphere:
        name = f"logging.{sphere.value}"
        required = engine.sphere_logging_required(sphere)
        if required.verdict is Verdict.DENY:
            found.append(SettingView(name, True, Source.LOCKED, required.reason))
            continue
        source = Source.USER if sphere.value in raw_logging else Source.DEFAULT
        found.append(SettingView(name, settings.logging.spheres.get(sphere, True), source))
    raw_accounts = raw_logging.get("accounts") if isinstance(raw_logging.get("accounts"), dict) else {}
    assert isinstance(raw_accounts, dict)
    for account_id, sphere in sorted(accounts.items()):
        name = f"logging.account.{account_id}"
        required = engine.logging_required(account_id)
        if required.verdict is Verdict.DENY:
            found.append(SettingView(name, True, Source.LOCKED, required.reason))
            continue
        enabled = settings.logging.enabled(account_id, sphere)
        if account_id in raw_accounts:
            found.append(SettingView(name, enabled, Source.USER))
        else:
            found.append(SettingView(name, enabled, Source.DEFAULT, f"as {sphere.value} accounts"))
    raw_days = raw.get("retention_days") if isinstance(raw.get("retention_days"), dict) else {}
    assert isinstance(raw_days, dict)
    for sphere in Sphere:
        name = f"retention_days.{sphere.value}"
        limit = engine.sphere_retention_days(sphere)
        reason = f"the organisation's policy keeps at most {limit} days" if limit is not None else ""
        source = Source.USER if sphere.value in raw_days else Source.DEFAULT
        found.append(SettingView(name, settings.retention_days.get(sphere, 0), source, reason))
    return found
