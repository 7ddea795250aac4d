"""A GUI world with an XMPP account on the session's Prosody (the ``xmpp`` fixture, registered in
``tests/conftest.py``), for window tests that need a second person on a plain slixmpp client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.profile import profile_id
from tests.contract.xmpp_harness import XmppPeer, login_client, server_round_trip
from tests.servers.prosody import ProsodyServer
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import core_of
from ui.app import Session


@dataclass
class XmppWorld:
    world: GuiWorld
    prosody: ProsodyServer
    alice: str
    alice_password: str
    account_id: str

    def on_loop(self, coro: Any) -> Any:
        return self.world.on_server(coro)

    def peer(self, prefix: str) -> XmppPeer:
        async def make() -> XmppPeer:
            user = await self.prosody.new_user(prefix)
            return XmppPeer(user.jid, await login_client(self.prosody, user.jid, user.password))

        peer: XmppPeer = self.on_loop(make())
        return peer

    def run(self, peer: XmppPeer, fn: Any) -> None:
        async def step() -> None:
            fn()
            await server_round_trip(peer.client)

        self.on_loop(step())


@pytest.fixture
def xmpp(gui_world: GuiWorld, running_prosody: ProsodyServer) -> Iterator[XmppWorld]:
    user = gui_world.on_server(running_prosody.new_user("alice"))
    account_id = make_account_id("xmpp", user.jid)
    AccountStore(gui_world.paths.accounts_file).add(
        AccountConfig(
            id=account_id,
            protocol="xmpp",
            address=user.jid,
            server=running_prosody.starttls_address,
            ca_file=str(running_prosody.certs.ca_file),
            label="Chat",
        )
    )
    secrets = SecretStore(profile_id(gui_world.paths))
    secrets.set_password(account_id, user.password)
    try:
        yield XmppWorld(gui_world, running_prosody, user.jid, user.password, account_id)
    finally:
        secrets.delete(account_id)


def stored_bodies(session: Session, handle: str) -> list[str]:
    core = core_of(session)

    async def read() -> list[str]:
        return [m.body for m in core.archive.history(core.archive.conversations_with(handle))]

    result: list[str] = session.engine.call(read(), timeout=10)
    return result
