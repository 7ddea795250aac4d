"""Contact requests and invitations in the core: kept until answered (also across a restart), told with
the names the views show, declined at once by the policy's allowed_domains, and a blocked peer's messages
dropped by the core itself. The adapter's events are dispatched as an adapter would emit them; the XMPP
flows on a real server are in tests/protocols/xmpp/test_contacts.py and tests/cli/test_contacts.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.api import ContactRef, InvitedToRoom, RequestKind, SubscriptionRequested, UnsupportedError
from aggregator.app.contacts import ContactCommands, RequestOutcome
from aggregator.events import ConnectionState, ContactRequestClosed, ContactRequestReceived
from aggregator.policy.events import PolicyDenied
from tests.core.conftest import CoreWorld, eventually
from tests.core.test_policy import write_policy


async def test_a_request_is_told_with_names_and_still_pending_after_a_restart(world: CoreWorld) -> None:
    core = await world.start()
    told: list[ContactRequestReceived] = []
    core.bus.subscribe(ContactRequestReceived, told.append)
    await core.router.dispatch(
        SubscriptionRequested(
            account_id=world.account_id, handle=world.bob, message="it's Bob from sales", display_name="Bob Barker"
        )
    )
    (event,) = told
    request = event.request
    assert (request.kind, request.handle, request.who) == (RequestKind.CONTACT, world.bob, "Bob Barker")
    assert request.account_label  # the account's name, for "on Work: ..."
    assert request.sentence() == f"Bob Barker ({world.bob}) asks to add you as a contact"
    # Asked twice: still one request.
    await core.router.dispatch(SubscriptionRequested(account_id=world.account_id, handle=world.bob))
    assert len(ContactCommands(core).requests()) == 1
    await world.stop()

    core = await world.start()  # the window was closed when it came: it shows at the next start
    (pending,) = ContactCommands(core).requests()
    assert (pending.handle, pending.id) == (world.bob, request.id)


async def test_answering_needs_the_capability_and_says_which_accounts_lack_it(world: CoreWorld) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await core.router.dispatch(SubscriptionRequested(account_id=world.account_id, handle=world.bob))
    contacts = ContactCommands(core)
    (request,) = contacts.requests()
    with pytest.raises(UnsupportedError) as refused:
        await contacts.accept(request.id)
    assert str(refused.value) == "Fake (testing) accounts cannot answer contact requests"
    with pytest.raises(UnsupportedError, match="Fake \\(testing\\) accounts cannot block anyone"):
        await contacts.block(ContactRef(world.account_id, world.bob))
    with pytest.raises(UnsupportedError, match="cannot add contacts"):
        await contacts.add(world.account_id, "carol@fake.test")
    assert contacts.requests() == [request]  # unanswered: still there


async def test_outside_the_allowed_domains_a_request_is_declined_at_once_and_told(
    world: CoreWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_policy(tmp_path, monkeypatch, '[rules.work]\nallowed_domains = ["corp.example"]\n')
    core = await world.start()
    closed: list[ContactRequestClosed] = []
    denied: list[PolicyDenied] = []
    core.bus.subscribe(ContactRequestClosed, closed.append)
    core.bus.subscribe(PolicyDenied, denied.append)
    await core.router.dispatch(SubscriptionRequested(account_id=world.account_id, handle="eve@outside.example"))
    await core.router.dispatch(
        InvitedToRoom(account_id=world.account_id, room="plots@rooms.outside.example", inviter="eve@outside.example")
    )
    assert [c.outcome for c in closed] == [RequestOutcome.DECLINED_BY_POLICY] * 2
    assert "outside.example is outside the allowed domains" in closed[0].reason
    assert closed[1].request.sentence() == "eve@outside.example invites you to the room plots@rooms.outside.example"
    assert [d.event.decision.rule for d in denied] == ["allowed_domains", "allowed_domains"]
    assert ContactCommands(core).requests() == []
    # From inside: kept.
    await core.router.dispatch(SubscriptionRequested(account_id=world.account_id, handle="carol@corp.example"))
    assert [r.handle for r in ContactCommands(core).requests()] == ["carol@corp.example"]


async def test_a_blocked_peers_messages_are_dropped_by_the_core(world: CoreWorld) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    bob = ContactRef(world.account_id, world.bob)
    await core.router.dispatch(SubscriptionRequested(account_id=world.account_id, handle=world.bob))
    core.router.contacts.set_blocked(bob, True)  # what block does in the core, after the adapter's block
    assert ContactCommands(core).requests() == []  # blocking answers their request
    assert ContactCommands(core).blocked() == [bob]
    carol = world.server.add_user("carol@fake.test", "carol-pw")
    await world.server.deliver(world.bob, world.alice, "while blocked")
    await world.server.deliver(carol, world.alice, "carol after it")  # one stream: handled after bob's
    await eventually(lambda: bool(core.archive.conversations_with(carol)))
    await world.drain()
    core.router.contacts.set_blocked(bob, False)
    await world.server.deliver(world.bob, world.alice, "after unblocking")

    def bodies() -> list[str]:
        return [m.body for m in core.archive.history(core.archive.conversations_with(world.bob))]

    await eventually(lambda: "after unblocking" in bodies())
    assert bodies() == ["after unblocking"]
    await world.stop()
    core = await world.start()
    assert ContactCommands(core).blocked() == []
