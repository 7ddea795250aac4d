"""End-to-end encryption upkeep and device trust: the key exchange between syncs, which peers' devices
nio follows, ``DeviceTrustChanged`` for direct-chat peers, and marking a device verified or blocked."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aggregator.api import ConfigurationError, DeviceTrustChanged, TrustLevel
from protocols.matrix import lib, mapping
from protocols.matrix.addresses import normalize_address
from protocols.matrix.lib import Client
from protocols.matrix.session import TRANSPORT_ERRORS, Session
from protocols.matrix.undecrypted import Undecrypted

log = logging.getLogger(__name__)


class Devices:
    def __init__(self, session: Session, roster: Callable[[], set[str]], undecrypted: Undecrypted) -> None:
        self._s = session
        self._roster = roster
        self._undecrypted = undecrypted
        self._trust: dict[str, tuple[TrustLevel, int, int]] = {}  # peer -> what was last reported

    def reset(self) -> None:
        self._trust = {}

    def track(self, peer: str) -> None:
        """Has nio query the devices of a direct-chat peer (it tracks only members of encrypted rooms)."""
        client = self._s.client
        if client is not None and client.encrypted and not client.tracks(peer):
            client.track_users({peer})

    def track_changed(self, client: Client, changed: list[str]) -> None:
        """nio follows device list changes only of members of encrypted rooms; direct-chat peers too."""
        roster = self._roster()
        users = {user for user in changed if user in roster}
        if users:
            client.track_users(users)

    async def housekeeping(self, client: Client) -> None:
        """What nio's ``sync_forever`` does between syncs (send to-device messages, upload, query and
        claim keys), then the room keys to ask our other devices for."""
        try:
            await client.key_upkeep()
            await self._undecrypted.request_keys(client)
        except TRANSPORT_ERRORS:
            raise
        except Exception as exc:
            log.exception("%s: encryption key housekeeping failed", self._s.account_id)
            self._s.warn(f"encryption key exchange failed: {exc!r}")

    def report(self) -> None:
        """``DeviceTrustChanged`` for each direct-chat peer whose devices or their trust changed since the
        last report (of this connection: after a connect every peer is reported again)."""
        client = self._s.client
        if client is None or not client.encrypted:
            return
        for peer in sorted(self._roster()):
            now = mapping.device_trust(client.devices(peer))
            if self._trust.get(peer) == now:
                continue
            self._trust[peer] = now
            trust, devices, verified = now
            self._s.emit(
                DeviceTrustChanged(
                    account_id=self._s.account_id, handle=peer, trust=trust, devices=devices, verified=verified
                )
            )

    def device_ids(self, handle: str) -> list[str]:
        client = self._s.require_client()
        if not client.encrypted:
            return []
        return sorted(lib.device_id_of(d) for d in client.devices(normalize_address(handle)))

    def set_trust(self, handle: str, device_id: str, trust: TrustLevel) -> None:
        client = self._s.require_client()
        if not client.encrypted:
            raise ConfigurationError(f"{self._s.account_id} has no end-to-end encryption")
        device = client.device(normalize_address(handle), device_id)
        if device is None:
            raise ConfigurationError(f"{handle} has no known device {device_id!r}")
        if trust is TrustLevel.VERIFIED:
            client.verify(device)
        elif trust is TrustLevel.BLOCKED:
            client.block(device)
        elif trust is TrustLevel.UNVERIFIED:
            client.unverify(device)
        else:
            raise ConfigurationError(f"a device is verified, unverified or blocked, not {trust.value}")
        self.report()
