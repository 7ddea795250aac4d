"""The own-status commands as JSON requests (control socket and CLI): ``status.show``, ``status.set``
(``kind``, ``message``, ``sphere``, ``account``; kind ``clear`` drops a sphere or account status),
``status.workhours`` (see ``changed_hours``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import Any

from aggregator.api import ConfigurationError, Presence, PresenceKind, Sphere
from aggregator.presence.status import StatusBook, parse_kind
from aggregator.presence.workhours import WorkHours

OPS = frozenset({"status.show", "status.set", "status.workhours"})


def book_json(book: StatusBook, shown: dict[str, Presence] | None = None) -> dict[str, Any]:
    data = book.to_json()
    if shown is not None:
        data["shown"] = {a: {"kind": p.kind.value, "message": p.status} for a, p in shown.items()}
    return data


def changed_book(book: StatusBook, request: dict[str, Any]) -> StatusBook:
    sphere_text, account = request.get("sphere"), request.get("account")
    try:
        sphere = Sphere(sphere_text) if sphere_text else None
    except ValueError:
        raise ConfigurationError(f"a sphere is 'work' or 'personal', not {sphere_text!r}") from None
    kind_text = str(request["kind"])
    if kind_text == "clear":
        if sphere is None and not account:
            raise ConfigurationError("'clear' needs --sphere or --account")
        presence = None
    else:
        presence = Presence(parse_kind(kind_text), str(request.get("message") or ""))
    return book.with_status(presence, sphere=sphere, account=account or None)


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_days(text: str) -> list[int]:
    """``mon-fri``, ``sat,sun``, ``mon,wed-fri``: weekdays, Monday = 0."""
    found: list[int] = []
    for part in text.lower().split(","):
        first, _, last = part.strip().partition("-")
        try:
            start = _DAYS.index(first[:3])
            end = _DAYS.index(last[:3]) if last else start
        except ValueError:
            raise ConfigurationError(f"days are like mon-fri or sat,sun, not {text!r}") from None
        if end < start:
            raise ConfigurationError(f"{part.strip()!r}: the first day comes before the last")
        found.extend(d for d in range(start, end + 1) if d not in found)
    return found


def parse_span(text: str) -> tuple[time, time]:
    """``09:00-17:30``: the start and end of the working day (the end after the start)."""
    first, _, last = text.partition("-")
    try:
        start, end = time.fromisoformat(first.strip()), time.fromisoformat(last.strip())
    except ValueError:
        raise ConfigurationError(f"hours are like 09:00-17:30, not {text!r}") from None
    if end <= start:
        raise ConfigurationError(f"{text!r}: the work day ends after it starts")
    return start, end


def changed_hours(book: StatusBook, request: dict[str, Any], now: datetime) -> StatusBook:
    """``status.workhours``: ``action`` is ``set`` (``schedule``: [[days, span], ...], ``away_status``),
    ``off`` (no schedule), ``override`` (the other state for the rest of today; ``clear``: drop it)
    or ``show``."""
    hours = book.work_hours
    action = str(request.get("action", "show"))
    if action == "set":
        schedule = list(request.get("schedule") or [])
        if not schedule:
            raise ConfigurationError("name the days and hours, e.g. mon-fri 09:00-17:30")
        days: dict[int, tuple[time, time]] = {}
        for day_text, span_text in schedule:
            span = parse_span(str(span_text))
            for day in parse_days(str(day_text)):
                days[day] = span
        kind = hours.quiet_kind
        if request.get("away_status"):
            kind = parse_kind(str(request["away_status"]))
            if kind is PresenceKind.AVAILABLE:
                raise ConfigurationError("the off-duty status must be less than available (away, busy, ...)")
        hours = replace(hours, days=days, quiet_kind=kind)
    elif action == "off":
        hours = WorkHours(quiet_kind=hours.quiet_kind)
    elif action == "override":
        if request.get("clear"):
            hours = hours.override_today(now, None)
        else:
            if not hours.enabled:
                raise ConfigurationError("there are no work hours to override: status workhours set ...")
            hours = hours.override_today(now, not hours.working(now))
    elif action != "show":
        raise ConfigurationError(f"unknown work-hours action {action!r}")
    return replace(book, work_hours=hours)


def hours_json(book: StatusBook, now: datetime) -> dict[str, Any]:
    """The schedule, and what it means now."""
    data = book.work_hours.to_json()
    quiet = book.work_hours.quiet_sphere(now)
    data["enabled"] = book.work_hours.enabled
    data["working_now"] = book.work_hours.working(now) if quiet is not None else None
    data["quiet_sphere"] = quiet.value if quiet is not None else None
    return data
