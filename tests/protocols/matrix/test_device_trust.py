"""Device trust of direct-chat peers against a real Synapse: reported after the key query, again after each
connect, only when it changes, and following the user's verification of a device."""

from __future__ import annotations

import itertools
import secrets
from pathlib import Path
from urllib.parse import quote

import nio

from aggregator.api import DeviceTrustChanged, MessageReceived, TrustLevel
from tests.contract.matrix_harness import MatrixHarness, MatrixPeer
from tests.protocols.matrix.conftest import NewClient
from tests.protocols.matrix.test_adapter import _E2E_CONFIG
from tests.servers.synapse import MatrixUser

TIMEOUT = 20.0


async def test_a_peer_with_an_encryption_device_is_unverified_until_the_user_verifies_it(
    harness: MatrixHarness, new_client: NewClient, tmp_path: Path
) -> None:
    client = await new_client()
    user = await harness.new_matrix_user("e2e")
    peer_id = user.user_id
    peer = await _device(harness, user, tmp_path / "first", "phone")
    try:
        # An unencrypted direct chat: the adapter still asks for the peer's devices.
        room_id = await harness.make_direct_room(peer_id, client.user_id)
        trust = await client.sink.wait_for(DeviceTrustChanged, lambda e: e.handle == peer_id, timeout=TIMEOUT)
        if trust.trust is TrustLevel.NONE:  # reported before the key query was answered
            trust = await client.sink.wait_for(
                DeviceTrustChanged, lambda e: e.handle == peer_id and e.devices > 0, timeout=TIMEOUT
            )
        assert (trust.trust, trust.devices, trust.verified) == (TrustLevel.UNVERIFIED, 1, 0)
        assert trust.account_id == client.settings.account_id
        assert client.adapter.device_ids(peer_id) == [peer.device_id]

        client.adapter.set_device_trust(peer_id, peer.device_id, TrustLevel.VERIFIED)
        verified = await client.sink.wait_for(
            DeviceTrustChanged, lambda e: e.handle == peer_id and e.trust is TrustLevel.VERIFIED
        )
        assert (verified.devices, verified.verified) == (1, 1)
        # A message in a later sync: a repeated report (of a sync or a key query before it) would be in first.
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/{secrets.token_hex(8)}"
        await harness.server.request("PUT", path, {"msgtype": "m.text", "body": "marker"}, peer.access_token)
        await client.sink.wait_for(MessageReceived, lambda e: e.body == "marker", timeout=TIMEOUT)
        reports = client.sink.of_type(DeviceTrustChanged, lambda e: e.handle == peer_id)
        assert all(a != b for a, b in itertools.pairwise(reports)), "reported only on change"

        # A restart reports the trust again (verification is kept in the crypto store).
        tokens = client.tokens()
        await client.adapter.disconnect()
        again = await new_client(connect=False, user=client.user)
        await again.connect(tokens)
        kept = await again.sink.wait_for(DeviceTrustChanged, lambda e: e.handle == peer_id, timeout=TIMEOUT)
        assert kept.trust is TrustLevel.VERIFIED

        # The peer adds a second (unverified) device: partly verified.
        second = await _device(harness, user, tmp_path / "second", "laptop")
        try:
            partly = await again.sink.wait_for(
                DeviceTrustChanged, lambda e: e.handle == peer_id and e.devices == 2, timeout=TIMEOUT
            )
            assert (partly.trust, partly.verified) == (TrustLevel.PARTLY_VERIFIED, 1)
        finally:
            await second.close()
    finally:
        await peer.close()


async def test_a_peer_without_encryption_devices_has_no_trust(new_client: NewClient, peer: MatrixPeer) -> None:
    client = await new_client()
    await peer.harness.make_direct_room(peer.address, client.user_id)
    trust = await client.sink.wait_for(DeviceTrustChanged, lambda e: e.handle == peer.handle, timeout=TIMEOUT)
    assert (trust.trust, trust.devices) == (TrustLevel.NONE, 0)


async def _device(harness: MatrixHarness, user: MatrixUser, store: Path, name: str) -> nio.AsyncClient:
    """A new E2E device of ``user`` (plain nio) with its keys uploaded."""
    store.mkdir(parents=True, exist_ok=True)
    device = nio.AsyncClient(harness.server.url, user.user_id, store_path=str(store), config=_E2E_CONFIG)
    reply = await device.login(user.password, device_name=name)
    assert isinstance(reply, nio.LoginResponse), reply
    await device.sync(timeout=0, full_state=True)
    await device.keys_upload()
    return device
