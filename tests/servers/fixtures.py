"""Session-scoped server fixtures. Register with ``pytest_plugins = ["tests.servers.fixtures"]``.

A server that is missing or does not start FAILS the tests that need it (never skips), with the
reason and the tail of the server's log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.servers.certs import CertificateSetupError, TestCerts, make_test_certs
from tests.servers.prosody import ProsodyError, ProsodyServer

if TYPE_CHECKING:
    from tests.contract.xmpp_harness import XmppHarness


@pytest.fixture(scope="session")
def test_certs(tmp_path_factory: pytest.TempPathFactory) -> TestCerts:
    """A test CA and a leaf for localhost, conference.localhost, upload.localhost and 127.0.0.1."""
    try:
        return make_test_certs(tmp_path_factory.mktemp("certs"))
    except CertificateSetupError as exc:
        pytest.fail(f"cannot make the test certificates: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def prosody(tmp_path_factory: pytest.TempPathFactory, test_certs: TestCerts) -> Iterator[ProsodyServer]:
    """A running Prosody for the whole session; tests make their own users with ``new_user()``."""
    try:
        server = ProsodyServer(tmp_path_factory.mktemp("prosody"), test_certs)
        server.start()
    except ProsodyError as exc:
        pytest.fail(f"cannot start Prosody: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def running_prosody(prosody: ProsodyServer) -> ProsodyServer:
    """``prosody``, started again if an earlier test stopped it (e.g. a reconnect test that failed midway)."""
    if not prosody.running:
        try:
            prosody.start()
        except ProsodyError as exc:
            pytest.fail(f"cannot restart Prosody: {exc}", pytrace=False)
    return prosody


@pytest.fixture
async def xmpp_harness(running_prosody: ProsodyServer, test_certs: TestCerts) -> AsyncIterator[XmppHarness]:
    """The contract harness for XMPP (``tests/contract``), over the session's Prosody."""
    from tests.contract.xmpp_harness import XmppHarness  # imports slixmpp only for the tests that need it

    async with XmppHarness.started(running_prosody, test_certs) as harness:
        yield harness
