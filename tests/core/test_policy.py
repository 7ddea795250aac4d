"""The organisation's policy in the core: rules at the engine's fixed points, over the fake protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.accounts.config import AccountStore
from aggregator.api import ConversationKey, MessageReceived, PolicyError, Sphere
from aggregator.events import ConnectionState
from aggregator.policy.engine import ConfirmationRequiredError, PolicyEngine, Verdict
from aggregator.policy.events import PolicyDenied
from aggregator.policy.file import load_policy, parse_policy, policy_path, system_policy_path
from aggregator.settings import Settings
from protocols.fake.adapter import FakeAdapter  # noqa: F401  (the protocol under test)
from tests.core.conftest import CoreWorld, eventually

NAMES = Settings.names()


def write_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("AGGREGATOR_POLICY", str(path))
    return path


# -- the file ---------------------------------------------------------------------------------------


def test_the_file_is_found_by_environment_then_system_location(monkeypatch: pytest.MonkeyPatch) -> None:
    assert system_policy_path("linux") == Path("/etc/xdg/aggregator/policy.toml")
    assert system_policy_path("darwin") == Path("/Library/Application Support/aggregator/policy.toml")
    win = system_policy_path("win32", {"ProgramData": "C:\\ProgramData"})
    assert win.parts[-2:] == ("aggregator", "policy.toml")
    monkeypatch.setenv("AGGREGATOR_POLICY", "/somewhere/p.toml")
    assert policy_path() == Path("/somewhere/p.toml")


def test_each_bad_key_is_reported_with_its_path_and_the_rest_applies() -> None:
    policy, problems = parse_policy(
        """
        [locked]
        connect_timeout = 20
        reconnect_max_delay = "soon"
        colour = 3
        [rules.work]
        logging = "required"
        retention_days = -4
        allowed_domains = ["corp.example"]
        [[rules.blocked_words]]
        name = "promises"
        words = ["guarantee"]
        regexes = ["(unclosed"]
        action = "block"
        [[profiles]]
        name = "chat"
        protocol = "xmpp"
        username = "${NOPE}@corp.example"
        """,
        source=None,
        setting_names=NAMES,
    )
    where = {p.key for p in problems}
    assert where == {
        "locked.reconnect_max_delay",
        "locked.colour",
        "rules.work.retention_days",
        "rules.blocked_words[0].regexes",
        "profiles[0].username",
    }
    assert all(p.reason for p in problems)
    assert policy.locked == {"connect_timeout": 20.0}
    work = policy.spheres[Sphere.WORK]
    assert work.logging_required and work.allowed_domains == ("corp.example",) and work.retention_days is None
    (rule,) = policy.blocked_words
    assert rule.first_match("We GUARANTEE it") == "GUARANTEE" and rule.first_match("guaranteed") is None
    assert policy.profiles[0].name == "chat"


def test_an_unparsable_file_gives_an_error_and_no_policy(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[locked\nconnect_timeout = ", encoding="utf-8")
    load = load_policy(path, setting_names=NAMES)
    assert load.policy is None and "not valid TOML" in load.error
    assert load_policy(tmp_path / "absent.toml", setting_names=NAMES).error == ""


# -- through a running core --------------------------------------------------------------------------

WORK_RULES = """
[rules.work]
logging = "required"
allowed_domains = ["fake.test"]
banner = "This conversation is archived"
file_transfer = "deny"

[[rules.blocked_words]]
name = "no-promises"
words = ["guarantee"]
action = "block"

[[rules.blocked_words]]
name = "careful"
regexes = ["\\\\bconfidential\\\\b"]
action = "warn"

[rules]
merge_across_spheres = false
templates = { thanks = "Thank you, we will get back to you." }
"""


async def test_a_blocked_word_is_not_sent_and_the_denial_is_recorded(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_policy(tmp_path, monkeypatch, WORK_RULES)
    core = await world.start()
    denied: list[PolicyDenied] = []
    core.bus.subscribe(PolicyDenied, denied.append)
    await world.wait_state(ConnectionState.CONNECTED)
    with pytest.raises(PolicyError) as refused:
        await core.outbound.send(world.account_id, world.bob, "I guarantee a 20% return")
    assert refused.value.rule == "blocked_words:no-promises" and "guarantee" in str(refused.value)
    # An allowed message sent afterwards is the first (and only) one the server receives.
    await core.outbound.send(world.account_id, world.bob, "allowed marker")
    await eventually(lambda: bool(world.server.received(world.alice)))
    assert [m.body for m in world.server.received(world.alice)] == ["allowed marker"]
    assert [m.body for m in core.archive.history(core.archive.conversations_with(world.bob))] == ["allowed marker"]
    assert core.policy_log is not None
    (record,) = core.policy_log.records()
    assert record.rule == "blocked_words:no-promises" and record.verdict == "deny" and record.action == "send"
    assert denied and denied[0].event.decision.rule == "blocked_words:no-promises"
    # A warning: refused until the user confirms.
    with pytest.raises(ConfirmationRequiredError):
        await core.outbound.send(world.account_id, world.bob, "this is confidential")
    assert [m.body for m in world.server.received(world.alice)] == ["allowed marker"]
    await core.outbound.send(world.account_id, world.bob, "this is confidential", confirmed=True)
    assert [m.body for m in world.server.received(world.alice)] == ["allowed marker", "this is confidential"]
    # What the UI shows.
    assert core.policy.banner(world.account_id) == "This conversation is archived"
    assert core.policy.file_transfer(world.account_id).verdict is Verdict.DENY
    assert core.policy.templates == {"thanks": "Thank you, we will get back to you."}
    assert not core.policy.logging_required(world.account_id).allowed


async def test_a_message_from_outside_the_allowed_domains_is_held_and_recorded(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_policy(tmp_path, monkeypatch, WORK_RULES.replace('["fake.test"]', '["corp.example"]'))
    eve = world.server.add_user("eve@fake.test", "eve-pw")
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await world.server.deliver(eve, world.alice, "psst, the numbers?")
    assert core.policy_log is not None
    log = core.policy_log
    await eventually(lambda: len(log.records()) == 1)
    await world.drain()
    assert not core.archive.history(core.archive.conversations_with(eve))
    (record,) = log.records()
    assert record.rule == "allowed_domains" and record.action == "receive" and record.verdict == "deny"
    assert record.content == "psst, the numbers?" and "fake.test" in record.reason
    # Outgoing to the outside is refused too, and nothing reaches the server.
    with pytest.raises(PolicyError) as refused:
        await core.outbound.send(world.account_id, eve, "hello")
    assert refused.value.rule == "allowed_domains"
    assert world.server.received(world.alice) == []


async def test_a_disclaimer_goes_out_once_per_conversation_per_day(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_policy(tmp_path, monkeypatch, '[rules.work]\ndisclaimer = "Messages are archived."\n')
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await core.outbound.send(world.account_id, world.bob, "one")
    await core.outbound.send(world.account_id, world.bob, "two")
    bodies = [m.body for m in world.server.received(world.alice)]
    assert bodies == ["Messages are archived.", "one", "two"]


async def test_merging_work_into_personal_is_refused(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_policy(tmp_path, monkeypatch, "[rules]\nmerge_across_spheres = false\n")
    core = await world.start()
    decision = core.policy.check_merge(
        target_sphere=Sphere.WORK, source_sphere=Sphere.PERSONAL, contact_spheres=frozenset({Sphere.WORK})
    )
    assert decision.verdict is Verdict.DENY and decision.rule == "merge_across_spheres"
    same = core.policy.check_merge(
        target_sphere=Sphere.WORK, source_sphere=Sphere.WORK, contact_spheres=frozenset({Sphere.WORK})
    )
    assert same.allowed


async def test_a_locked_setting_edited_by_the_user_is_reverted_at_the_next_start(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write_policy(tmp_path, monkeypatch, "[defaults]\nreconnect_max_delay = 30\n[locked]\nconnect_timeout = 12\n")
    core = await world.start()
    assert core.settings.connect_timeout == 12.0 and core.settings.reconnect_max_delay == 30.0
    lock = core.policy.setting_lock("connect_timeout")
    assert lock is not None and "policy" in lock.reason
    assert core.policy.setting_lock("reconnect_max_delay") is None
    await world.stop()
    settings_file = world.paths.settings_file
    data = json.loads(settings_file.read_text())
    data["connect_timeout"] = 99
    data["reconnect_max_delay"] = 5  # a default: the user's choice from now on
    settings_file.write_text(json.dumps(data))
    core = await world.start()
    assert core.settings.connect_timeout == 12.0 and core.settings.reconnect_max_delay == 5.0
    assert json.loads(settings_file.read_text())["connect_timeout"] == 12
    assert any("connect_timeout" in r.getMessage() and "reverted" in r.getMessage() for r in caplog.records)


async def test_a_malformed_file_applies_nothing_but_required_logging_stays(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_policy(tmp_path, monkeypatch, WORK_RULES)
    core = await world.start()
    assert not core.policy.logging_required(world.account_id).allowed
    await world.stop()
    path.write_text("[rules.work\nlogging = ", encoding="utf-8")
    core = await world.start()
    assert core.policy_report is not None
    (warning,) = core.policy_report.warnings
    assert "unusable" in warning and "nothing from it applies" in warning and "work accounts" in warning
    assert core.policy.policy is None
    await world.wait_state(ConnectionState.CONNECTED)
    await core.outbound.send(world.account_id, world.bob, "I guarantee it")  # no rule applies now
    assert [m.body for m in world.server.received(world.alice)] == ["I guarantee it"]
    required = core.policy.logging_required(world.account_id)
    assert not required.allowed and "last valid policy" in required.reason


async def test_a_preseeded_profile_appears_on_first_start_and_offboarding_removes_it(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carol = world.server.add_user("carol@fake.test", "carol-pw")
    monkeypatch.setenv("USER", "carol")
    profile = f"""
[[profiles]]
name = "work-chat"
protocol = "fake"
username = "${{USER}}@fake.test"
server = "{world.server.address}"
allow_plaintext = true
sphere = "work"
autojoin = ["#general"]
locked = ["server", "sphere"]
"""
    path = write_policy(tmp_path, monkeypatch, profile)
    core = await world.start()
    assert core.policy_report is not None
    assert core.policy_report.created == [f"fake:{carol}"]
    (missing,) = core.policy_report.missing
    assert missing.what == "password" and missing.account_id == f"fake:{carol}"
    made = {a.id: a for a in AccountStore(world.paths.accounts_file).load()}[f"fake:{carol}"]
    assert made.sphere is Sphere.WORK and made.server == world.server.address
    assert made.options["autojoin"] == "#general"
    await world.stop()
    # The user edits a locked field: it is put back at the next start.
    store = AccountStore(world.paths.accounts_file)
    accounts = [a if a.id != made.id else type(a)(**{**a.to_json(), "sphere": Sphere.PERSONAL}) for a in store.load()]
    store.save(accounts)
    await world.start()
    again = {a.id: a for a in AccountStore(world.paths.accounts_file).load()}[made.id]
    assert again.sphere is Sphere.WORK
    await world.stop()
    path.write_text(profile + "offboard = true\n", encoding="utf-8")
    await world.start()
    assert made.id not in {a.id for a in AccountStore(world.paths.accounts_file).load()}


def test_no_policy_allows_everything() -> None:
    engine = PolicyEngine()
    key = ConversationKey.direct("x:me", "anyone@anywhere.example")
    assert engine.check_outbound("x:me", key, "I guarantee it").allowed
    event = MessageReceived(account_id="x:me", conversation=key, sender="anyone@anywhere.example", body="hi")
    assert engine.check_inbound(event).allowed


def test_policy_events_are_recorded_once_per_held_message(tmp_path: Path) -> None:
    from aggregator.archive import Archive
    from aggregator.archive.migrations import v005_policy_events
    from aggregator.policy.engine import Decision, PolicyEvent
    from aggregator.policy.log import PolicyLog

    archive = Archive.open(path=tmp_path / "a.sqlite3")
    try:
        v005_policy_events.create(archive._connection)  # what migration v5 does
        archive._connection.commit()
        log = PolicyLog(archive)
        assert log.persistent
        held = Decision(Verdict.DENY, "allowed_domains", "outside")
        for _ in range(2):  # the same message replayed from the server's history
            log.record(PolicyEvent("receive", held, account_id="x:me", conversation="eve@o.test", ref="s-1"))
        log.record(PolicyEvent("send", Decision(Verdict.DENY, "blocked_words:x", "no"), account_id="x:me"))
        records = log.records()
        assert [(r.action, r.rule) for r in records] == [("receive", "allowed_domains"), ("send", "blocked_words:x")]
        assert log.records(account_id="y:other") == []
    finally:
        archive.close()
