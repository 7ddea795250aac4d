"""``aggregator account trust-cert``: the real console script against the session's InspIRCd, with an
IRC account that has no CA file (the test CA's server certificate is not trusted)."""

from __future__ import annotations

import json
import re

from tests.cli.conftest import Profile
from tests.contract.irc_harness import IrcHarness
from tests.core.test_certificate_trust_live import leaf_fingerprint
from tests.servers.certs import TestCerts

TIMEOUT = 120.0  # two connection attempts on a machine shared with other test runs


async def add_untrusted(profile: Profile, irc_harness: IrcHarness) -> str:
    nick, password = await irc_harness.new_user()
    args = ["account", "add", "irc", nick, "--server", irc_harness.server.tls_address, "--password-stdin"]
    (await profile.run(*args, stdin=password + "\n")).ok()
    return f"irc:{nick}"


def pin_of(profile: Profile, account_id: str) -> str | None:
    data = json.loads(profile.accounts_file.read_text())
    (account,) = [a for a in data["accounts"] if a["id"] == account_id]
    pin: str | None = account.get("pinned_certificate")
    return pin


async def test_trust_cert_shows_the_certificate_and_asks(
    profile: Profile, irc_harness: IrcHarness, test_certs: TestCerts
) -> None:
    account_id = await add_untrusted(profile, irc_harness)
    fingerprint = leaf_fingerprint(test_certs.cert_file)

    declined = await profile.run("account", "trust-cert", account_id, stdin="\n", timeout=TIMEOUT)
    assert declined.rc == 1, str(declined)
    assert fingerprint in declined.stdout and "CN=localhost" in declined.stdout and "CN=IM Test CA" in declined.stdout
    assert "[y/N]" in declined.stdout and "Nothing was trusted." in declined.stdout
    assert pin_of(profile, account_id) is None

    accepted = (await profile.run("account", "trust-cert", account_id, stdin="y\n", timeout=TIMEOUT)).ok()
    assert f"{account_id} connected." in accepted.stdout, str(accepted)
    assert pin_of(profile, account_id) == fingerprint

    again = (await profile.run("account", "trust-cert", account_id, timeout=TIMEOUT)).ok()
    assert "already trusted" in again.stdout


async def test_run_names_the_certificate_and_the_command_to_review_it(
    profile: Profile, irc_harness: IrcHarness, test_certs: TestCerts
) -> None:
    account_id = await add_untrusted(profile, irc_harness)
    headless = await profile.headless()
    pattern = rf"{re.escape(account_id)}: failed: .*not trusted"
    failed = headless.lines[await headless.wait_line(pattern, timeout=TIMEOUT)]
    assert leaf_fingerprint(test_certs.cert_file) in failed
    assert f"aggregator account trust-cert {account_id}" in failed
    assert await headless.stop() == 0


async def test_trust_cert_with_a_fingerprint_trusts_only_that_certificate(
    profile: Profile, irc_harness: IrcHarness, test_certs: TestCerts
) -> None:
    account_id = await add_untrusted(profile, irc_harness)
    fingerprint = leaf_fingerprint(test_certs.cert_file)

    wrong = await profile.run("account", "trust-cert", account_id, "--fingerprint", "AB" * 32, timeout=TIMEOUT)
    error = wrong.error_line(1)
    assert "the certificate changed" in error and "nothing was trusted" in error
    assert fingerprint in error and ":".join(["AB"] * 32) in error  # both fingerprints named
    assert pin_of(profile, account_id) is None

    bad = await profile.run("account", "trust-cert", account_id, "--fingerprint", "not-hex")
    assert "not a SHA-256 fingerprint" in bad.error_line(2)

    typed = fingerprint.replace(":", "").lower()
    trusted = (await profile.run("account", "trust-cert", account_id, "--fingerprint", typed, timeout=TIMEOUT)).ok()
    assert "[y/N]" not in trusted.stdout and f"{account_id} connected." in trusted.stdout
    assert pin_of(profile, account_id) == fingerprint

    listed = (await profile.run("account", "list")).ok()
    assert f"WARNING: trusts only its pinned certificate SHA-256 {fingerprint}" in listed.stdout
    as_json = json.loads((await profile.run("account", "list", "--json")).ok().stdout.splitlines()[0])
    assert as_json["pinned_certificate"] == fingerprint

    headless = await profile.headless()
    line = headless.lines[await headless.wait_line(rf"{re.escape(account_id)}: connected", timeout=TIMEOUT)]
    assert f"WARNING: it trusts only its pinned certificate SHA-256 {fingerprint}" in line
    assert await headless.stop() == 0


async def test_trust_cert_with_a_fingerprint_before_the_first_connect(
    profile: Profile, irc_harness: IrcHarness, test_certs: TestCerts
) -> None:
    nick, password = await irc_harness.new_user()
    add = ["account", "add", "irc", nick, "--server", irc_harness.server.tls_address, "--password-stdin"]
    (await profile.run(*add, stdin=password + "\n")).ok()
    account_id = f"irc:{nick}"
    fingerprint = leaf_fingerprint(test_certs.cert_file)
    trusted = (
        await profile.run("account", "trust-cert", account_id, "--fingerprint", fingerprint, timeout=TIMEOUT)
    ).ok()
    assert "not trusted" not in trusted.stdout  # no failed connection came first
    assert f"{account_id} connected." in trusted.stdout and pin_of(profile, account_id) == fingerprint


async def test_trust_cert_through_the_running_instance(
    profile: Profile, irc_harness: IrcHarness, test_certs: TestCerts
) -> None:
    account_id = await add_untrusted(profile, irc_harness)
    fingerprint = leaf_fingerprint(test_certs.cert_file)
    headless = await profile.headless()
    await headless.wait_line(rf"{re.escape(account_id)}: failed: .*not trusted", timeout=TIMEOUT)

    declined = await profile.run("account", "trust-cert", account_id, stdin="n\n", timeout=TIMEOUT)
    assert declined.rc == 1, str(declined)
    assert fingerprint in declined.stdout and "CN=localhost" in declined.stdout and "[y/N]" in declined.stdout
    assert "Nothing was trusted." in declined.stdout
    assert pin_of(profile, account_id) is None

    wrong = await profile.run("account", "trust-cert", account_id, "--fingerprint", "CD" * 32, timeout=TIMEOUT)
    assert "nothing was trusted" in wrong.error_line(1)
    assert pin_of(profile, account_id) is None

    start = len(headless.lines)
    accepted = (await profile.run("account", "trust-cert", account_id, stdin="y\n", timeout=TIMEOUT)).ok()
    assert f"{account_id} connected." in accepted.stdout, str(accepted)
    assert pin_of(profile, account_id) == fingerprint
    connected = await headless.wait_line(rf"^\S+ {re.escape(account_id)}: connected\b", start=start, timeout=TIMEOUT)
    assert f"WARNING: it trusts only its pinned certificate SHA-256 {fingerprint}" in headless.lines[connected]
    assert headless.running  # the instance reconnected the account itself; it was never stopped

    again = (await profile.run("account", "trust-cert", account_id, timeout=TIMEOUT)).ok()
    assert "already trusted" in again.stdout
    assert await headless.stop() == 0
