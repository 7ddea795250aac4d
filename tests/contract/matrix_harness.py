"""The contract harness for Matrix: the session's Synapse, fresh users per test, plain nio peers.

The ``matrix_harness`` fixture lives in ``tests/servers/synapse_fixtures.py`` (a registered plugin), so
that the contract conftest needs nothing but ``"matrix"`` in ``HARNESSES``.

"Contacts" on Matrix are a shared direct-chat room: ``make_contacts`` creates one as the first user
(``is_direct``, the second invited), joins the second user to it over the API and records it in both
users' ``m.direct``, as two real clients would after the invitee accepted. That stands in for the user
accepting the invitation (the adapter reports it as ``SubscriptionRequested`` and joins only on
``answer_subscription``).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import nio

from aggregator.api import AccountSettings, PresenceKind, ProtocolInfo
from protocols.matrix import PROTOCOL
from protocols.matrix.mapping import PRESENCE_OUT
from tests.contract.harness import ContractHarness, Peer, unused_tcp_port
from tests.servers.synapse import MatrixUser, SynapseServer

PEER_SYNC_TIMEOUT_MS = 10_000


class MatrixPeer:
    """A plain nio client (no adapter, no encryption) that joins every invitation it gets."""

    def __init__(self, harness: MatrixHarness, user: MatrixUser, client: Any) -> None:
        self.address = user.user_id
        self.handle = PROTOCOL.normalize_handle(user.user_id)
        self.user = user
        self.client = client
        self.harness = harness
        self.events: list[tuple[str, Any]] = []  # (room id, nio event) of every timeline event seen
        self._messages: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._seen: set[str] = set()
        self._presence = "online"
        self._synced = asyncio.Event()
        self._task = asyncio.create_task(self._sync_loop(), name=f"matrix peer {user.user_id}")

    @classmethod
    async def login(cls, harness: MatrixHarness, user: MatrixUser) -> MatrixPeer:
        config = nio.AsyncClientConfig(max_timeouts=0, encryption_enabled=False)
        client = nio.AsyncClient(harness.server.url, user.user_id, config=config)
        client.restore_login(user.user_id, user.device_id, user.access_token)  # the registration's device
        peer = cls(harness, user, client)
        async with asyncio.timeout(15):
            await peer._synced.wait()
        return peer

    async def _sync_loop(self) -> None:
        first = True
        while True:
            reply = await self.client.sync(
                timeout=0 if first else PEER_SYNC_TIMEOUT_MS, full_state=first or None, set_presence=self._presence
            )
            if not isinstance(reply, nio.SyncResponse):
                await asyncio.sleep(0.1)
                continue
            for room_id in reply.rooms.invite:
                await self.client.join(room_id)
            for room_id, info in reply.rooms.join.items():
                for event in info.timeline.events:
                    self.events.append((room_id, event))
                    if (
                        isinstance(event, nio.RoomMessage)
                        and event.sender != self.user.user_id
                        and event.event_id not in self._seen
                    ):
                        self._seen.add(event.event_id)
                        body = event.source.get("content", {}).get("body")
                        self._messages.put_nowait((event.sender, body))
            first = False
            self._synced.set()

    async def direct_room(self, to: str) -> str:
        """A room this peer shares with ``to`` alone; made (and joined as ``to``) if there is none."""
        joined = await self.client.joined_rooms()
        for room_id in getattr(joined, "rooms", []):
            members = await self.client.joined_members(room_id)
            ids = {member.user_id for member in getattr(members, "members", [])}
            if ids == {self.user.user_id, to}:
                return str(room_id)
        return await self.harness.make_direct_room(self.user.user_id, to)

    async def send(self, to: str, body: str) -> None:
        room_id = await self.direct_room(PROTOCOL.normalize_address(to))
        reply = await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body})
        assert isinstance(reply, nio.RoomSendResponse), reply

    async def next_message(self, timeout: float = 10) -> tuple[str, str]:
        async with asyncio.timeout(timeout):
            return await self._messages.get()

    async def set_presence(self, kind: PresenceKind, status: str) -> None:
        self._presence = PRESENCE_OUT[kind]
        reply = await self.client.set_presence(self._presence, status)
        assert isinstance(reply, nio.PresenceSetResponse), reply

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task
        with contextlib.suppress(Exception):
            await self.client.close()


class MatrixHarness:
    """``ContractHarness`` over the session's Synapse."""

    info: ProtocolInfo = PROTOCOL

    def __init__(self, server: SynapseServer, data_root: Path) -> None:
        self.server = server
        self.users: dict[str, MatrixUser] = {}
        self.data_root = data_root
        self._peers: list[MatrixPeer] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls, server: SynapseServer) -> AsyncIterator[MatrixHarness]:
        data_root = Path(tempfile.mkdtemp(prefix="matrix-harness-"))
        harness = cls(server, data_root)
        try:
            yield harness
        finally:
            for peer in harness._peers:
                await peer.close()
            shutil.rmtree(data_root, ignore_errors=True)

    async def new_matrix_user(self, prefix: str = "user") -> MatrixUser:
        user = await self.server.new_user(prefix)
        self.users[user.user_id] = user
        return user

    async def new_user(self) -> tuple[str, str]:
        user = await self.new_matrix_user()
        return user.user_id, user.password

    def data_dir(self, account_id: str) -> Path:
        """A per-account data directory (crypto store, sync token), the same for every call."""
        return self.data_root / quote(account_id, safe="")

    def settings(self, account_id: str, address: str) -> AccountSettings:
        return AccountSettings(
            account_id, address, server=self.server.url, allow_plaintext=True, data_dir=self.data_dir(account_id)
        )

    def unreachable_settings(self, account_id: str, address: str) -> AccountSettings:
        server = f"http://127.0.0.1:{unused_tcp_port()}"
        return AccountSettings(account_id, address, server=server, allow_plaintext=True)

    async def new_peer(self) -> MatrixPeer:
        peer = await MatrixPeer.login(self, await self.new_matrix_user("peer"))
        self._peers.append(peer)
        return peer

    async def make_contacts(self, a: str, b: str) -> None:
        await self.make_direct_room(a, b)

    async def make_direct_room(self, a: str, b: str, *, encrypted: bool = False) -> str:
        """A direct chat created by ``a`` with ``b`` invited and joined, in both users' ``m.direct``."""
        user_a, user_b = self.users[a], self.users[b]
        body: dict[str, Any] = {"preset": "trusted_private_chat", "is_direct": True, "invite": [b]}
        if encrypted:
            body["initial_state"] = [
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            ]
        created = await self.server.request("POST", "/_matrix/client/v3/createRoom", body, user_a.access_token)
        room_id: str = created["room_id"]
        await self.server.request("POST", f"/_matrix/client/v3/join/{quote(room_id)}", {}, user_b.access_token)
        for me, other in ((user_a, b), (user_b, a)):
            path = f"/_matrix/client/v3/user/{quote(me.user_id)}/account_data/m.direct"
            try:
                current = await self.server.request("GET", path, None, me.access_token)
            except Exception:  # M_NOT_FOUND: no direct chats yet
                current = {}
            current[other] = [*current.get(other, []), room_id]
            await self.server.request("PUT", path, current, me.access_token)
        return room_id


if TYPE_CHECKING:  # mypy checks that the classes implement the harness protocols

    def _conforms(harness: MatrixHarness, peer: MatrixPeer) -> tuple[ContractHarness, Peer]:
        return harness, peer
