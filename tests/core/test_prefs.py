"""The user's preferences in the core: logging on/off (and the policy that requires it), and the
scheduled retention job."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.api import ConfigurationError, ConversationKey, MessageState, PolicyError, Sphere
from aggregator.archive import Archive, Direction, NewMessage
from aggregator.cli.database import open_archive
from aggregator.core import Core
from aggregator.events import ConnectionState
from aggregator.prefs.retention_job import RetentionJob, effective_days, plan
from aggregator.search import SearchService
from protocols.fake.adapter import FakeAdapter  # noqa: F401  (the protocol under test)
from tests.core.conftest import CoreWorld, eventually

WORK_LOGGED = '[rules.work]\nlogging = "required"\n'


def write_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("AGGREGATOR_POLICY", str(path))
    return path


def bodies(archive: Archive) -> list[str]:
    return [str(r[0]) for r in archive.read_rows("SELECT body FROM messages ORDER BY id")]


def found(archive: Archive, word: str) -> list[str]:
    return [h.message.body for h in SearchService(archive).search(word, limit=50)]


async def receive(world: CoreWorld, core: Core, body: str) -> None:
    await world.server.deliver(world.bob, world.alice, body)
    await eventually(lambda: body in bodies(core.archive))


# -- logging on/off -----------------------------------------------------------------------------------


async def test_an_unlogged_account_shows_its_messages_but_they_are_gone_after_the_app_stops(
    world: CoreWorld,
) -> None:
    core = await world.start()
    assert core.prefs is not None
    await world.wait_state(ConnectionState.CONNECTED)
    await receive(world, core, "kept zebra")
    core.prefs.set(f"logging.account.{world.account_id}", "off")
    assert not core.prefs.logging_enabled(world.account_id)
    await receive(world, core, "secret zebra")
    # While the app runs, the conversation shows it (and finds it).
    assert sorted(found(core.archive, "zebra")) == ["kept zebra", "secret zebra"]
    await world.stop()

    archive = Archive.open(path=world.paths.archive_file)
    try:
        assert bodies(archive) == ["kept zebra"]  # what was logged before stays
        assert found(archive, "secret") == []
    finally:
        archive.close()
    saved = json.loads(world.paths.settings_file.read_text())
    assert saved["logging"]["accounts"] == {world.account_id: False}


async def crash(world: CoreWorld, core: Core) -> None:
    """The app dies: the accounts and the archive go away, the preferences never stop."""
    await core.status.stop()
    await core.accounts.stop()
    core.close()
    world.core = None


async def test_after_a_crash_the_unlogged_messages_go_at_the_next_start(world: CoreWorld) -> None:
    world.paths.settings_file.write_text(json.dumps({"logging": {"work": False}}))
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await receive(world, core, "secret after crash")
    await crash(world, core)
    archive = Archive.open(path=world.paths.archive_file)
    assert bodies(archive) == ["secret after crash"]
    archive.close()

    core = await world.start()
    assert bodies(core.archive) == []
    # Logging is still off: the next message shows; after another crash, a command that reads the
    # archive (search, export, history) before the next start removes it first.
    await world.wait_state(ConnectionState.CONNECTED)
    await receive(world, core, "another secret")
    await crash(world, core)
    archive = open_archive(argparse.Namespace(database=None), world.paths)
    try:
        assert bodies(archive) == []
    finally:
        archive.close()


async def test_logging_the_policy_requires_cannot_be_turned_off(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_policy(tmp_path, monkeypatch, WORK_LOGGED)
    # The user turned it off by editing the file: overridden at start, and said so.
    world.paths.settings_file.write_text(json.dumps({"logging": {"work": False, "personal": False}}))
    core = await world.start()
    assert core.prefs is not None and core.policy_report is not None
    assert core.prefs.logging_enabled(world.account_id)
    assert any("logging of work accounts turned back on" in n for n in core.policy_report.notes)
    saved = json.loads(world.paths.settings_file.read_text())
    assert saved["logging"] == {"work": True, "personal": False}
    view = core.prefs.view("logging.work")
    assert view is not None and view.value is True and view.source == "locked" and "requires" in view.reason

    # From the UI or the CLI: refused with the reason, recorded.
    with pytest.raises(PolicyError, match="cannot be turned off") as refused:
        core.prefs.set("logging.work", "off")
    assert refused.value.rule == "logging"
    with pytest.raises(PolicyError):
        core.prefs.set(f"logging.account.{world.account_id}", "off")
    assert core.policy_log is not None
    records = [r for r in core.policy_log.records() if r.action == "settings"]
    assert len(records) == 2 and all(r.verdict == "deny" for r in records)
    assert json.loads(world.paths.settings_file.read_text())["logging"] == {"work": True, "personal": False}

    await world.wait_state(ConnectionState.CONNECTED)
    await receive(world, core, "logged for compliance")
    await world.stop()
    archive = Archive.open(path=world.paths.archive_file)
    try:
        assert bodies(archive) == ["logged for compliance"]
    finally:
        archive.close()


async def test_bad_keys_and_values_are_refused_with_a_clear_error(world: CoreWorld) -> None:
    core = await world.start()
    assert core.prefs is not None
    with pytest.raises(ConfigurationError, match=r"unknown setting 'logging\.moon'.*known:"):
        core.prefs.set("logging.moon", "on")
    with pytest.raises(ConfigurationError, match="must be on or off"):
        core.prefs.set("logging.work", "maybe")
    with pytest.raises(ConfigurationError, match="whole number of days"):
        core.prefs.set("retention_days.personal", "-3")
    with pytest.raises(ConfigurationError, match="no account"):
        core.prefs.set("logging.account.fake:nobody@x", "off")
    assert core.prefs.set("retention_days.personal", "30").value == 30
    assert core.prefs.set("connect_timeout", "12.5").value == 12.5
    assert json.loads(world.paths.settings_file.read_text()) == {
        "connect_timeout": 12.5,
        "retention_days": {"personal": 30},
    }


# -- the scheduled retention --------------------------------------------------------------------------

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def test_the_user_and_the_policy_days_combine_to_the_smaller() -> None:
    assert effective_days(None, 0) is None
    assert effective_days(30, 0) == 30  # the user keeps forever, the policy says 30: 30
    assert effective_days(30, 10) == 10 and effective_days(30, 90) == 30 and effective_days(None, 7) == 7
    accounts = {"x:work": Sphere.WORK, "x:home": Sphere.PERSONAL, "x:trader": Sphere.WORK}
    assert plan({"x:work": 30, "x:trader": 2555}, {Sphere.PERSONAL: 10}, accounts) == {
        10: ("x:home",),
        30: ("x:work",),
        2555: ("x:trader",),
    }


@pytest.fixture
def aged(tmp_path: Path) -> Archive:
    archive = Archive.open(path=tmp_path / "aged.sqlite3")
    archive.upsert_account("x:work", "x", "w@x", "Work", Sphere.WORK)
    archive.upsert_account("x:home", "x", "h@x", "Home", Sphere.PERSONAL)
    rows = []
    for account in ("x:work", "x:home"):
        conv = archive.conversation_id(ConversationKey.direct(account, "bob"))
        assert conv is not None
        for day in range(0, 60):
            rows.append(
                NewMessage(
                    conversation_id=conv,
                    account_id=account,
                    direction=Direction.IN,
                    sender="bob",
                    body=f"day {day}",
                    sent_at=NOW - timedelta(days=day, hours=1),
                    state=MessageState.RECEIVED,
                    server_id=f"{account}-{day}",
                )
            )
    archive.import_messages(rows)
    return archive


def counts(archive: Archive) -> dict[str, int]:
    return {str(a): int(n) for a, n in archive.read_rows("SELECT account_id, count(*) FROM messages GROUP BY 1")}


async def test_the_job_runs_at_start_then_daily_and_on_a_new_day_in_batches(
    aged: Archive, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from aggregator.archive import retention

    monkeypatch.setattr(retention, "BATCH", 7)
    clock = [NOW]
    days = {"x:work": 30, "x:home": 10}
    ticks: list[asyncio.Future[None]] = []

    async def sleep(_seconds: float) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ticks.append(done)
        await done

    async def tick(to: datetime) -> None:
        """Move the clock and let the job's sleep end; returns once it sleeps again."""
        clock[0] = to
        before = len(ticks)
        ticks[-1].set_result(None)
        await eventually(lambda: len(ticks) > before)

    job = RetentionJob(
        aged,
        lambda: {d: (a,) for a, d in days.items()},
        clock=lambda: clock[0],
        local=lambda t: t,  # judge the day in UTC
        sleep=sleep,
    )
    caplog.set_level(logging.INFO, logger="aggregator.prefs.retention_job")
    job.start()
    try:
        await eventually(lambda: len(job.runs) == 1 and bool(ticks))
        # Messages older than the cutoff: days 30..59 of work, 10..59 of home.
        assert counts(aged) == {"x:work": 30, "x:home": 10}
        assert job.runs[0].deleted == 80
        assert any("deleted 30 messages older than 30 days" in r.getMessage() for r in caplog.records)

        runs = len(job.runs)
        await tick(NOW + timedelta(hours=6))  # the same day, less than 24 h later: nothing runs
        assert len(job.runs) == runs
        await tick(NOW + timedelta(hours=12, minutes=1))  # past midnight (UTC here): a new day
        assert len(job.runs) == runs + 1 and job.runs[-1].deleted == 0
        assert counts(aged) == {"x:work": 30, "x:home": 10}
        await tick(NOW + timedelta(days=1, hours=2))  # the same day as that run, under 24 h: nothing
        assert len(job.runs) == runs + 1
        await tick(NOW - timedelta(days=3))  # the clock went back: run again
        assert len(job.runs) == runs + 2

        days["x:home"] = 5  # the user changed the setting: the job runs soon
        job.poke()
        await eventually(lambda: counts(aged)["x:home"] == 5 + 3)
    finally:
        await job.stop()
        aged.close()


async def test_the_core_runs_the_policy_retention_at_start(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_policy(tmp_path, monkeypatch, "[rules.work]\nretention_days = 3\n")
    world.paths.settings_file.write_text(json.dumps({"retention_days": {"work": 0}}))
    core = await world.start()
    assert core.prefs is not None
    conv = core.archive.conversation_id(ConversationKey.direct(world.account_id, world.bob))
    assert conv is not None
    await core.prefs.retention.stop()
    now = datetime.now(UTC)
    core.archive.import_messages(
        NewMessage(
            conversation_id=conv,
            account_id=world.account_id,
            direction=Direction.IN,
            sender=world.bob,
            body=f"{age} days old",
            sent_at=now - timedelta(days=age),
            state=MessageState.RECEIVED,
            server_id=f"old-{age}",
        )
        for age in (1, 2, 5, 9)
    )
    assert await core.prefs.retention.run_once() == 2
    assert sorted(bodies(core.archive)) == ["1 days old", "2 days old"]
    # The policy's 3 days is a maximum: keeping work messages longer is refused.
    with pytest.raises(PolicyError, match="at most 3 days"):
        core.prefs.set("retention_days.work", "30")
    assert core.prefs.set("retention_days.work", "2").value == 2
