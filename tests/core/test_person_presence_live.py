"""One person with an XMPP and a Matrix contact, on the real servers: the person shows the right presence
and best contact as each contact goes on and offline.

alice has an XMPP account (the session's Prosody) and a Matrix account (the session's Synapse) in one
core, built as the app builds it. bob has a user on both servers, with the same local part; he is
alice's contact on each (a mutual roster subscription on XMPP, a direct chat on Matrix). The core
suggests merging bob's two contacts for that reason, alice merges them, and bob then changes his
presence on each network through plain slixmpp / nio clients. Account order: XMPP, then Matrix.
Matrix has no "busy" on Synapse (it becomes "unavailable", i.e. away), so busy is played on XMPP.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import ContactRef, Presence, PresenceKind
from aggregator.bootstrap import build_core
from aggregator.core import Core
from aggregator.events import ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from aggregator.roster.events import PersonPresenceChanged
from aggregator.roster.records import SuggestionReason
from protocols.matrix import PROTOCOL as MATRIX
from protocols.xmpp import PROTOCOL as XMPP
from tests.contract.matrix_harness import MatrixHarness, MatrixPeer
from tests.contract.xmpp_harness import XmppHarness, XmppPeer
from tests.servers.synapse import MatrixUser

TIMEOUT = 30.0  # generous: the machine's cores are shared with other test runs

A = PresenceKind.AVAILABLE
AW = PresenceKind.AWAY
B = PresenceKind.BUSY
OFF = PresenceKind.OFFLINE


@dataclass
class Alice:
    core: Core
    xmpp_id: str
    matrix_id: str
    events: list[PersonPresenceChanged]


async def _poll(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:g} s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def alice(
    tmp_path: Path, keyring_env: None, xmpp_harness: XmppHarness, matrix_harness: MatrixHarness
) -> AsyncIterator[tuple[Alice, XmppHarness, MatrixHarness]]:
    xmpp_address, xmpp_password = await xmpp_harness.new_user()
    matrix_user = await matrix_harness.new_matrix_user("alice")
    paths = ProfilePaths.resolve(tmp_path / "home")
    paths.ensure()
    xmpp_id = make_account_id("xmpp", xmpp_address)
    matrix_id = make_account_id("matrix", matrix_user.user_id)
    store = AccountStore(paths.accounts_file)
    store.add(
        AccountConfig(
            id=xmpp_id,
            protocol="xmpp",
            address=xmpp_address,
            server=xmpp_harness.server.starttls_address,
            ca_file=str(xmpp_harness.certs.ca_file),
        )
    )
    store.add(
        AccountConfig(
            id=matrix_id,
            protocol="matrix",
            address=matrix_user.user_id,
            server=matrix_harness.server.url,
            allow_plaintext=True,
        )
    )
    secrets_store = SecretStore(profile_id(paths))
    secrets_store.set_password(xmpp_id, xmpp_password)
    secrets_store.set_password(matrix_id, matrix_user.password)
    core = build_core(paths, backoff_factory=lambda: Backoff(initial=0.1, cap=1.0))
    events: list[PersonPresenceChanged] = []
    core.bus.subscribe(PersonPresenceChanged, events.append)
    try:
        yield Alice(core, xmpp_id, matrix_id, events), xmpp_harness, matrix_harness
    finally:
        await core.stop()
        core.close()
        for account_id in (xmpp_id, matrix_id):
            secrets_store.delete(account_id)


async def test_a_person_with_an_xmpp_and_a_matrix_contact_follows_both_presences(
    alice: tuple[Alice, XmppHarness, MatrixHarness],
) -> None:
    me, xmpp, matrix = alice
    core = me.core
    xmpp_alice = core.account_store.load()[0].address
    matrix_alice = core.account_store.load()[1].address

    # bob: one local part on both servers; alice's contact on each before her core starts.
    localpart = f"bob-{secrets.token_hex(4)}"
    xmpp_password, matrix_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    xmpp_bob = (await asyncio.to_thread(xmpp.server.register, localpart, xmpp_password)).jid
    matrix_user: MatrixUser = await asyncio.to_thread(matrix.server.register, localpart, matrix_password)
    xmpp.passwords[xmpp_bob] = xmpp_password
    matrix.users[matrix_user.user_id] = matrix_user
    await xmpp.make_contacts(xmpp_alice, xmpp_bob)
    await matrix.make_contacts(matrix_alice, matrix_user.user_id)
    x_ref = ContactRef(me.xmpp_id, XMPP.normalize_handle(xmpp_bob))
    m_ref = ContactRef(me.matrix_id, MATRIX.normalize_handle(matrix_user.user_id))

    await core.start()
    for account_id in (me.xmpp_id, me.matrix_id):
        supervisor = core.accounts.supervisor(account_id)
        assert supervisor is not None
        await supervisor.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT)

    # Both contacts come from the servers' rosters as persons of their own; the core suggests one.
    d = core.roster.directory
    await _poll(lambda: d.person_of(x_ref) is not None and d.person_of(m_ref) is not None, "both contacts known")
    x_person, m_person = d.person_of(x_ref), d.person_of(m_ref)
    assert x_person is not None and m_person is not None and x_person.id != m_person.id
    pair = (min(x_person.id, m_person.id), max(x_person.id, m_person.id))
    found = [s for s in d.suggestions() if (s.person, s.other) == pair]
    assert [s.reason for s in found] == [SuggestionReason.SAME_LOCAL_PART], d.suggestions()
    person = d.merge(x_person.id, m_person.id)
    assert person.refs == (x_ref, m_ref)
    board = core.roster.presence

    async def shows(kind: PresenceKind, best: ContactRef, what: str) -> None:
        def seen() -> bool:
            presence, shown_best = board.person_presence(person.id)
            mine = [e for e in me.events if e.person_id == person.id]
            last = mine[-1] if mine else None
            event_ok = (
                last is not None and last.presence.kind is kind and last.best == best
                if mine or kind is not OFF
                else True  # offline from the start: nothing to announce
            )
            return presence.kind is kind and shown_best == best and event_ok

        await _poll(seen, f"{what}: bob shows {kind.value} on {best.account_id}")

    await shows(OFF, x_ref, "nobody online: offline, the first account's contact")

    # Matrix bob comes online: the only online contact wins.
    m_bob = await MatrixPeer.login(matrix, matrix_user)
    try:
        await shows(A, m_ref, "matrix online")
        # XMPP bob comes online too: both available, the account order decides (XMPP first).
        x_bob = await XmppPeer.login(xmpp.server, xmpp_bob, xmpp_password)
        try:
            await shows(A, x_ref, "both online")
            # XMPP bob busy: available (Matrix) beats busy.
            await x_bob.set_presence(B, "in a meeting")
            await shows(A, m_ref, "xmpp busy")
            # Matrix bob away: away beats busy, even on the later account.
            await m_bob.set_presence(AW, "lunch")
            await shows(AW, m_ref, "matrix away, xmpp busy")
            assert board.person_presence(person.id)[0] == Presence(AW, "lunch")
            # Matrix bob offline: online beats offline, so busy XMPP is shown.
            await m_bob.set_presence(OFF, "")
            await shows(B, x_ref, "matrix offline, xmpp busy")
            assert board.person_presence(person.id)[0] == Presence(B, "in a meeting")
            # XMPP bob back to available, then gone: offline everywhere.
            await x_bob.set_presence(A, "")
            await shows(A, x_ref, "xmpp available")
            await x_bob.set_presence(OFF, "")
            await shows(OFF, x_ref, "both offline")
        finally:
            await x_bob.close()
    finally:
        await m_bob.close()

    # Only changes of what the user sees were announced: no two equal events in a row.
    mine = [(e.presence, e.best) for e in me.events if e.person_id == person.id]
    assert all(a != b for a, b in itertools.pairwise(mine)), mine
    assert d.person(person.id).refs == (x_ref, m_ref)
