"""``aggregator settings show|set``, as a user sees it: values and where they come from, validation,
the organisation's locks refused with the reason and recorded."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import CountingServer, Profile, Users

POLICY = """
[defaults]
reconnect_initial_delay = 2
[locked]
connect_timeout = 20
[rules.work]
logging = "required"
retention_days = 90
"""


def policy_env(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    return {"AGGREGATOR_POLICY": str(path)}


def line_of(text: str, key: str) -> str:
    (line,) = [ln for ln in text.splitlines() if ln.split(" ", 1)[0] == key]
    return line


async def test_show_lists_every_setting_with_its_value_and_where_it_comes_from(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    await profile.add(users.alice, server, "--sphere", "work")
    await profile.add(users.bob, server, "--sphere", "personal")
    env = policy_env(tmp_path)
    profile.write_settings({"reconnect_max_delay": 5})
    (await profile.run("policy", "apply", env=env)).ok()  # seeds the defaults, as a start does
    shown = (await profile.run("settings", "show", env=env)).ok().stdout
    assert "20" in line_of(shown, "connect_timeout") and "[locked]" in line_of(shown, "connect_timeout")
    assert "locked by the organisation's policy" in line_of(shown, "connect_timeout")
    assert " 2 " in line_of(shown, "reconnect_initial_delay") + " "
    assert "[policy default]" in line_of(shown, "reconnect_initial_delay")
    assert "5  [user]" in line_of(shown, "reconnect_max_delay")
    assert "on  [locked]" in line_of(shown, "logging.work") and "requires" in line_of(shown, "logging.work")
    assert "on  [default]" in line_of(shown, "logging.personal")
    assert "[locked]" in line_of(shown, f"logging.account.{users.alice.account_id}")
    assert "on  [default]" in line_of(shown, f"logging.account.{users.bob.account_id}")
    assert "at most 90 days" in line_of(shown, "retention_days.work")
    as_json = json.loads((await profile.run("settings", "show", "--json", env=env)).ok().stdout)
    (entry,) = [e for e in as_json if e["key"] == "connect_timeout"]
    assert entry["value"] == 20.0 and entry["source"] == "locked"


async def test_set_checks_the_value_and_refuses_what_the_policy_locks(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    await profile.add(users.alice, server, "--sphere", "work")
    env = policy_env(tmp_path)
    assert "unknown setting 'conect_timeout'" in (
        await profile.run("settings", "set", "conect_timeout", "3")
    ).error_line(2)
    bad = await profile.run("settings", "set", "reconnect_max_delay", "soon")
    assert "reconnect_max_delay must be a number of seconds" in bad.error_line(2)
    assert "must be on or off" in (await profile.run("settings", "set", "logging.personal", "nah")).error_line(2)

    locked = (await profile.run("settings", "set", "connect_timeout", "30", env=env)).error_line(1)
    assert "refused by the organisation's policy" in locked and "locked" in locked
    logging_ = (await profile.run("settings", "set", "logging.work", "off", env=env)).error_line(1)
    assert "logging cannot be turned off" in logging_ and "[rule logging]" in logging_
    longer = (await profile.run("settings", "set", "retention_days.work", "0", env=env)).error_line(1)
    assert "at most 90 days" in longer and "forever" in longer

    logged = (await profile.run("policy", "log", env=env)).ok().stdout
    assert logged.count("deny settings") == 3
    assert "logging.work = off: logging cannot be turned off" in logged

    (await profile.run("settings", "set", "logging.personal", "off", env=env)).ok()
    (await profile.run("settings", "set", "retention_days.work", "30", env=env)).ok()
    shown = (await profile.run("settings", "show", env=env)).ok().stdout
    assert "off  [user]" in line_of(shown, "logging.personal")
    assert "30  [user]" in line_of(shown, "retention_days.work")
    assert "20  [locked]" in line_of(shown, "connect_timeout")


async def test_a_running_instance_takes_the_change_at_once(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    await profile.add(users.alice, server)
    headless = await profile.headless(connected=users.alice)
    try:
        done = (await profile.run("settings", "set", f"logging.account.{users.alice.account_id}", "off")).ok()
        assert done.stdout.strip() == f"logging.account.{users.alice.account_id} = off"
        shown = (await profile.run("settings", "show")).ok().stdout
        assert "off  [user]" in line_of(shown, f"logging.account.{users.alice.account_id}")
        assert "unknown setting" in (await profile.run("settings", "set", "nope", "1")).error_line(2)
    finally:
        assert await headless.stop() == 0
    saved = json.loads((profile.home / "config" / "settings.json").read_text())
    assert saved["logging"]["accounts"] == {users.alice.account_id: False}
