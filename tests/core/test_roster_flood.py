"""A roster flood (issue 13, defect 6): thousands of roster pushes, then a message queued behind them.

Each push must cost the same whatever the roster's size already is (it used to read every contact of
the account, so 4,000 pushes took minutes and the message behind them waited). The work is counted,
not timed: the SQLite virtual machine's steps (a progress handler) and the Python calls (a profile
hook) of 200 pushes onto a roster of 4,000, against those of the first 200.
"""

from __future__ import annotations

import asyncio
import contextlib

from aggregator.events import ConnectionState, MessageStored
from tests.core.conftest import CoreWorld
from tests.core.work_count import Work, counting

FLOOD = 4000
SAMPLE = 200
#: A push onto 4,000 contacts may cost a little more than one onto none (deeper indexes); it used to
#: cost about 20 times as much.
MAX_GROWTH = 1.5


async def _flood(world: CoreWorld, contacts: list[str], body: str, *, counted: bool = True) -> Work:
    """Pushes the roster items of ``contacts`` not on the roster yet, then a message; counts the work
    (when ``counted``) until the message is stored."""
    assert world.core is not None
    stored = asyncio.Event()

    def on_stored(event: MessageStored) -> None:
        if event.message.body == body:
            stored.set()

    world.core.bus.subscribe(MessageStored, on_stored)
    with counting(world.core) if counted else contextlib.nullcontext(Work()) as work:
        world.server.set_roster(world.alice, contacts)
        await world.server.deliver(world.bob, world.alice, body)
        await asyncio.wait_for(stored.wait(), timeout=120)
    return work


async def test_a_message_behind_a_roster_flood_is_stored_and_a_push_costs_the_same_on_a_big_roster(
    world: CoreWorld,
) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    roster = [world.bob]

    roster += [f"first{i}@fake.test" for i in range(SAMPLE)]
    small = await _flood(world, roster, "behind the first pushes")
    roster += [f"flood{i}@fake.test" for i in range(FLOOD - SAMPLE)]
    await _flood(world, roster, "behind the flood", counted=False)
    roster += [f"last{i}@fake.test" for i in range(SAMPLE)]
    big = await _flood(world, roster, "behind the last pushes")

    assert len([p for p in core.roster.directory.persons() if p.contacts[0].in_roster]) == FLOOD + SAMPLE + 1
    assert big.sqlite_steps < MAX_GROWTH * small.sqlite_steps, (small, big)
    assert big.python_calls < MAX_GROWTH * small.python_calls, (small, big)
