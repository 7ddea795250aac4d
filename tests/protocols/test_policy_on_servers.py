"""The company policy against the real servers: Prosody (XMPP), InspIRCd + Atheme (IRC), Synapse (Matrix).

alice's account runs in a core built as the app builds it (``build_core``), with a policy file named by
``AGGREGATOR_POLICY``. The other side of each conversation is a bare client logged in on the same server
(``tests/contract`` peers), so what "was not sent" is checked where it would have arrived.

* ``blocked_words`` (block): the refused message names the rule, is in ``policy_events`` (what
  ``aggregator policy log`` lists) and never reaches the recipient: after a pause, an allowed message is
  sent and it must be the first (and only) one the recipient gets.
* ``allowed_domains`` on a work XMPP account: the test Prosody serves ``localhost`` and a second
  VirtualHost ``outside.test``. A message from ``eve@outside.test`` reaches the core (its body is in the
  policy record) but is never stored, announced or found by search; one from ``bob@localhost`` is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import PolicyError, Sphere
from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.events import ConnectionState, MessageStored
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from aggregator.search import SearchService
from tests.cli.conftest import AGGREGATOR
from tests.conftest import cli_env
from tests.contract.irc_harness import IrcHarness, contacts_channel
from tests.contract.matrix_harness import MatrixHarness
from tests.contract.xmpp_harness import XmppHarness, XmppPeer
from tests.servers.prosody import OUTSIDE_DOMAIN

TIMEOUT = 30.0  # generous: the 2 cores are shared with other test runs

BLOCKED = """
[[rules.blocked_words]]
name = "no-promises"
words = ["guarantee"]
action = "block"
message = "Ask compliance first."
"""

WORK_DOMAINS = """
[rules.work]
allowed_domains = ["localhost"]
"""


class Recipient(Protocol):
    address: str

    async def next_message(self, timeout: float = 10) -> tuple[str, str]: ...


@dataclass
class Alice:
    core: Core
    account_id: str
    address: str
    home: Path
    stored: list[MessageStored]


@contextlib.asynccontextmanager
async def start_core(
    home: Path, config: AccountConfig, password: str, policy: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Alice]:
    """A core with one account and the policy ``policy``, connected; stopped and closed afterwards."""
    policy_file = home.parent / "policy.toml"
    policy_file.write_text(policy, encoding="utf-8")
    monkeypatch.setenv("AGGREGATOR_POLICY", str(policy_file))
    paths = ProfilePaths.resolve(home)
    paths.ensure()
    AccountStore(paths.accounts_file).add(config)
    secrets_store = SecretStore(profile_id(paths))
    secrets_store.set_password(config.id, password)
    core = build_core(paths, backoff_factory=lambda: Backoff(initial=0.1, cap=1.0))
    stored: list[MessageStored] = []
    core.bus.subscribe(MessageStored, stored.append)
    try:
        await core.start()
        supervisor = core.accounts.supervisor(config.id)
        assert supervisor is not None
        await supervisor.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT)
        yield Alice(core, config.id, config.address, home, stored)
    finally:
        await core.stop()
        core.close()
        secrets_store.delete(config.id)


async def poll(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:g} s")
        await asyncio.sleep(0.05)


def policy_log_cli(home: Path) -> list[dict[str, str]]:
    """``aggregator policy log --json`` on the profile, parsed."""
    result = subprocess.run(
        [str(AGGREGATOR), "policy", "log", "--json"],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


# -- one alice and one recipient per server ----------------------------------------------------------


@dataclass
class Setup:
    config: AccountConfig
    password: str
    recipient: Recipient
    handle: str  # the recipient as alice's core addresses it


async def xmpp_setup(harness: XmppHarness) -> Setup:
    address, password = await harness.new_user()
    bob = await harness.new_peer()
    await harness.make_contacts(address, bob.address)
    config = AccountConfig(
        id=make_account_id("xmpp", address),
        protocol="xmpp",
        address=address,
        server=harness.server.starttls_address,
        ca_file=str(harness.certs.ca_file),
    )
    return Setup(config, password, bob, bob.handle)


async def irc_setup(harness: IrcHarness) -> Setup:
    nick, password = await harness.new_user()
    bob = await harness.new_peer()
    config = AccountConfig(
        id=make_account_id("irc", nick),
        protocol="irc",
        address=nick,
        server=harness.server.tls_address,
        ca_file=str(harness.certs.ca_file),
        options={"autojoin": contacts_channel(nick)},
    )
    await harness.make_contacts(nick, bob.address)
    return Setup(config, password, bob, bob.handle)


async def matrix_setup(harness: MatrixHarness) -> Setup:
    user = await harness.new_matrix_user("alice")
    bob = await harness.new_peer()
    await harness.make_contacts(user.user_id, bob.user.user_id)
    config = AccountConfig(
        id=make_account_id("matrix", user.user_id),
        protocol="matrix",
        address=user.user_id,
        server=harness.server.url,
        allow_plaintext=True,
    )
    return Setup(config, user.password, bob, bob.user.user_id)


Harness = XmppHarness | IrcHarness | MatrixHarness


@pytest.fixture(params=["xmpp", "irc", "matrix"])
def harness(request: pytest.FixtureRequest) -> Harness:
    """The server's harness (sync, as ``getfixturevalue`` needs; its own fixture is async)."""
    found = request.getfixturevalue(f"{request.param}_harness")
    assert isinstance(found, XmppHarness | IrcHarness | MatrixHarness)
    return found


async def setup_on(harness: Harness) -> Setup:
    if isinstance(harness, XmppHarness):
        return await xmpp_setup(harness)
    if isinstance(harness, IrcHarness):
        return await irc_setup(harness)
    return await matrix_setup(harness)


# -- blocked words ------------------------------------------------------------------------------------


async def test_a_blocked_word_is_refused_recorded_and_never_reaches_the_recipient(
    harness: Harness, tmp_path: Path, keyring_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = await setup_on(harness)
    home = tmp_path / "home"
    async with start_core(home, setup.config, setup.password, BLOCKED, monkeypatch) as alice:
        core = alice.core
        with pytest.raises(PolicyError) as refused:
            await core.outbound.send(alice.account_id, setup.handle, "I guarantee a 20% return")
        assert refused.value.rule == "blocked_words:no-promises"
        assert "guarantee" in str(refused.value) and "Ask compliance first." in str(refused.value)
        assert core.policy_log is not None
        (record,) = core.policy_log.records()
        assert (record.action, record.verdict, record.rule) == ("send", "deny", "blocked_words:no-promises")
        assert record.account_id == alice.account_id
        # Nothing stored as a message either.
        assert not [e for e in alice.stored if "guarantee" in e.message.body]

        # The recipient gets nothing: an allowed message sent afterwards (on the same connection, so in
        # order) must come first, and a second one next.
        for allowed in ("Returns are never promised.", "Ask compliance."):
            await core.outbound.send(alice.account_id, setup.handle, allowed)
            sender, body = await setup.recipient.next_message(timeout=TIMEOUT)
            assert body == allowed, f"the recipient got {body!r} from {sender}"
    # What the administrator lists (read from the archive by the CLI, the core stopped).
    listed = policy_log_cli(home)
    assert [(r["action"], r["verdict"], r["rule"], r["account"]) for r in listed] == [
        ("send", "deny", "blocked_words:no-promises", setup.config.id)
    ]


# -- allowed domains ----------------------------------------------------------------------------------


async def test_a_work_account_holds_messages_from_outside_the_allowed_domains(
    xmpp_harness: XmppHarness, tmp_path: Path, keyring_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = xmpp_harness.server
    address, password = await xmpp_harness.new_user()
    bob = await xmpp_harness.new_peer()  # bob@localhost: inside
    eve_user = await server.new_user("eve", domain=OUTSIDE_DOMAIN)  # eve@outside.test: outside
    assert eve_user.jid.endswith("@" + OUTSIDE_DOMAIN)
    eve = await XmppPeer.login(server, eve_user.jid, eve_user.password)
    config = AccountConfig(
        id=make_account_id("xmpp", address),
        protocol="xmpp",
        address=address,
        sphere=Sphere.WORK,
        server=server.starttls_address,
        ca_file=str(xmpp_harness.certs.ca_file),
    )
    home = tmp_path / "home"
    try:
        async with start_core(home, config, password, WORK_DOMAINS + BLOCKED, monkeypatch) as alice:
            core = alice.core
            assert core.policy_log is not None
            log = core.policy_log
            await eve.send(address, "psst, the quarterly numbers?")
            await poll(lambda: len(log.records()) == 1, "the held message recorded")
            (held,) = log.records()
            assert (held.action, held.verdict, held.rule) == ("receive", "deny", "allowed_domains")
            assert held.content == "psst, the quarterly numbers?"  # it reached the core: the body is kept
            assert held.conversation == eve.handle and OUTSIDE_DOMAIN in held.reason

            # bob's message, sent after eve's on the same server, is shown; eve's never was.
            await bob.send(address, "lunch at noon?")
            await poll(lambda: any(e.message.body == "lunch at noon?" for e in alice.stored), "bob's message stored")
            supervisor = core.accounts.supervisor(alice.account_id)
            assert supervisor is not None
            await supervisor.drain()  # every event the adapter emitted so far has been handled
            assert [e.message.body for e in alice.stored] == ["lunch at noon?"]
            archive = core.archive
            assert not archive.history(archive.conversations_with(eve.handle))
            assert [m.body for m in archive.history(archive.conversations_with(bob.handle))] == ["lunch at noon?"]
            search = SearchService(archive)
            assert search.search("quarterly") == []
            assert [h.message.body for h in search.search("lunch")] == ["lunch at noon?"]
            assert len(log.records()) == 1  # bob's message decided nothing worth recording
    finally:
        await eve.close()
    listed = policy_log_cli(home)
    assert [(r["action"], r["rule"], r["conversation"]) for r in listed] == [
        ("receive", "allowed_domains", eve.handle)
    ]
