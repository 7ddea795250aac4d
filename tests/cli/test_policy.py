"""``aggregator policy ...`` and the policy's effect on ``send`` and ``run --headless``, as a user sees them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aggregator.archive.migrations import LATEST_VERSION
from tests.cli.conftest import AGGREGATOR, CountingServer, Headless, Profile, Users, wait_until

BLOCKED = """
[[rules.blocked_words]]
name = "no-promises"
words = ["guarantee"]
action = "block"

[[rules.blocked_words]]
name = "careful"
words = ["confidential"]
action = "warn"
"""


def policy_file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return {"AGGREGATOR_POLICY": str(path)}


async def test_check_reports_each_bad_key_and_prints_what_would_apply(profile: Profile, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[locked]\nconnect_timeout = 20\nreconnect_max_delay = "soon"\n' + BLOCKED, encoding="utf-8")
    result = await profile.run("policy", "check", str(path))
    assert result.rc == 1, str(result)
    assert "locked.reconnect_max_delay" in result.stderr and "must be a number" in result.stderr
    assert "connect_timeout = 20: locked" in result.stdout
    assert "rule no-promises" in result.stdout and "1 key(s) skipped" in result.stdout


async def test_a_blocked_word_is_refused_with_the_rule_and_nothing_reaches_the_server(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    await profile.add(users.alice, server)
    env = policy_file(tmp_path, BLOCKED)
    refused = await profile.run("send", users.alice.address, users.bob.address, "I guarantee it", env=env)
    line = refused.error_line(1)
    assert "no-promises" in line and "guarantee" in line
    warned = await profile.run("send", users.alice.address, users.bob.address, "confidential plans", env=env)
    assert "--confirm" in warned.error_line(1)
    # Both commands have exited; once the server has also seen their connections (if any) end, it has
    # handled everything they sent.
    await wait_until(lambda: not server.online(users.alice.address), "the refused sends' connections closed")
    assert server.received(users.alice.address) == []
    (await profile.run("send", users.alice.address, users.bob.address, "confidential plans", "--confirm", env=env)).ok()
    assert [m.body for m in server.received(users.alice.address)] == ["confidential plans"]


@pytest.mark.xfail(LATEST_VERSION < 5, reason="policy_events is schema v5, registered after v4", strict=True)
async def test_policy_log_lists_the_denials_of_earlier_commands(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    await profile.add(users.alice, server)
    env = policy_file(tmp_path, BLOCKED)
    await profile.run("send", users.alice.address, users.bob.address, "I guarantee it", env=env)
    log = (await profile.run("policy", "log", env=env)).ok()
    assert "deny send" in log.stdout and "blocked_words:no-promises" in log.stdout


async def test_a_preseeded_profile_is_created_and_asks_only_for_the_password(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    local, domain = users.carol.address.split("@")
    env = policy_file(
        tmp_path,
        f"""
[[profiles]]
name = "work"
protocol = "fake"
username = "${{USER}}@{domain}"
server = "{server.address}"
allow_plaintext = true
""",
    ) | {"USER": local}
    applied = await profile.run("policy", "apply", "--password-stdin", stdin=users.carol.password + "\n", env=env)
    applied.ok()
    assert f"created {users.carol.account_id}" in applied.stdout
    assert profile.keyring_password(users.carol) == users.carol.password
    listed = (await profile.run("account", "list", env=env)).ok()
    assert users.carol.account_id in listed.stdout
    shown = (await profile.run("policy", "show", env=env)).ok()
    assert f"profile work is account {users.carol.account_id}" in shown.stdout


async def test_headless_says_prominently_that_a_malformed_policy_applies_nothing(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    await profile.add(users.alice, server)
    env = policy_file(tmp_path, '[rules.work]\nlogging = "required"\n')
    (await profile.run("policy", "apply", env=env)).ok()
    Path(env["AGGREGATOR_POLICY"]).write_text("[rules.work\n", encoding="utf-8")
    argv = ("run", "--headless")
    proc = await asyncio.create_subprocess_exec(
        str(AGGREGATOR),
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=profile.env | env,
    )
    headless = Headless(proc, argv)
    profile.instances.append(headless)
    await headless.wait_line(r"policy: WARNING: the policy file is unusable, nothing from it applies")
    await headless.wait_state(users.alice, "connected")  # the client starts all the same
    (line,) = headless.matching("policy: WARNING")
    assert "logging stays required for work accounts" in line
    assert await headless.stop() == 0


async def test_a_skipped_policy_key_is_said_once_by_each_command(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    """A key the client does not know is a warning the user reads once, not once per layer."""
    await profile.add(users.alice, server)
    env = policy_file(tmp_path, "[rules]\nbogus_key = 1\nmerge_across_spheres = false\n")
    shown = (await profile.run("policy", "show", env=env)).ok()
    assert (shown.stdout + shown.stderr).count("rules.bogus_key") == 1, str(shown)
    argv = ("run", "--headless")
    proc = await asyncio.create_subprocess_exec(
        str(AGGREGATOR),
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=profile.env | env,
    )
    headless = Headless(proc, argv)
    profile.instances.append(headless)
    await headless.wait_state(users.alice, "connected")
    assert await headless.stop() == 0
    assert headless.output().count("rules.bogus_key") == 1, headless.output()
