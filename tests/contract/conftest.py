"""The ``harness`` fixture: every contract test runs once per protocol listed in ``HARNESSES``.

To add a protocol, append its name here and provide a fixture ``<name>_harness`` (in this file or a
plugin) that yields a ``ContractHarness``; it may depend on session-scoped server fixtures, which FAIL
(never skip) when their server cannot be started: a missing server must not hide a broken adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.contract.fake_harness import FakeHarness
from tests.contract.harness import ContractHarness
from tests.contract.sink import EventCollector

HARNESSES = ["fake", "xmpp", "matrix", "irc"]


@pytest.fixture(params=HARNESSES)
def harness(request: pytest.FixtureRequest) -> ContractHarness:
    found: ContractHarness = request.getfixturevalue(f"{request.param}_harness")
    return found


@pytest.fixture
async def fake_harness() -> AsyncIterator[FakeHarness]:
    async with FakeHarness.started() as started:
        yield started


@pytest.fixture
def sink() -> EventCollector:
    return EventCollector()
