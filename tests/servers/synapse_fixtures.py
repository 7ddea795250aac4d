"""Session-scoped Synapse fixtures. Registered in ``tests/conftest.py`` (``pytest_plugins``).

Synapse missing or not starting FAILS the tests that need it (never skips), with the log tail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.servers.synapse import SynapseError, SynapseServer

if TYPE_CHECKING:
    from tests.contract.matrix_harness import MatrixHarness


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    """A running Synapse for the whole session; tests make their own users with ``new_user()``."""
    try:
        server = SynapseServer(tmp_path_factory.mktemp("synapse"))
        server.start()
    except SynapseError as exc:
        pytest.fail(f"cannot start Synapse: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def running_synapse(synapse: SynapseServer) -> SynapseServer:
    """``synapse``, started again if an earlier test stopped it (e.g. an outage test that failed midway)."""
    if not synapse.running:
        try:
            synapse.start()
        except SynapseError as exc:
            pytest.fail(f"cannot restart Synapse: {exc}", pytrace=False)
    return synapse


@pytest.fixture
async def matrix_harness(running_synapse: SynapseServer) -> AsyncIterator[MatrixHarness]:
    """The contract harness for Matrix (``tests/contract``), over the session's Synapse."""
    from tests.contract.matrix_harness import MatrixHarness  # imports nio only for the tests that need it

    async with MatrixHarness.started(running_synapse) as harness:
        yield harness
