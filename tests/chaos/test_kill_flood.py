"""SIGKILL of ``aggregator run --headless`` at a random point of bob's flood, then a restart.

After catch-up alice's archive holds every message the server holds, each once, in order; a new
message from bob still arrives, and alice's ``send`` goes out exactly once.
The kill point (the number of messages stored when the client dies) comes from the seed.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time

import pytest

from tests.chaos.seeds import rng, seed_params
from tests.chaos.sides import (
    DELIVERY_TIMEOUT,
    IrcSide,
    Side,
    assert_keeps_working,
    bodies_of,
    irc_side,
    matrix_side,
    stored_lines,
    wait_for,
    xmpp_side,
)
from tests.cli.conftest import Profile
from tests.servers.certs import TestCerts
from tests.servers.irc import IrcServer
from tests.servers.irc_fixtures import IrcUserPool
from tests.servers.prosody import ProsodyServer
from tests.servers.synapse import SynapseServer

log = logging.getLogger(__name__)

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]

#: Messages in bob's flood per protocol (IRC: the channel replay holds 50 lines).
FLOOD = {"xmpp": 300, "irc": 45, "matrix": 80}
#: Catch-up after the restart may take this long in all; the test calls a message lost once the history
#: is still incomplete and has not grown for ``STALL_TIMEOUT`` seconds (or at the cap).
CATCH_UP_TIMEOUT = 90.0
STALL_TIMEOUT = 15.0


async def kill_during_flood(profile: Profile, side: Side, seed: int) -> None:
    n = FLOOD[side.name]
    assert n <= side.max_flood
    tag = f"{side.name}-{seed}"
    bodies = [f"flood {tag} {i:04d}" for i in range(n)]
    chance = rng(seed, f"flood-{side.name}")
    sent_before = chance.randint(max(2, n // 10), n * 9 // 10)  # bob's messages sent before the kill
    kill_at = chance.randint(max(1, sent_before // 2), sent_before)  # alice dies once she stored this many

    headless = await side.start(profile)
    mark = len(headless.lines)
    first = asyncio.create_task(side.flood(bodies[:sent_before]))
    try:
        await wait_for(
            lambda: len(stored_lines(headless, mark)) >= kill_at or not headless.running,
            f"{kill_at} messages stored",
            DELIVERY_TIMEOUT + n / 10,
        )
        await headless.kill()  # SIGKILL
        stored_before = len(stored_lines(headless, mark))
        async with asyncio.timeout(DELIVERY_TIMEOUT + n / 10):
            await first
    finally:
        first.cancel()
    await side.flood(bodies[sent_before:])  # while alice is down: the server acknowledged every message
    restarted = time.monotonic()
    headless = await side.start(profile)
    deadline, grew, seen = restarted + CATCH_UP_TIMEOUT, restarted, -1
    while True:
        history = [b for b in bodies_of(await profile.history(side.conversation)) if b.startswith("flood ")]
        now = time.monotonic()
        if len(history) != seen:
            grew, seen = now, len(history)
        if set(history) >= set(bodies) or now > deadline or now - grew > STALL_TIMEOUT:
            break
        await asyncio.sleep(0.2)
    recovered = time.monotonic() - restarted
    missing = [b for b in bodies if b not in set(history)]
    doubled = [b for b, k in collections.Counter(history).items() if k > 1]
    log.info(
        "chaos flood %s seed %d: %d messages, killed after %d stored, restart to complete history %.1f s",
        side.name, seed, n, stored_before, recovered,
    )  # fmt: skip
    assert not missing, (
        f"{len(missing)} of {n} messages the server holds are not in the archive after the restart "
        f"(killed after {stored_before} stored): {missing[:3]}...{missing[-3:]}"
    )
    assert not doubled, f"stored twice: {doubled[:5]}"
    assert history == bodies, f"the archive has the flood out of order: {history}"

    await assert_keeps_working(profile, side, tag)
    # Nothing from the catch-up arrived late and twice while the client went on working.
    history = [b for b in bodies_of(await profile.history(side.conversation)) if b.startswith("flood ")]
    assert history == bodies
    assert headless.running
    assert await headless.stop() == 0


@pytest.mark.parametrize("seed", seed_params())
async def test_xmpp_sigkill_during_a_flood_loses_nothing_the_server_archived(
    profile: Profile, running_prosody: ProsodyServer, seed: int
) -> None:
    async with xmpp_side(profile, running_prosody) as side:
        await kill_during_flood(profile, side, seed)


@pytest.mark.parametrize("seed", seed_params())
async def test_irc_sigkill_during_a_flood_loses_nothing_the_channel_replays(
    profile: Profile, running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts, seed: int
) -> None:
    async with irc_side(profile, running_irc_server, irc_user_pool, test_certs) as side:
        assert isinstance(side, IrcSide)
        await kill_during_flood(profile, side, seed)


@pytest.mark.parametrize("seed", seed_params())
async def test_matrix_sigkill_during_a_flood_loses_nothing_the_room_holds(
    profile: Profile, running_synapse: SynapseServer, seed: int
) -> None:
    async with matrix_side(profile, running_synapse) as side:
        await kill_during_flood(profile, side, seed)
