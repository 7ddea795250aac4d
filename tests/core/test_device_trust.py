"""Device trust per contact: kept from the adapters' ``DeviceTrustChanged`` (in memory), announced when it
changes, and shown by ``aggregator persons`` (JSON field and text mark)."""

from __future__ import annotations

import argparse

import pytest

from aggregator.api import ContactRef, DeviceTrustChanged, TrustLevel
from aggregator.app import persons as commands
from aggregator.cli import persons_cmd
from aggregator.events import ConnectionState
from aggregator.roster.events import ContactTrustChanged
from tests.core.conftest import CoreWorld, eventually


def _contact_json(reply: dict[str, object], ref: ContactRef) -> dict[str, object]:
    persons = reply["persons"]
    assert isinstance(persons, list)
    for person in persons:
        for contact in person["contacts"]:
            if (contact["account"], contact["handle"]) == (ref.account_id, ref.handle):
                assert isinstance(contact, dict)
                return contact
    raise AssertionError(f"no contact {ref}")


async def test_trust_from_the_adapter_is_kept_announced_once_and_shown(
    world: CoreWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    bob = ContactRef(world.account_id, world.bob)
    await eventually(lambda: core.roster.directory.person_of(bob) is not None)
    seen: list[ContactTrustChanged] = []
    core.bus.subscribe(ContactTrustChanged, seen.append)

    # A protocol without E2E never reports trust: "none".
    assert core.roster.trust_of(bob) is TrustLevel.NONE
    assert _contact_json(commands.run(core.roster, {"op": "persons"}), bob)["trust"] == "none"

    unverified = DeviceTrustChanged(
        account_id=world.account_id, handle=world.bob, trust=TrustLevel.UNVERIFIED, devices=2, verified=0
    )
    await core.router.dispatch(unverified)
    await core.router.dispatch(unverified)  # the same again: nothing new to announce
    assert core.roster.trust_of(bob) is TrustLevel.UNVERIFIED
    assert [(e.contact, e.trust, e.devices) for e in seen] == [(bob, TrustLevel.UNVERIFIED, 2)]
    reply = commands.run(core.roster, {"op": "persons"})
    assert _contact_json(reply, bob)["trust"] == "unverified"

    # The text output marks the contact.
    persons_cmd._show(argparse.Namespace(json=False), reply)
    line = next(line for line in capsys.readouterr().out.splitlines() if world.bob in line)
    assert "[unverified devices]" in line

    await core.router.dispatch(
        DeviceTrustChanged(
            account_id=world.account_id, handle=world.bob, trust=TrustLevel.VERIFIED, devices=2, verified=2
        )
    )
    assert core.roster.trust_of(bob) is TrustLevel.VERIFIED
    assert [e.trust for e in seen] == [TrustLevel.UNVERIFIED, TrustLevel.VERIFIED]
    reply = commands.run(core.roster, {"op": "persons"})
    assert _contact_json(reply, bob)["trust"] == "verified"
    persons_cmd._show(argparse.Namespace(json=False), reply)
    line = next(line for line in capsys.readouterr().out.splitlines() if world.bob in line)
    assert "[unverified devices]" not in line and "[verified]" in line

    # A contact the roster has no person for yet keeps its trust until it shows up.
    carol = ContactRef(world.account_id, "carol@fake.test")
    await core.router.dispatch(
        DeviceTrustChanged(account_id=world.account_id, handle=carol.handle, trust=TrustLevel.BLOCKED, devices=1)
    )
    assert core.roster.trust_of(carol) is TrustLevel.BLOCKED
