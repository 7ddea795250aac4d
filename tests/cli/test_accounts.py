"""``account add|list|remove|enable|disable``: what is stored, where the password goes, and errors
that change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import CountingServer, Profile, User, Users, state_pattern

PEM_GARBAGE = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"


async def test_add_list_and_remove_an_account(profile: Profile, server: CountingServer, users: Users) -> None:
    alice, bob = users.alice, users.bob
    added = await profile.add(alice, server, "--sphere", "work", "--label", "Office")
    assert added.stdout.strip() == f"Added {alice.account_id} (work)."
    assert "without encryption" in added.stderr  # --allow-plaintext is not silent
    assert profile.keyring_password(alice) == alice.password
    assert alice.password not in profile.accounts_file.read_text(encoding="utf-8")

    listed = (await profile.run("account", "list")).ok()
    assert listed.stdout.splitlines() == [f"{alice.account_id}  work  \u201cOffice\u201d"]
    (entry,) = [json.loads(line) for line in (await profile.run("account", "list", "--json")).ok().stdout.splitlines()]
    assert entry["id"] == alice.account_id
    assert entry["protocol"] == "fake"
    assert entry["address"] == alice.address
    assert entry["sphere"] == "work"
    assert entry["label"] == "Office"
    assert entry["server"] == server.address
    assert entry["allow_plaintext"] is True
    assert entry["enabled"] is True
    assert entry["state"] == "not running"
    assert "password" not in entry

    # Some history, then remove the account: the keyring entry goes, the history stays.
    (await profile.run("send", "Office", bob.address, "before the removal")).ok()
    removed = (await profile.run("account", "remove", alice.address)).ok()
    assert alice.account_id in removed.stdout
    assert profile.keyring_password(alice) is None
    assert "No accounts" in (await profile.run("account", "list")).ok().stdout
    assert (await profile.run("account", "list", "--json")).ok().stdout == ""
    (kept,) = await profile.history(bob)
    assert (kept["account"], kept["body"], kept["direction"], kept["state"]) == (
        alice.account_id,
        "before the removal",
        "out",
        "sent",
    )

    # The address is free again.
    await profile.add(alice, server)
    assert profile.keyring_password(alice) == alice.password


async def test_a_disabled_account_is_not_connected(profile: Profile, server: CountingServer, users: Users) -> None:
    alice, carol = users.alice, users.carol
    await profile.add(alice, server)
    await profile.add(carol, server, "--label", "Carol")
    assert "Disabled" in (await profile.run("account", "disable", "Carol")).ok().stdout
    assert (await profile.run("account", "list")).ok().stdout.splitlines()[1].endswith("[disabled]")

    headless = await profile.headless(connected=alice)
    await headless.wait_state(carol, "disabled")
    states = {
        e["id"]: e["state"]
        for e in map(json.loads, (await profile.run("account", "list", "--json")).ok().stdout.splitlines())
    }
    assert states == {alice.account_id: "connected", carol.account_id: "disabled"}
    assert server.online(alice.address)
    assert not server.online(carol.address)
    assert headless.matching(state_pattern(carol, "connecting")) == []
    assert await headless.stop() == 0

    (await profile.run("account", "enable", carol.account_id)).ok()
    headless = await profile.headless(connected=carol)
    assert server.online(carol.address)
    assert await headless.stop() == 0


# -------------------------------------------------------------------------------- failed adds


def _base(user: User, server: CountingServer) -> list[str]:
    return ["account", "add", "fake", user.address, "--server", server.address, "--allow-plaintext", "--password-stdin"]


@pytest.mark.parametrize(
    ("case", "rc", "complaint"),
    [
        pytest.param("unknown-protocol", 2, "unknown protocol 'jabber-ng'", id="unknown-protocol"),
        pytest.param("malformed-address", 2, "'alice-at-nowhere' is not a fake address", id="malformed-address"),
        pytest.param("missing-ca-file", 2, "No such file", id="missing-ca-file"),
        pytest.param("text-ca-file", 2, "no PEM certificate", id="text-ca-file"),
        pytest.param("binary-ca-file", 2, "cannot read the CA file", id="binary-ca-file"),
        pytest.param("broken-pem-ca-file", 2, "not a usable certificate", id="broken-pem-ca-file"),
        pytest.param("no-keyring", 1, "keyring", id="no-keyring"),
        pytest.param("empty-password", 2, "password", id="empty-password"),
        pytest.param("duplicate", 2, "already exists", id="duplicate"),
    ],
)
async def test_a_failed_add_names_the_problem_and_changes_nothing(
    profile: Profile, server: CountingServer, users: Users, tmp_path: Path, case: str, rc: int, complaint: str
) -> None:
    await profile.add(users.bob, server)  # an existing account, so "unchanged" means something
    before = profile.accounts_bytes()
    assert before is not None
    alice = users.alice
    args = _base(alice, server)
    stdin = alice.password + "\n"
    env: dict[str, str] = {}
    if case == "unknown-protocol":
        args[2] = "jabber-ng"
    elif case == "malformed-address":
        args[3] = "alice-at-nowhere"
    elif case == "missing-ca-file":
        args += ["--ca-file", str(tmp_path / "missing.pem")]
        complaint = f"{tmp_path / 'missing.pem'}: No such file"
    elif case == "text-ca-file":
        (tmp_path / "ca.pem").write_text("this is not a certificate\n")
        args += ["--ca-file", str(tmp_path / "ca.pem")]
    elif case == "binary-ca-file":
        (tmp_path / "ca.der").write_bytes(bytes(range(256)))
        args += ["--ca-file", str(tmp_path / "ca.der")]
    elif case == "broken-pem-ca-file":
        (tmp_path / "ca.pem").write_text(PEM_GARBAGE)
        args += ["--ca-file", str(tmp_path / "ca.pem")]
    elif case == "no-keyring":
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    elif case == "empty-password":
        stdin = "\n"
    elif case == "duplicate":
        args[3] = users.bob.address.upper()  # the same account, spelled differently
        stdin = "another-password\n"
    result = await profile.run(*args, stdin=stdin, env=env)
    line = result.error_line(rc)
    assert line.startswith("aggregator: error: "), str(result)
    assert complaint in line, str(result)
    assert result.stdout == ""
    assert profile.accounts_bytes() == before
    assert profile.keyring_password(alice) is None
    assert profile.keyring_password(users.bob) == users.bob.password  # the duplicate did not overwrite it


async def test_account_changes_are_refused_while_an_instance_runs(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice, carol = users.alice, users.carol
    await profile.add(alice, server)
    headless = await profile.headless(connected=alice)
    before = profile.accounts_bytes()

    result = await profile.run(*_base(carol, server), stdin=carol.password + "\n")
    line = result.error_line(1)
    assert "running instance" in line and f"pid {headless.pid}" in line, line
    assert profile.accounts_bytes() == before
    assert profile.keyring_password(carol) is None

    for action in ("remove", "disable"):
        line = (await profile.run("account", action, alice.address)).error_line(1)
        assert f"pid {headless.pid}" in line, line
    assert profile.accounts_bytes() == before
    assert profile.keyring_password(alice) == alice.password
    assert headless.running and server.online(alice.address)
    assert await headless.stop() == 0

    # Once it stopped, the same add works.
    await profile.add(carol, server)
