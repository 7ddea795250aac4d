"""A hand-written ``unlogged.json`` against the policy (issue 13, defect 7).

The journal of unlogged conversations is a file in the user's config dir. An entry for an account whose
logging the organisation's policy requires must not delete that account's messages: it is ignored,
and the refusal is in ``aggregator policy log``.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import CountingServer, Message, Profile, Result, User, Users

REQUIRED = '[rules.work]\nlogging = "required"\n'


def forge_journal(profile: Profile, user: User) -> None:
    """Every message of ``user``'s account, past and future, claimed as "not logged"."""
    span = {"account": user.account_id, "from": "2000-01-01T00:00:00+00:00", "to": "2100-01-01T00:00:00+00:00"}
    (profile.home / "config" / "unlogged.json").write_text(json.dumps({"spans": [span]}), encoding="utf-8")


def bodies(result: Result) -> list[str]:
    messages: list[Message] = [json.loads(line) for line in result.ok().stdout.splitlines() if line.strip()]
    return [str(m["body"]) for m in messages]


async def test_a_forged_unlogged_journal_cannot_delete_a_work_account_the_policy_logs(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path
) -> None:
    alice, bob = users.alice, users.bob
    await profile.add(alice, server, "--sphere", "work")
    headless = await profile.headless(connected=alice)
    await server.deliver(bob.address, alice.address, "the contract is signed")
    await server.deliver(bob.address, alice.address, "invoice follows")
    await profile.wait_history(bob, lambda m: len(m) == 2)
    assert await headless.stop() == 0

    policy = tmp_path / "policy.toml"
    policy.write_text(REQUIRED, encoding="utf-8")
    env = {"AGGREGATOR_POLICY": str(policy)}
    forge_journal(profile, alice)

    kept = await profile.run("history", "--with", bob.address, "--json", env=env)
    assert bodies(kept) == ["the contract is signed", "invoice follows"]
    log = (await profile.run("policy", "log", env=env)).ok().stdout
    (line,) = [line for line in log.splitlines() if "unlogged.json" in line]
    assert "deny logging" in line and alice.account_id in line and "[rule logging]" in line, log
    # Once refused, the entry is gone: the same messages stay whatever the policy says later.
    assert bodies(await profile.run("history", "--with", bob.address, "--json")) == [
        "the contract is signed",
        "invoice follows",
    ]

    # Without a policy requiring it, the user's own journal is honoured as before.
    forge_journal(profile, alice)
    assert bodies(await profile.run("history", "--with", bob.address, "--json")) == []
    later = (await profile.run("policy", "log")).ok().stdout
    assert len([line for line in later.splitlines() if "unlogged.json" in line]) == 1, later
