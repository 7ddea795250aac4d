"""Session-scoped InspIRCd + Atheme fixtures (a ``pytest_plugins`` module, like ``fixtures.py``).

A server that is missing or does not start FAILS the tests that need it (never skips), with the
reason and the tail of both logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.servers.certs import TestCerts
from tests.servers.irc import IrcServer, IrcServerError, IrcUser

if TYPE_CHECKING:
    from tests.contract.irc_harness import IrcHarness

#: Accounts registered in parallel at session start (registration costs ~1 s, however many at once).
USER_POOL_SIZE = 40


class IrcUserPool:
    """Pre-registered NickServ accounts; ``take()`` registers a new batch in parallel when empty."""

    def __init__(self, server: IrcServer, users: list[IrcUser]) -> None:
        self.server = server
        self._users = users

    async def take(self) -> IrcUser:
        if not self._users:
            self._users.extend(await self.server.new_users(8))
        return self._users.pop()


@pytest.fixture(scope="session")
def irc_server(tmp_path_factory: pytest.TempPathFactory, test_certs: TestCerts) -> Iterator[IrcServer]:
    """A running InspIRCd + Atheme for the whole session; tests make their own users."""
    try:
        server = IrcServer(tmp_path_factory.mktemp("irc"), test_certs)
        server.start()
    except IrcServerError as exc:
        pytest.fail(f"cannot start InspIRCd + Atheme: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def irc_user_pool(irc_server: IrcServer) -> IrcUserPool:
    try:
        users = asyncio.run(irc_server.new_users(USER_POOL_SIZE))
    except IrcServerError as exc:
        pytest.fail(f"cannot register NickServ accounts: {exc}", pytrace=False)
    return IrcUserPool(irc_server, users)


@pytest.fixture
def running_irc_server(irc_server: IrcServer) -> IrcServer:
    """``irc_server``, started again if an earlier test stopped it."""
    if not irc_server.running:
        try:
            irc_server.start()
        except IrcServerError as exc:
            pytest.fail(f"cannot restart InspIRCd + Atheme: {exc}", pytrace=False)
    return irc_server


@pytest.fixture
async def irc_harness(
    running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts
) -> AsyncIterator[IrcHarness]:
    """The contract harness for IRC (``tests/contract``), over the session's InspIRCd + Atheme."""
    from tests.contract.irc_harness import IrcHarness

    async with IrcHarness.started(running_irc_server, irc_user_pool, test_certs) as harness:
        yield harness
