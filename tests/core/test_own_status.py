"""Your own status: precedence, work hours with a fake clock, auto-away, applying to accounts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from typing import cast

import pytest

from aggregator.accounts.config import AccountConfig
from aggregator.api import Adapter, ConfigurationError, NotConnectedError, Presence, PresenceKind, Sphere
from aggregator.app.status import changed_hours, hours_json
from aggregator.bus import EventBus
from aggregator.events import AccountStateChanged, ConnectionState
from aggregator.presence.idle import AppInputIdle
from aggregator.presence.rules import notifications_held, shown_presence
from aggregator.presence.service import OwnStatus
from aggregator.presence.status import StatusBook, StatusFile
from aggregator.presence.workhours import WorkHours

AV, AW, BUSY, OFF = PresenceKind.AVAILABLE, PresenceKind.AWAY, PresenceKind.BUSY, PresenceKind.OFFLINE
WORK, HOME = "xmpp:me@corp.example", "matrix:@me:home.example"
NINE_TO_FIVE = WorkHours(days={d: (time(9), time(17)) for d in range(5)})
MON_10 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # a Monday
MON_20 = datetime(2025, 3, 3, 20, 0, tzinfo=UTC)
SAT_10 = datetime(2025, 3, 8, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("book", "account", "sphere", "expected"),
    [
        (StatusBook(), WORK, Sphere.WORK, Presence(AV)),
        (StatusBook(global_status=Presence(AW, "brb")), WORK, Sphere.WORK, Presence(AW, "brb")),
        (StatusBook(spheres={Sphere.WORK: Presence(BUSY)}), WORK, Sphere.WORK, Presence(BUSY)),
        (StatusBook(spheres={Sphere.WORK: Presence(BUSY)}), HOME, Sphere.PERSONAL, Presence(AV)),
        (
            StatusBook(spheres={Sphere.WORK: Presence(BUSY)}, accounts={WORK: Presence(OFF)}),
            WORK,
            Sphere.WORK,
            Presence(OFF),
        ),
    ],
)
def test_precedence_account_then_sphere_then_global(
    book: StatusBook, account: str, sphere: Sphere, expected: Presence
) -> None:
    assert shown_presence(book, account, sphere, MON_10, None) == expected


@pytest.mark.parametrize(
    ("now", "chosen", "work_shows", "home_shows", "held"),
    [
        (MON_10, AV, AV, AW, Sphere.PERSONAL),
        (MON_20, AV, AW, AV, Sphere.WORK),
        (SAT_10, AV, AW, AV, Sphere.WORK),
        (MON_10, BUSY, BUSY, BUSY, Sphere.PERSONAL),  # never more reachable than chosen
        (MON_10, OFF, OFF, OFF, Sphere.PERSONAL),
    ],
)
def test_work_hours_switching(
    now: datetime, chosen: PresenceKind, work_shows: PresenceKind, home_shows: PresenceKind, held: Sphere
) -> None:
    book = StatusBook(global_status=Presence(chosen), work_hours=NINE_TO_FIVE)
    assert shown_presence(book, WORK, Sphere.WORK, now, None).kind is work_shows
    assert shown_presence(book, HOME, Sphere.PERSONAL, now, None).kind is home_shows
    assert notifications_held(book, held, now)
    assert not notifications_held(book, Sphere.WORK if held is Sphere.PERSONAL else Sphere.PERSONAL, now)


def test_override_for_the_rest_of_the_day() -> None:
    hours = NINE_TO_FIVE.override_today(MON_20, working=True)
    assert hours.working(MON_20) and hours.quiet_sphere(MON_20) is Sphere.PERSONAL
    tuesday_20 = MON_20.replace(day=4)
    assert not hours.working(tuesday_20)  # the override ended with the day
    assert WorkHours().quiet_sphere(MON_10) is None  # no schedule: nothing is quiet
    assert WorkHours.from_json(hours.to_json()) == hours


@pytest.mark.parametrize(
    ("idle", "chosen", "shown"),
    [(None, AV, AV), (599, AV, AV), (600, AV, AW), (3600, BUSY, BUSY), (3600, OFF, OFF)],
)
def test_auto_away(idle: float | None, chosen: PresenceKind, shown: PresenceKind) -> None:
    book = StatusBook(global_status=Presence(chosen, "hi"), auto_away_minutes=10)
    assert shown_presence(book, WORK, Sphere.WORK, MON_10, idle) == Presence(shown, "hi")


class RecordingAdapter:
    def __init__(self) -> None:
        self.sent: list[Presence] = []

    async def set_presence(self, presence: Presence) -> None:
        self.sent.append(presence)


async def test_the_service_applies_persists_and_follows_idleness(tmp_path: Path) -> None:
    accounts = [
        AccountConfig(id=WORK, protocol="xmpp", address="me@corp.example", sphere=Sphere.WORK),
        AccountConfig(id=HOME, protocol="matrix", address="@me:home.example", sphere=Sphere.PERSONAL),
    ]
    adapters = {WORK: RecordingAdapter()}
    clock = [1000.0]

    def adapter_of(account_id: str) -> RecordingAdapter:
        if account_id not in adapters:
            raise NotConnectedError(account_id)
        return adapters[account_id]

    idle = AppInputIdle(clock=lambda: clock[0])
    file = StatusFile(tmp_path / "status.json")
    status = OwnStatus(
        file,
        accounts=lambda: accounts,
        adapter_of=cast(Callable[[str], Adapter], adapter_of),
        idle=idle,
        app_input=idle,
        clock=lambda: MON_20,
    )
    bus = EventBus()
    status.attach(bus)
    await status.tick()
    assert adapters[WORK].sent == [Presence(AV)]
    await status.set_status(Presence(BUSY, "meeting"), sphere=Sphere.WORK)
    await status.set_status(Presence(AW, "out"))
    assert adapters[WORK].sent == [Presence(AV), Presence(BUSY, "meeting")]  # the sphere beats the global
    # The home account connects: it gets its presence at once.
    adapters[HOME] = RecordingAdapter()
    bus.publish(AccountStateChanged(account_id=HOME, state=ConnectionState.CONNECTED))
    await status.apply(HOME)
    assert adapters[HOME].sent == [Presence(AW, "out")]
    await status.set_status(Presence(AV), account=HOME)
    clock[0] += 11 * 60
    await status.tick()
    assert adapters[HOME].sent[-1] == Presence(AW)  # auto-away
    await status.activity()
    assert adapters[HOME].sent[-1] == Presence(AV)  # back on activity
    # Persisted: a new service starts from the same choices.
    again = StatusFile(tmp_path / "status.json").load()
    assert again == status.book
    assert (tmp_path / "status.json").stat().st_mode & 0o777 == 0o600


async def test_a_session_bus_without_an_idle_monitor_answers_quickly_with_none() -> None:
    """The test session bus has no Mutter / ScreenSaver: the probe must neither hang nor raise
    (calling an absent service directly makes the bus try to start it)."""
    import asyncio

    from aggregator.presence.idle import DBusIdle

    idle = DBusIdle()
    assert await asyncio.wait_for(idle.idle_seconds(), 1.5) is None
    assert await asyncio.wait_for(idle.idle_seconds(), 0.1) is None  # not asked again


# (time, override?) -> is a WORK / HOME notification held? Schedule: Mon-Fri 09:00-17:30 (Europe-ish, +01:00).
CET = timezone(timedelta(hours=1))
MON_0900 = datetime(2025, 3, 3, 9, 0, tzinfo=CET)


@pytest.mark.parametrize(
    ("now", "override", "work_held", "home_held"),
    [
        (MON_0900 - timedelta(minutes=1), None, True, False),  # 08:59: off work
        (MON_0900, None, False, True),  # 09:00: work time, personal waits
        (MON_0900.replace(hour=17, minute=29), None, False, True),
        (MON_0900.replace(hour=17, minute=30), None, True, False),  # the end is exclusive
        (MON_0900 + timedelta(days=5), None, True, False),  # Saturday
        (MON_0900.replace(hour=20), "working", False, True),  # overridden for the evening
        (MON_0900.replace(hour=20) + timedelta(days=1), "working", True, False),  # ...only that day
        (MON_0900.replace(hour=10), "off", True, False),  # a day off
    ],
)
def test_notifications_held_is_one_call_with_a_fake_clock(
    tmp_path: Path, now: datetime, override: str | None, work_held: bool, home_held: bool
) -> None:
    accounts = [
        AccountConfig(id=WORK, protocol="xmpp", address="me@corp.example", sphere=Sphere.WORK),
        AccountConfig(id=HOME, protocol="matrix", address="@me:home.example", sphere=Sphere.PERSONAL),
    ]
    clock = [now]
    status = OwnStatus(
        StatusFile(tmp_path / "status.json"),
        accounts=lambda: accounts,
        adapter_of=cast(Callable[[str], Adapter], lambda _a: RecordingAdapter()),
        clock=lambda: clock[0],
    )
    assert not status.notifications_held(WORK) and not status.notifications_held(HOME)  # no schedule
    book = changed_hours(status.book, {"action": "set", "schedule": [["mon-fri", "09:00-17:30"]]}, now)
    if override is not None:  # made on Monday
        hours = book.work_hours.override_today(MON_0900, working=override == "working")
        book = replace(book, work_hours=hours)
    status.book = book
    assert status.notifications_held(WORK) is work_held
    assert status.notifications_held(HOME) is home_held
    # An explicit ``now`` wins over the clock.
    clock[0] = MON_0900.replace(hour=3) + timedelta(days=14)
    assert status.notifications_held(WORK, now) is work_held


def test_work_hours_requests() -> None:
    book = changed_hours(
        StatusBook(),
        {"action": "set", "schedule": [["mon-thu", "09:00-17:30"], ["fri", "09:00-13:00"]], "away_status": "busy"},
        MON_0900,
    )
    hours = book.work_hours
    assert hours.days[0] == (time(9), time(17, 30)) and hours.days[4] == (time(9), time(13)) and 5 not in hours.days
    assert hours.quiet_kind is BUSY
    data = hours_json(book, MON_0900)
    assert data["working_now"] is True and data["quiet_sphere"] == "personal"
    toggled = changed_hours(book, {"action": "override"}, MON_0900)
    assert not toggled.work_hours.working(MON_0900)
    assert changed_hours(toggled, {"action": "override", "clear": True}, MON_0900).work_hours == hours
    assert not changed_hours(book, {"action": "off"}, MON_0900).work_hours.enabled
    for bad in (
        {"action": "set", "schedule": [["mon-fry", "09:00-17:00"]]},
        {"action": "set", "schedule": [["fri-mon", "09:00-17:00"]]},
        {"action": "set", "schedule": [["mon", "17:00-09:00"]]},
        {"action": "set", "schedule": [["mon", "9-5"]]},
        {"action": "set", "schedule": [["mon", "09:00-17:00"]], "away_status": "available"},
        {"action": "set", "schedule": []},
    ):
        with pytest.raises(ConfigurationError):
            changed_hours(StatusBook(), bad, MON_0900)
    with pytest.raises(ConfigurationError):
        changed_hours(StatusBook(), {"action": "override"}, MON_0900)  # nothing to override


async def test_input_seen_ends_auto_away_at_once_and_otherwise_waits_for_the_tick(tmp_path: Path) -> None:
    accounts = [AccountConfig(id=WORK, protocol="xmpp", address="me@corp.example", sphere=Sphere.WORK)]
    adapter = RecordingAdapter()
    clock = [1000.0]
    idle = AppInputIdle(clock=lambda: clock[0])
    status = OwnStatus(
        StatusFile(tmp_path / "status.json"),
        accounts=lambda: accounts,
        adapter_of=cast(Callable[[str], Adapter], lambda _a: adapter),
        idle=idle,
        app_input=idle,
        clock=lambda: MON_20,
    )
    await status.tick()
    # Typing while available: the idle clock restarts, nothing is sent until the next tick.
    clock[0] += 9 * 60
    status.input_seen()
    clock[0] += 9 * 60
    await status.tick()
    assert adapter.sent == [Presence(AV)]  # 9 minutes since the last key press: not away
    clock[0] += 2 * 60
    await status.tick()
    assert adapter.sent[-1] == Presence(AW)  # auto-away
    status.input_seen()  # a key press: back at once, without waiting for the tick
    for _ in range(50):
        if adapter.sent[-1] == Presence(AV):
            break
        await asyncio.sleep(0.01)
    assert adapter.sent == [Presence(AV), Presence(AW), Presence(AV)]
