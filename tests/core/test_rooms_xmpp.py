"""The room directory against the session's real Prosody: an XMPP account with ``autojoin`` joins the
room after it connects, and what another client says in the room is archived under that room."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import ConversationKey, ConversationKind
from aggregator.archive import Direction
from aggregator.bootstrap import build_core
from aggregator.events import ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from tests.contract.xmpp_harness import XmppHarness, XmppPeer, server_round_trip
from tests.core.conftest import eventually


async def join_as(peer: XmppPeer, room: str, nick: str) -> None:
    """The peer (a plain slixmpp client) enters the room; returns once the room confirmed it."""
    joined: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_presence(stanza: Any) -> None:
        if str(stanza["from"]) == f"{room}/{nick}" and not joined.done():
            joined.set_result(None)

    peer.client.add_event_handler("presence", on_presence)
    peer.send_raw(f"<presence to='{room}/{nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
    async with asyncio.timeout(15):
        await joined


async def test_autojoined_room_is_joined_after_connect_and_its_messages_archived(
    xmpp_harness: XmppHarness, tmp_path: Path, keyring_env: None
) -> None:
    harness = xmpp_harness
    jid, password = await harness.new_user()
    room = f"rooms-{secrets.token_hex(4)}@{harness.server.muc_domain}"
    paths = ProfilePaths.resolve(tmp_path / "home")
    paths.ensure()
    account_id = make_account_id("xmpp", jid)
    AccountStore(paths.accounts_file).add(
        AccountConfig(
            id=account_id,
            protocol="xmpp",
            address=jid,
            server=harness.server.starttls_address,
            ca_file=str(harness.certs.ca_file),
            options={"autojoin": f"{room}/Alice"},
        )
    )
    secrets_store = SecretStore(profile_id(paths))
    secrets_store.set_password(account_id, password)
    core = build_core(paths, backoff_factory=lambda: Backoff(initial=0.1, cap=1.0))
    key = ConversationKey.room(account_id, room)
    try:
        await core.start()
        supervisor = core.accounts.supervisor(account_id)
        assert supervisor is not None
        await supervisor.wait_for_state(ConnectionState.CONNECTED, timeout=30)
        await eventually(lambda: (r := core.rooms.room(key)) is not None and r.joined and r.nick == "Alice", 20)
        await core.rooms.wait_idle()  # the service joined it (the adapter never joins on its own)

        peer = await harness.new_peer()
        await join_as(peer, room, "Bob")
        await eventually(lambda: (r := core.rooms.room(key)) is not None and r.members == ("Alice", "Bob"), 15)
        peer.send_raw(f"<message to='{room}' type='groupchat'><body>hello from bob</body></message>")
        await server_round_trip(peer.client)
        await eventually(lambda: any(m.body == "hello from bob" for m in core.rooms.history(key)), 15)
        (message,) = [m for m in core.rooms.history(key) if m.body == "hello from bob"]
        assert message.conversation.kind is ConversationKind.ROOM and message.conversation.handle == room
        assert message.direction is Direction.IN and message.sender_name == "Bob"
        assert message.server_id  # the room's stanza-id: a rejoin's history is deduplicated against it
        room_state = core.rooms.room(key)
        assert room_state is not None and room_state.autojoin and room_state.error == ""
    finally:
        await core.stop()
        core.close()
        secrets_store.delete(account_id)
