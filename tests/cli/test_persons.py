"""``aggregator persons``: through a running instance (control socket) and on the archive directly."""

from __future__ import annotations

import json
from typing import Any

from tests.cli.conftest import CountingServer, Profile, Users


def _by_handle(persons: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for p in persons:
        for handle in dict.fromkeys(c["handle"] for c in p["contacts"]):
            found.setdefault(handle, []).append(p)
    return found


async def test_persons_merge_split_and_suggestions(profile: Profile, server: CountingServer, users: Users) -> None:
    alice, bob, carol = users.alice, users.bob, users.carol
    await profile.add(alice, server)
    await profile.add(carol, server)
    await server.set_presence(bob.address, "away", "lunch")
    headless = await profile.headless(connected=alice)
    await headless.wait_state(carol, "connected")

    async def persons() -> list[dict[str, Any]]:
        return list(json.loads((await profile.run("persons", "--json")).ok().stdout))

    listed = await persons()
    bobs = _by_handle(listed)[bob.address]
    assert len(bobs) == 2 and all(p["presence"] == "away" and p["status"] == "lunch" for p in bobs)

    sug = json.loads((await profile.run("persons", "suggestions", "--json")).ok().stdout)
    pair = next(s for s in sug if {s["person"], s["other"]} == {bobs[0]["id"], bobs[1]["id"]})
    assert pair["reason"] == "same_address" and bob.address in pair["text"]

    merged = (await profile.run("persons", "merge", str(pair["person"]), str(pair["other"]))).ok()
    assert "merged into it" in merged.stdout
    listed = await persons()
    (person,) = _by_handle(listed)[bob.address]
    assert [c["account"] for c in person["contacts"]] == [alice.account_id, carol.account_id]
    assert person["presence"] == "away"

    renamed = (await profile.run("persons", "rename", str(person["id"]), "Bob the Builder")).ok()
    assert "Bob the Builder" in renamed.stdout
    await headless.stop()

    # No running instance: straight on the archive. The merge and the alias were kept.
    listed = await persons()
    (person,) = _by_handle(listed)[bob.address]
    assert person["name"] == "Bob the Builder" and len(person["contacts"]) == 2
    ambiguous = await profile.run("persons", "split", bob.address)
    assert "several accounts" in ambiguous.error_line(2)
    (await profile.run("persons", "split", bob.address, "--account", carol.address)).ok()
    assert len(_by_handle(await persons())[bob.address]) == 2
    again = [s for s in json.loads((await profile.run("persons", "suggestions", "--json")).ok().stdout)]
    pair = next(s for s in again if bob.address in s["text"])
    (await profile.run("persons", "reject", str(pair["person"]), str(pair["other"]))).ok()
    after = json.loads((await profile.run("persons", "suggestions", "--json")).ok().stdout)
    assert all(bob.address not in s["text"] for s in after)
    moved = (await profile.run("persons", "move", str(pair["other"]), "work")).ok()
    assert "[work]" in moved.stdout
    text = (await profile.run("persons")).ok().stdout
    assert bob.address in text
    missing = await profile.run("persons", "merge", "999", "998")
    assert "no person 999" in missing.error_line(2)


async def test_persons_local_groups_and_the_grouped_list(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice, bob = users.alice, users.bob
    await profile.add(alice, server)
    headless = await profile.headless(connected=alice)
    listed = json.loads((await profile.run("persons", "--json")).ok().stdout)
    (person,) = _by_handle(listed)[bob.address]
    # Through the running instance.
    grouped = (await profile.run("persons", "group", bob.address, "Friends", "Band")).ok()
    assert str(person["id"]) in grouped.stdout
    await headless.stop()
    # On the archive directly: the groups were kept.
    (person,) = _by_handle(json.loads((await profile.run("persons", "--json")).ok().stdout))[bob.address]
    assert person["groups"] == ["Friends", "Band"]
    (await profile.run("persons", "ungroup", str(person["id"]), "band")).ok()
    lines = (await profile.run("persons")).ok().stdout.splitlines()
    sphere = next(i for i, line in enumerate(lines) if line.startswith("== "))
    assert lines[sphere + 1].strip() == "Friends" and bob.address in "\n".join(lines[sphere + 2 :])
    assert "Band" not in "\n".join(lines)
    missing = await profile.run("persons", "ungroup", str(person["id"]), "Chess")
    assert "not in the group 'Chess'" in missing.error_line(2)
