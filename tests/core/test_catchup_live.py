"""A message that reached the adapter but not the archive (its commit failed, as when the process dies
between the adapter's emit and the archive's commit) is fetched again at the next connect: the real core
on a real Prosody and Synapse (issue 13, defect 2). Before, the catch-up position (MAM id, Matrix sync
token) was saved when the message was emitted, so the message was gone for good."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from aggregator.accounts.config import AccountConfig
from aggregator.core import Core
from tests.contract.matrix_harness import MatrixHarness
from tests.contract.xmpp_harness import XmppHarness
from tests.core.conftest import eventually
from tests.core.live_core import LiveAccount, live_account


def bodies(core: Core, account_id: str) -> list[str]:
    rows = core.archive.read_rows("SELECT body FROM messages WHERE account_id = ? ORDER BY id", (account_id,))
    return [str(row[0]) for row in rows]


async def lose_one_commit(
    account: LiveAccount,
    monkeypatch: pytest.MonkeyPatch,
    send: Callable[[str], Awaitable[None]],
) -> None:
    """``one`` is stored; storing ``two`` fails once; ``three`` is stored; after a reconnect ``two`` is there."""
    async with account.running() as core:
        await send("one")
        await eventually(lambda: bodies(core, account.account_id) == ["one"], 20)
        real_insert = core.archive.insert_message
        failed: list[str] = []

        def insert_failing_two(**values: Any) -> Any:
            if values.get("body") == "two" and not failed:
                failed.append("two")
                raise OSError("disk I/O error")  # the commit that never happened
            return real_insert(**values)

        monkeypatch.setattr(core.archive, "insert_message", insert_failing_two)
        await send("two")
        await send("three")
        await eventually(lambda: bodies(core, account.account_id) == ["one", "three"], 20)
        assert failed == ["two"]

        await account.reconnect(core)
        await eventually(lambda: sorted(bodies(core, account.account_id)) == ["one", "three", "two"], 20)
        await send("four")
        await eventually(lambda: "four" in bodies(core, account.account_id), 20)
        assert sorted(bodies(core, account.account_id)) == ["four", "one", "three", "two"], "each once"

    # A restart (a new core on the same profile) resumes from the stored position: nothing again.
    async with account.running() as core:
        await send("five")
        await eventually(lambda: "five" in bodies(core, account.account_id), 20)
        assert sorted(bodies(core, account.account_id)) == ["five", "four", "one", "three", "two"]


async def test_xmpp_a_message_whose_commit_failed_is_fetched_again_from_the_archive(
    xmpp_harness: XmppHarness, tmp_path: Path, keyring_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    jid, password = await xmpp_harness.new_user()
    peer = await xmpp_harness.new_peer()
    config = AccountConfig(
        id="",
        protocol="xmpp",
        address=jid,
        server=xmpp_harness.server.starttls_address,
        ca_file=str(xmpp_harness.certs.ca_file),
    )

    async def send(body: str) -> None:
        await peer.send(jid, body)

    async with live_account(tmp_path, config, password) as account:
        await lose_one_commit(account, monkeypatch, send)


async def test_matrix_a_message_whose_commit_failed_is_synced_again(
    matrix_harness: MatrixHarness, tmp_path: Path, keyring_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await matrix_harness.new_matrix_user()
    peer = await matrix_harness.new_peer()
    await matrix_harness.make_contacts(user.user_id, peer.address)
    config = AccountConfig(
        id="",
        protocol="matrix",
        address=user.user_id,
        server=matrix_harness.server.url,
        allow_plaintext=True,
        options={"encryption": "false"},
    )

    async def send(body: str) -> None:
        await peer.send(user.user_id, body)

    async with live_account(tmp_path, config, user.password) as account:
        await lose_one_commit(account, monkeypatch, send)
