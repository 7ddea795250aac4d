"""IRC contacts on the session's InspIRCd: presence of added nicks through MONITOR (and ISON where a server
has no MONITOR), the contact and ignore lists kept across restarts, ignored nicks' messages, notices and
invitations dropped, and channel invitations."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from aggregator.api import (
    ConversationKey,
    Credentials,
    InvitedToRoom,
    MessageReceived,
    PresenceChanged,
    PresenceKind,
    RoomJoined,
    RosterItemChanged,
    RosterItemRemoved,
    RosterSnapshot,
    SupportsBlocking,
    SupportsInvitations,
    SupportsRosterEdit,
)
from protocols.irc.adapter import IrcAdapter
from protocols.irc.client import IrcClient
from protocols.irc.message import IrcMessage
from tests.contract.irc_harness import IrcHarness, IrcPeer
from tests.contract.sink import EventCollector
from tests.servers.irc import IrcServer

Made = tuple[IrcAdapter, EventCollector]
NewAdapter = Callable[..., Awaitable[Made]]


@pytest.fixture
async def new_adapter(irc_harness: IrcHarness, tmp_path: Path) -> AsyncIterator[NewAdapter]:
    """``await new_adapter(nick=None, **options)``: a connected adapter with a data directory; the same
    nick again gets the same data directory (a restart)."""
    made: list[IrcAdapter] = []
    passwords: dict[str, str] = {}

    async def make(nick: str | None = None, **options: str) -> Made:
        if nick is None:
            nick, passwords[nick] = await irc_harness.new_user()
        settings = replace(irc_harness.settings(f"irc:{nick}", nick, **options), data_dir=tmp_path / nick)
        sink = EventCollector()
        adapter = IrcAdapter(settings, sink)
        made.append(adapter)
        await adapter.connect(Credentials(passwords[nick]))
        return adapter, sink

    yield make
    for adapter in made:
        await adapter.disconnect()


async def _wait_presence(sink: EventCollector, handle: str, kind: PresenceKind, after: int = 0) -> None:
    """Waits for a presence of ``handle`` of ``kind`` among the presence events after the first ``after``."""

    def matches(event: PresenceChanged) -> bool:
        later = sink.of_type(PresenceChanged)[after:]
        return event in later and event.handle == handle and event.presence.kind is kind

    await sink.wait_for(PresenceChanged, matches)


async def _marker(irc_harness: IrcHarness, adapter: IrcAdapter, sink: EventCollector, body: str) -> None:
    """Another peer writes ``body`` and it arrives: what reached the server before has come too."""
    other = await irc_harness.new_peer()
    await other.send(adapter._nick, body)
    await sink.wait_for(MessageReceived, lambda e: e.body == body)


async def test_an_added_nick_is_followed_with_monitor_as_it_comes_and_goes(
    irc_harness: IrcHarness, irc_server: IrcServer, new_adapter: NewAdapter
) -> None:
    adapter, sink = await new_adapter()
    assert all(isinstance(adapter, kind) for kind in (SupportsRosterEdit, SupportsBlocking, SupportsInvitations))
    assert adapter._client is not None and adapter._client.supports_monitor, "the test server offers MONITOR"
    bob = await irc_harness.new_peer()
    await adapter.add_contact(bob.address, name="Bob")
    item = await sink.wait_for(RosterItemChanged)
    assert (item.item.handle, item.item.name) == (bob.handle, "Bob")
    await _wait_presence(sink, bob.handle, PresenceKind.AVAILABLE)

    await bob.close()
    await _wait_presence(sink, bob.handle, PresenceKind.OFFLINE)
    seen = len(sink.of_type(PresenceChanged))
    again = await IrcPeer.connect(irc_server, bob.address)
    try:
        await _wait_presence(sink, bob.handle, PresenceKind.AVAILABLE, after=seen)
    finally:
        await again.close()


async def test_contacts_are_kept_across_a_restart_and_removed(irc_harness: IrcHarness, new_adapter: NewAdapter) -> None:
    adapter, sink = await new_adapter()
    bob = await irc_harness.new_peer()
    await adapter.add_contact(bob.address)
    await adapter.disconnect()

    again, sink = await new_adapter(adapter._nick)
    snapshot = await sink.wait_for(RosterSnapshot)
    assert [item.handle for item in snapshot.items] == [bob.handle]
    await _wait_presence(sink, bob.handle, PresenceKind.AVAILABLE)  # MONITOR sent again on connect

    await again.remove_contact(bob.address)
    assert (await sink.wait_for(RosterItemRemoved)).handle == bob.handle
    await again.disconnect()
    _, sink = await new_adapter(adapter._nick)
    assert (await sink.wait_for(RosterSnapshot)).items == ()


async def test_without_monitor_presence_comes_from_ison(
    irc_harness: IrcHarness, new_adapter: NewAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(IrcClient, "supports_monitor", property(lambda _self: False))
    adapter, sink = await new_adapter(ison_interval="0.2")
    bob = await irc_harness.new_peer()
    await adapter.add_contact(bob.address)
    await _wait_presence(sink, bob.handle, PresenceKind.AVAILABLE)
    await bob.close()
    await _wait_presence(sink, bob.handle, PresenceKind.OFFLINE)


async def test_an_ignored_nick_reaches_us_no_more(irc_harness: IrcHarness, new_adapter: NewAdapter) -> None:
    adapter, sink = await new_adapter()
    mallory = await irc_harness.new_peer()
    channel = f"#ign-{secrets.token_hex(3)}"
    await mallory.join(channel)
    room = await adapter.join_room(channel)
    await mallory.send(adapter._nick, "before")
    await sink.wait_for(MessageReceived, lambda e: e.body == "before")

    await adapter.block(mallory.address)
    assert await adapter.blocked() == (mallory.handle,)
    await mallory.send(adapter._nick, "private while ignored")
    await mallory.send(channel, "in the channel while ignored")
    mallory.write([IrcMessage("NOTICE", (adapter._nick, "a notice while ignored"))])
    elsewhere = f"#ign-{secrets.token_hex(3)}"  # an invitation to a channel we are in is refused
    await mallory.join(elsewhere)
    mallory.write([IrcMessage("INVITE", (adapter._nick, elsewhere))])
    await mallory.sync()
    await _marker(irc_harness, adapter, sink, "marker")
    bodies = [e.body for e in sink.of_type(MessageReceived)]
    assert not [body for body in bodies if "ignored" in body], bodies
    assert not sink.of_type(InvitedToRoom)

    await adapter.unblock(mallory.address)
    assert await adapter.blocked() == ()
    await mallory.send(channel, "heard again")
    heard = await sink.wait_for(MessageReceived, lambda e: e.body == "heard again")
    assert heard.conversation == room


async def test_the_ignore_list_is_kept_across_a_restart(irc_harness: IrcHarness, new_adapter: NewAdapter) -> None:
    adapter, _ = await new_adapter()
    mallory = await irc_harness.new_peer()
    await adapter.block(mallory.address)
    await adapter.disconnect()
    again, sink = await new_adapter(adapter._nick)
    assert await again.blocked() == (mallory.handle,)
    await mallory.send(again._nick, "still ignored")
    await _marker(irc_harness, again, sink, "marker after the restart")
    assert "still ignored" not in [e.body for e in sink.of_type(MessageReceived)]


async def test_a_channel_invitation_is_joined_on_accept(irc_harness: IrcHarness, new_adapter: NewAdapter) -> None:
    adapter, sink = await new_adapter()
    bob = await irc_harness.new_peer()
    channel = f"#Inv-{secrets.token_hex(3)}"
    await bob.join(channel)
    bob.write([IrcMessage("INVITE", (adapter._nick, channel))])
    invited = await sink.wait_for(InvitedToRoom)
    room = ConversationKey.room(adapter._account_id, channel.lower())
    assert (invited.room, invited.inviter, invited.room_name) == (room.handle, bob.handle, channel)

    assert await adapter.answer_invitation(invited.room, accept=True) == room
    assert [e.conversation for e in sink.of_type(RoomJoined)] == [room]
    await bob.send(channel, "welcome in")
    message = await sink.wait_for(MessageReceived, lambda e: e.body == "welcome in")
    assert message.conversation == room
