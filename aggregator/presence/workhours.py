"""Work hours: a weekly schedule. During work hours the personal sphere is quiet (shows away, its
notifications are held); outside them the work sphere is. The user can override for the rest of the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

from aggregator.api import PresenceKind, Sphere


@dataclass(frozen=True, slots=True)
class WorkHours:
    #: weekday (Monday = 0) -> (start, end) in local time; a day without an entry is off.
    days: Mapping[int, tuple[time, time]] = field(default_factory=dict)
    #: What the quiet sphere's accounts show.
    quiet_kind: PresenceKind = PresenceKind.AWAY
    #: "I am working / off now" for the rest of ``override_day``.
    override_day: date | None = None
    override_working: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.days)

    def working(self, now: datetime) -> bool:
        """Whether ``now`` (aware; compared in its own zone) is work time."""
        if self.override_day == now.date():
            return self.override_working
        span = self.days.get(now.weekday())
        return span is not None and span[0] <= now.time().replace(tzinfo=None) < span[1]

    def quiet_sphere(self, now: datetime) -> Sphere | None:
        """The sphere that is off duty now (None when there is no schedule)."""
        if not self.enabled and self.override_day != now.date():
            return None
        return Sphere.PERSONAL if self.working(now) else Sphere.WORK

    def override_today(self, now: datetime, working: bool | None) -> WorkHours:
        """Work (or be off) for the rest of today; ``None`` drops the override."""
        if working is None:
            return replace(self, override_day=None, override_working=False)
        return replace(self, override_day=now.date(), override_working=working)

    def to_json(self) -> dict[str, Any]:
        return {
            "days": {
                str(d): [s.isoformat("minutes"), e.isoformat("minutes")] for d, (s, e) in sorted(self.days.items())
            },
            "quiet_kind": self.quiet_kind.value,
            "override_day": self.override_day.isoformat() if self.override_day else None,
            "override_working": self.override_working,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkHours:
        days = {
            int(d): (time.fromisoformat(s), time.fromisoformat(e)) for d, (s, e) in dict(data.get("days", {})).items()
        }
        day = data.get("override_day")
        return cls(
            days=days,
            quiet_kind=PresenceKind(data.get("quiet_kind", PresenceKind.AWAY.value)),
            override_day=date.fromisoformat(day) if day else None,
            override_working=bool(data.get("override_working", False)),
        )
