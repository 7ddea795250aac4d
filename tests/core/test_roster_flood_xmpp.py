"""A roster flood on the session's real Prosody (issue 13, defect 6): another client of the same account
adds contacts one by one, Prosody pushes each to the core's session, and a message sent after them is
stored. (1,000 contacts: Prosody's file storage writes the whole roster at each change, so a bigger
flood costs the server minutes.) The core's work per push is counted (``work_count``), not timed:
100 pushes onto 1,000 contacts cost about what the first 100 did.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.events import ConnectionState, MessageStored
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from tests.contract.xmpp_harness import XmppHarness, XmppPeer, close_client, login_client, server_round_trip
from tests.core.work_count import Work, counting

FLOOD = 1000
SAMPLE = 100
MAX_GROWTH = 1.5


async def _push(core: Core, other: Any, bob: XmppPeer, alice: str, jids: list[str], body: str, counted: bool) -> Work:
    """``other`` (alice's second session) adds ``jids`` to her roster, one roster set each; then bob
    writes to alice. Counts the core's work until that message is stored."""
    stored = asyncio.Event()

    def on_stored(event: MessageStored) -> None:
        if event.message.body == body:
            stored.set()

    core.bus.subscribe(MessageStored, on_stored)
    with counting(core) if counted else contextlib.nullcontext(Work()) as work:
        for jid in jids:
            other.send_raw(
                f"<iq type='set' id='r-{jid}'><query xmlns='jabber:iq:roster'>"
                f"<item jid='{jid}' name='{jid.partition('@')[0]}'/></query></iq>"
            )
        await server_round_trip(other, timeout=150)  # Prosody has handled (and pushed) every roster set
        await bob.send(alice, body)
        await asyncio.wait_for(stored.wait(), timeout=180)
    return work


@pytest.mark.timeout(400)  # Prosody's file storage rewrites the whole roster at every change
async def test_a_message_behind_a_roster_flood_on_prosody_is_stored_and_pushes_cost_the_same(
    xmpp_harness: XmppHarness, tmp_path: Path, keyring_env: None
) -> None:
    harness = xmpp_harness
    alice, password = await harness.new_user()
    paths = ProfilePaths.resolve(tmp_path / "home")
    paths.ensure()
    account_id = make_account_id("xmpp", alice)
    AccountStore(paths.accounts_file).add(
        AccountConfig(
            id=account_id,
            protocol="xmpp",
            address=alice,
            server=harness.server.starttls_address,
            ca_file=str(harness.certs.ca_file),
        )
    )
    secrets_store = SecretStore(profile_id(paths))
    secrets_store.set_password(account_id, password)
    core = build_core(paths, backoff_factory=lambda: Backoff(initial=0.1, cap=1.0))
    other = await login_client(harness.server, alice, password, resource="admin-tool")
    bob = await harness.new_peer()
    domain = alice.partition("@")[2]
    try:
        await core.start()
        supervisor = core.accounts.supervisor(account_id)
        assert supervisor is not None
        await supervisor.wait_for_state(ConnectionState.CONNECTED, timeout=30)

        first = [f"first{i}@{domain}" for i in range(SAMPLE)]
        small = await _push(core, other, bob, alice, first, "behind the first pushes", True)
        flood = [f"flood{i}@{domain}" for i in range(FLOOD - SAMPLE)]
        await _push(core, other, bob, alice, flood, "behind the flood", False)
        last = [f"last{i}@{domain}" for i in range(SAMPLE)]
        big = await _push(core, other, bob, alice, last, "behind the last pushes", True)

        in_roster = {p.contacts[0].ref.handle for p in core.roster.directory.persons() if p.contacts[0].in_roster}
        assert in_roster >= {*first, *flood, *last}
        assert big.sqlite_steps < MAX_GROWTH * small.sqlite_steps, (small, big)
        assert big.python_calls < MAX_GROWTH * small.python_calls, (small, big)
    finally:
        await close_client(other)
        await core.stop()
        core.close()
        secrets_store.delete(account_id)
