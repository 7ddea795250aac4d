"""The interface each protocol's test harness implements so that it can run the contract suite.

A harness wraps one running server (the fake server, Prosody, Synapse, InspIRCd...). Every test asks it
for fresh users, so tests never see each other's state even when the server is shared by a session.
"""

from __future__ import annotations

import socket
from typing import Protocol

from aggregator.api import AccountSettings, PresenceKind, ProtocolInfo


class Peer(Protocol):
    """Another user on the same server, online and driven directly by the test (not by an adapter)."""

    #: The peer's address, as ``new_user`` would have returned it.
    address: str
    #: How the adapter under test names this peer: ``info.normalize_handle`` form, e.g. in ``sender``.
    handle: str

    async def send(self, to: str, body: str) -> None:
        """Sends ``body`` in a direct chat to the user with address ``to``; returns once accepted."""

    async def next_message(self, timeout: float = 10) -> tuple[str, str]:
        """(sender, body) of the next message the peer received; ``TimeoutError`` if none came."""

    async def set_presence(self, kind: PresenceKind, status: str) -> None:
        """Sets the peer's own presence as its users would (``AWAY`` with a status, at least)."""

    async def close(self) -> None:
        """Signs the peer off. Harnesses also close the peers they made at the end of a test."""


class ContractHarness(Protocol):
    """One protocol's server, as the contract suite needs it."""

    info: ProtocolInfo

    async def new_user(self) -> tuple[str, str]:
        """A fresh (address, password) registered on the server."""

    def settings(self, account_id: str, address: str) -> AccountSettings:
        """Settings for an account of ``address`` on this server (server, ca_file, plaintext...)."""

    def unreachable_settings(self, account_id: str, address: str) -> AccountSettings:
        """Like ``settings`` but pointing at a loopback port where nothing listens."""

    async def new_peer(self) -> Peer:
        """A fresh user, online, driven by the test."""

    async def make_contacts(self, a: str, b: str) -> None:
        """Makes the users ``a`` and ``b`` see each other's presence (roster, subscription, shared room)."""


def unused_tcp_port(host: str = "127.0.0.1") -> int:
    """A loopback port where nothing listens right now (for ``unreachable_settings``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port
