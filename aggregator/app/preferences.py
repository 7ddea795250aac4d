"""The preferences dialog's read model (one snapshot) and its command (apply the changed settings)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aggregator.api import AggregatorError, Sphere
from aggregator.core import Core
from aggregator.prefs.keys import SettingView
from aggregator.presence.status import StatusBook


@dataclass(frozen=True, slots=True)
class AccountEntry:
    id: str
    label: str
    sphere: Sphere


@dataclass(frozen=True, slots=True)
class PrefsSnapshot:
    views: dict[str, SettingView]
    accounts: tuple[AccountEntry, ...]
    book: StatusBook
    #: The most days the policy lets each sphere's messages be kept ("retention_days.work" -> days).
    retention_limits: dict[str, int]


def load_snapshot(core: Core) -> PrefsSnapshot:
    """Engine thread: everything the dialog shows."""
    if core.prefs is None:
        raise AggregatorError("the preferences are not available in this instance")
    accounts = tuple(
        AccountEntry(a.id, a.label or a.address, a.sphere) for a in sorted(core.accounts.configs(), key=lambda a: a.id)
    )
    limits = {f"retention_days.{s.value}": core.policy.sphere_retention_days(s) for s in Sphere}
    return PrefsSnapshot(
        {v.key: v for v in core.prefs.views()},
        accounts,
        core.status.book,
        {k: v for k, v in limits.items() if v is not None},
    )


BookChange = Callable[[StatusBook], StatusBook]


async def apply_changes(core: Core, settings: list[tuple[str, str]], book: BookChange | None) -> list[str]:
    """Engine thread: apply each setting (each refusal becomes one line) and the status book change."""
    errors: list[str] = []
    assert core.prefs is not None
    for key, text in settings:
        try:
            core.prefs.set(key, text)
        except AggregatorError as exc:
            errors.append(str(exc))
    if book is not None:
        changed = book(core.status.book)
        if changed != core.status.book:
            await core.status.replace_book(changed)
    return errors
