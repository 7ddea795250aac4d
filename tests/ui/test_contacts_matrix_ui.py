"""A Matrix invitation in the window (issue 15, "How to see it works"), on the session's Synapse: another
person creates a direct chat with us; the request banner shows it at once; Accept joins the chat, and
messages flow both ways through it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.profile import profile_id
from tests.servers.synapse import MatrixUser, SynapseServer
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import core_of, running_session
from tests.ui.xmpp_world import stored_bodies


@pytest.fixture
def matrix_account(gui_world: GuiWorld, running_synapse: SynapseServer) -> Iterator[tuple[MatrixUser, str]]:
    user: MatrixUser = gui_world.on_server(running_synapse.new_user("alice"))
    account_id = make_account_id("matrix", user.user_id)
    AccountStore(gui_world.paths.accounts_file).add(
        AccountConfig(
            id=account_id,
            protocol="matrix",
            address=user.user_id,
            server=running_synapse.url,
            allow_plaintext=True,
            label="Matrix",
        )
    )
    store = SecretStore(profile_id(gui_world.paths))
    store.set_password(account_id, user.password)
    try:
        yield user, account_id
    finally:
        store.delete(account_id)


def test_a_direct_chat_invitation_shows_and_accept_lets_messages_flow_both_ways(
    gui_world: GuiWorld, running_synapse: SynapseServer, matrix_account: tuple[MatrixUser, str], qtbot: QtBot
) -> None:
    alice, account_id = matrix_account
    bob: MatrixUser = gui_world.on_server(running_synapse.new_user("bob"))

    def request(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return gui_world.on_server(running_synapse.request(method, path, body, bob.access_token))

    with running_session(gui_world, qtbot) as s:
        window = s.window
        qtbot.waitUntil(lambda: "connected" in window.accounts_strip.state_text(account_id), timeout=30_000)
        created = request(
            "POST", "/_matrix/client/v3/createRoom",
            {"preset": "trusted_private_chat", "is_direct": True, "invite": [alice.user_id]},
        )  # fmt: skip
        room_id = created["room_id"]
        banner = window.contacts.banner
        qtbot.waitUntil(lambda: bool(banner.rows), timeout=20_000)
        (row,) = banner.rows.values()
        assert bob.user_id in row.label.text() and "(on Matrix)" in row.label.text()
        assert banner.isVisible()

        QTest.mouseClick(row.accept, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not banner.rows, timeout=20_000)

        def joined() -> bool:
            members = request("GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/joined_members")
            return alice.user_id in members["joined"]

        qtbot.waitUntil(joined, timeout=20_000)
        txn = secrets.token_hex(6)
        request(
            "PUT", f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/{txn}",
            {"msgtype": "m.text", "body": "glad you accepted"},
        )  # fmt: skip
        qtbot.waitUntil(lambda: "glad you accepted" in stored_bodies(s, bob.user_id), timeout=20_000)

        core = core_of(s)
        s.engine.call(core.outbound.send(account_id, bob.user_id, "hello Bob"), timeout=20)

        def bob_got_it() -> bool:
            page = request("GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/messages?dir=b&limit=10")
            return any(e.get("content", {}).get("body") == "hello Bob" for e in page["chunk"])

        qtbot.waitUntil(bob_got_it, timeout=20_000)
