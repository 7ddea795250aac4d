"""What a user does with a Matrix account, end to end: the real ``aggregator`` console script in
subprocesses (keyring session), the session's Synapse, and bob as a plain nio client in the test.

Alice joins the direct chat bob starts the way a user would: bob's invitation reaches her headless
client, and her first ``aggregator send`` to bob accepts it (the adapter joins the invited room instead
of starting a second chat). Nothing is joined behind the product's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nio

from tests.cli.conftest import FAST_RECONNECT, Headless, Message, Profile
from tests.contract.harness import unused_tcp_port
from tests.servers.synapse import MatrixUser, SynapseError, SynapseServer

CONNECT_TIMEOUT = 30.0  # generous: the machine's cores are shared with other test runs
DELIVERY_TIMEOUT = 20.0


def account_id(user: MatrixUser) -> str:
    return f"matrix:{user.user_id}"


def state(user: MatrixUser, name: str) -> str:
    return rf"^\S+ {re.escape(account_id(user))}: {name}\b"


async def add_account(
    profile: Profile, synapse: SynapseServer, user: MatrixUser, *, server: str = "", password: str = ""
) -> None:
    args = ["account", "add", "matrix", user.user_id, "--server", server or synapse.url, "--allow-plaintext"]
    result = (await profile.run(*args, "--password-stdin", stdin=(password or user.password) + "\n")).ok()
    assert account_id(user) in result.stdout, str(result)


async def start_headless(profile: Profile, user: MatrixUser, *, verbose: bool = True) -> Headless:
    """``run --headless`` (with ``-v``: the adapter's log lines, e.g. invitations, go to stderr)."""
    profile.global_args = ("-v",) if verbose else ()
    try:
        headless = await profile.headless()
    finally:
        profile.global_args = ()
    await headless.wait_line(state(user, "connected"), timeout=CONNECT_TIMEOUT)
    return headless


async def wait_log(headless: Headless, pattern: str, timeout: float = DELIVERY_TIMEOUT) -> None:
    """Waits for a stderr (log) line of ``headless`` matching ``pattern``."""
    deadline = time.monotonic() + timeout
    while not any(re.search(pattern, line) for line in headless.errors):
        if not headless.running:
            raise AssertionError(f"headless exited before logging /{pattern}/\n{headless.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line /{pattern}/ within {timeout} s\n{headless.output()}")
        await asyncio.sleep(0.05)


def with_bodies(*texts: str) -> Any:
    return lambda messages: all(any(m["body"] == text for m in messages) for text in texts)


def count(messages: list[Message], body: str) -> int:
    return sum(1 for m in messages if m["body"] == body)


@dataclass
class Bob:
    """bob: a plain nio client (no sync loop; unencrypted unless made with ``encrypted_bob``)."""

    user: MatrixUser
    client: Any

    @property
    def address(self) -> str:
        return self.user.user_id

    async def start_direct_chat(self, alice: MatrixUser, *, encrypted: bool = False) -> str:
        initial_state = []
        if encrypted:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        created = await self.client.room_create(
            is_direct=True,
            invite=[alice.user_id],
            preset=nio.RoomPreset.trusted_private_chat,
            initial_state=initial_state,
        )
        assert isinstance(created, nio.RoomCreateResponse), created
        return str(created.room_id)

    async def send(self, room_id: str, body: str) -> str:
        reply = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body}, ignore_unverified_devices=True
        )
        assert isinstance(reply, nio.RoomSendResponse), reply
        return str(reply.event_id)


@contextlib.asynccontextmanager
async def plain_bob(synapse: SynapseServer) -> AsyncIterator[Bob]:
    user = await synapse.new_user("bob")
    client = nio.AsyncClient(synapse.url, user.user_id, config=nio.AsyncClientConfig(encryption_enabled=False))
    client.restore_login(user.user_id, user.device_id, user.access_token)
    try:
        yield Bob(user, client)
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def encrypted_bob(synapse: SynapseServer, store: Path) -> AsyncIterator[Bob]:
    user = await synapse.new_user("bob")
    store.mkdir(parents=True, exist_ok=True)
    config = nio.AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
    client = nio.AsyncClient(synapse.url, user.user_id, store_path=str(store), config=config)
    try:
        assert isinstance(await client.login(user.password, device_name="bob's phone"), nio.LoginResponse)
        await client.sync(timeout=0, full_state=True)
        await client.keys_upload()
        yield Bob(user, client)
    finally:
        await client.close()


async def room_bodies(synapse: SynapseServer, room_id: str, token: str) -> list[str]:
    """The message bodies of the room as the server has them (as bob, oldest first)."""
    path = f"/_matrix/client/v3/rooms/{quote(room_id)}/messages?dir=b&limit=100"
    reply = await synapse.request("GET", path, None, token)
    bodies = [e["content"].get("body") for e in reply["chunk"] if e.get("type") == "m.room.message"]
    return [body for body in reversed(bodies) if isinstance(body, str)]


async def direct_chat(profile: Profile, headless: Headless, alice: MatrixUser, bob: Bob, first: str) -> str:
    """bob starts a direct chat with ``first``; alice's ``aggregator send`` accepts it. The room id."""
    room_id = await bob.start_direct_chat(alice)
    await bob.send(room_id, first)
    await wait_log(headless, rf"{re.escape(bob.address)} invited you to the direct chat {re.escape(room_id)}")
    sent = (await profile.run("send", alice.user_id, bob.address, f"hi {bob.address}")).ok()
    assert sent.stdout.startswith("Sent message "), str(sent)
    await profile.wait_history(bob.address, with_bodies(first, f"hi {bob.address}"), timeout=DELIVERY_TIMEOUT)
    return room_id


async def device_ids(synapse: SynapseServer, user: MatrixUser) -> set[str]:
    return {str(device["device_id"]) for device in await synapse.devices(user.user_id)}


# ---------------------------------------------------------------------------- (a) a direct chat


async def test_a_direct_chat_bob_starts_is_accepted_by_writing_and_logged(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    alice = await running_synapse.new_user("alice")
    await add_account(profile, running_synapse, alice)
    headless = await start_headless(profile, alice)
    async with plain_bob(running_synapse) as bob:
        room_id = await bob.start_direct_chat(alice)
        texts = [f"message {n} from bob" for n in range(1, 4)]
        event_ids = [await bob.send(room_id, text) for text in texts]
        await wait_log(headless, rf"{re.escape(bob.address)} invited you to the direct chat {re.escape(room_id)}")
        assert await profile.history(bob.address) == [], "nothing is joined before alice answers"

        sent = (await profile.run("send", alice.user_id, bob.address, "hello bob")).ok()
        assert sent.stdout.startswith("Sent message "), str(sent)
        messages = await profile.wait_history(bob.address, with_bodies(*texts, "hello bob"), timeout=DELIVERY_TIMEOUT)
        inbound = [m for m in messages if m["direction"] == "in"]
        assert [m["body"] for m in inbound] == texts
        assert [m["server_id"] for m in inbound] == event_ids
        assert all((m["sender"], m["state"], m["kind"]) == (bob.address, "received", "chat") for m in inbound)
        (reply,) = [m for m in messages if m["direction"] == "out"]
        assert (reply["body"], reply["state"]) == ("hello bob", "sent")
        # The answer went into bob's room: no second direct chat was started.
        assert await room_bodies(running_synapse, room_id, bob.user.access_token) == [*texts, "hello bob"]
        joined = await bob.client.joined_rooms()
        assert room_id in joined.rooms and len(joined.rooms) == 1, joined.rooms
    assert await headless.stop() == 0


async def test_a_message_bob_deletes_stays_in_the_history_marked_deleted(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    alice = await running_synapse.new_user("alice")
    await add_account(profile, running_synapse, alice)
    headless = await start_headless(profile, alice)
    async with plain_bob(running_synapse) as bob:
        room_id = await direct_chat(profile, headless, alice, bob, "hi alice")
        event_id = await bob.send(room_id, "a regrettable message")
        await profile.wait_history(bob.address, with_bodies("a regrettable message"), timeout=DELIVERY_TIMEOUT)
        redacted = await bob.client.room_redact(room_id, event_id, reason="sent too soon")
        assert isinstance(redacted, nio.RoomRedactResponse), redacted
        note = f"[message deleted by {bob.address}: sent too soon]"
        messages = await profile.wait_history(bob.address, with_bodies(note), timeout=DELIVERY_TIMEOUT)
        (original,) = [m for m in messages if m["server_id"] == event_id]
        assert (original["body"], original["kind"]) == ("a regrettable message", "chat"), "the text is kept"
        (deletion,) = [m for m in messages if m["body"] == note]
        assert (deletion["kind"], deletion["sender"], deletion["direction"]) == ("system", bob.address, "in")
        assert deletion["edit_of"] == original["id"] and deletion["server_id"] == redacted.event_id
    assert await headless.stop() == 0


# ---------------------------------------------------------------------------- (b) encryption


async def test_an_encrypted_direct_chat_is_archived_as_text(
    profile: Profile, running_synapse: SynapseServer, tmp_path: Path
) -> None:
    alice = await running_synapse.new_user("alice")
    await add_account(profile, running_synapse, alice)
    headless = await start_headless(profile, alice)
    async with encrypted_bob(running_synapse, tmp_path / "bob-store") as bob:
        room_id = await bob.start_direct_chat(alice, encrypted=True)
        await wait_log(headless, rf"{re.escape(bob.address)} invited you to the direct chat {re.escape(room_id)}")
        (await profile.run("send", alice.user_id, bob.address, "hello, encrypted")).ok()

        # bob reads alice's message (so it was encrypted for his device), then answers encrypted.
        async with asyncio.timeout(DELIVERY_TIMEOUT):
            seen: list[Any] = []
            while not any(
                isinstance(e, nio.RoomMessageText) and e.decrypted and e.body == "hello, encrypted" for e in seen
            ):
                synced = await bob.client.sync(timeout=1000)
                room = synced.rooms.join.get(room_id) if isinstance(synced, nio.SyncResponse) else None
                seen += room.timeline.events if room is not None else []
            await bob.client.joined_members(room_id)
            await bob.client.keys_query()
        secrets_sent = ["the secret is 🍍", "and a second one"]
        for text in secrets_sent:
            await bob.send(room_id, text)
        raw = await running_synapse.request(
            "GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/messages?dir=b&limit=20", None, bob.user.access_token
        )
        assert {e["type"] for e in raw["chunk"] if e["sender"] == bob.address} >= {"m.room.encrypted"}
        assert all(e["type"] != "m.room.message" for e in raw["chunk"]), "everything went encrypted"

        messages = await profile.wait_history(bob.address, with_bodies(*secrets_sent), timeout=DELIVERY_TIMEOUT)
        assert [m["body"] for m in messages if m["direction"] == "in"] == secrets_sent
        assert not [m for m in messages if m["body"] == "[unable to decrypt]"]
    assert await headless.stop() == 0


# -------------------------------------------------------------------------------- (c) restarts


async def test_a_restart_reuses_the_device_and_logs_every_message_once(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    alice = await running_synapse.new_user("alice")
    registration_device = await device_ids(running_synapse, alice)
    await add_account(profile, running_synapse, alice)
    headless = await start_headless(profile, alice)
    async with plain_bob(running_synapse) as bob:
        room_id = await direct_chat(profile, headless, alice, bob, "before the restart")
        devices = await device_ids(running_synapse, alice)
        assert len(devices - registration_device) == 1, "one device for the aggregator"
        before = await profile.history(bob.address)
        assert await headless.stop() == 0

        away = [f"while alice was offline {n}" for n in range(1, 3)]
        for text in away:
            await bob.send(room_id, text)
        markers: list[str] = []
        for n in range(2):  # two restarts: the second must change nothing
            headless = await start_headless(profile, alice)
            messages = await profile.wait_history(bob.address, with_bodies(*away), timeout=DELIVERY_TIMEOUT)
            # A live message after the catch-up: once it is logged, a duplicate from the catch-up would be too.
            markers.append(f"marker after restart {n}")
            await bob.send(room_id, markers[-1])
            messages = await profile.wait_history(bob.address, with_bodies(*markers), timeout=DELIVERY_TIMEOUT)
            assert [count(messages, text) for text in away] == [1, 1], messages
            assert messages[: len(before)] == before, "nothing logged twice"
            assert len(messages) == len(before) + len(away) + len(markers), messages
            assert await device_ids(running_synapse, alice) == devices, "no new device"
            assert "logged in as device" not in "\n".join(headless.errors), headless.output()
            assert await headless.stop() == 0


async def test_more_messages_than_a_sync_holds_while_down_are_all_logged_once_in_order(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    """Synapse's sync timeline holds 10 events by default: the rest of the 25 come from the backfill."""
    alice = await running_synapse.new_user("alice")
    await add_account(profile, running_synapse, alice)
    headless = await start_headless(profile, alice)
    async with plain_bob(running_synapse) as bob:
        room_id = await direct_chat(profile, headless, alice, bob, "before the gap")
        before = await profile.history(bob.address)
        assert await headless.stop() == 0

        away = [f"in the gap {n}" for n in range(1, 26)]
        for text in away:
            await bob.send(room_id, text)
        headless = await start_headless(profile, alice)
        await profile.wait_history(bob.address, with_bodies(*away), timeout=DELIVERY_TIMEOUT)
        # A live message after the catch-up: once it is logged, a duplicate from the catch-up would be too.
        await bob.send(room_id, "after the gap")
        messages = await profile.wait_history(bob.address, with_bodies("after the gap"), timeout=DELIVERY_TIMEOUT)
        assert messages[: len(before)] == before, "nothing logged twice"
        assert [m["body"] for m in messages[len(before) :]] == [*away, "after the gap"], "each once, in order"
        assert await headless.stop() == 0


# ---------------------------------------------------------------------------------- (d) outage


async def test_the_sync_loop_recovers_from_a_server_restart_and_the_queued_message_goes_once(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    synapse = running_synapse
    alice = await synapse.new_user("alice")
    await add_account(profile, synapse, alice)
    headless = await start_headless(profile, alice)
    async with plain_bob(synapse) as bob:
        room_id = await direct_chat(profile, headless, alice, bob, "before the outage")

        mark = len(headless.lines)
        await synapse.stop_async()
        try:
            await headless.wait_line(state(alice, "waiting"), start=mark, timeout=CONNECT_TIMEOUT)
            queued = (await profile.run("send", alice.user_id, bob.address, "sent during the outage")).ok()
            assert queued.stdout.startswith("Queued message "), str(queued)
            mark = len(headless.lines)
        finally:
            await synapse.start_async()
        restarted = time.monotonic()
        await headless.wait_line(state(alice, "connected"), start=mark, timeout=CONNECT_TIMEOUT)
        assert time.monotonic() - restarted < FAST_RECONNECT["reconnect_max_delay"] + 10
        await profile.wait_history(
            bob.address, lambda ms: any(m["body"] == "sent during the outage" and m["state"] == "sent" for m in ms)
        )
        await bob.send(room_id, "after the outage")
        await profile.wait_history(bob.address, with_bodies("after the outage"), timeout=DELIVERY_TIMEOUT)
        # Alice sends a marker after it: messages go out in order, so a second copy would be in the room first.
        (await profile.run("send", alice.user_id, bob.address, "marker after the outage")).ok()
        await profile.wait_history(
            bob.address, lambda ms: any(m["body"] == "marker after the outage" and m["state"] == "sent" for m in ms)
        )
        bodies = await room_bodies(synapse, room_id, bob.user.access_token)
        assert bodies.count("sent during the outage") == 1, bodies
        assert "marker after the outage" in bodies, bodies
        messages = await profile.history(bob.address)
        assert count(messages, "sent during the outage") == 1 and count(messages, "after the outage") == 1
    assert headless.matching(state(alice, "failed")) == []
    assert await headless.stop() == 0


# -------------------------------------------------------------------------------- (e) refusals


async def test_a_wrong_password_is_a_clear_error_and_not_retried(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    alice = await running_synapse.new_user("alice")
    wrong = "not-" + alice.password
    await add_account(profile, running_synapse, alice, password=wrong)
    headless = await profile.headless()
    failed = headless.lines[await headless.wait_line(state(alice, "failed"), timeout=CONNECT_TIMEOUT)]
    assert "refused the login" in failed and alice.user_id in failed, failed
    assert wrong not in headless.output()
    await asyncio.sleep(3)  # a retrying client would try several times in this window
    assert len(headless.matching(state(alice, "connecting"))) == 1, headless.output()
    assert headless.matching(state(alice, "waiting")) == []
    assert await headless.stop() == 0


async def test_an_unreachable_homeserver_is_retried_with_backoff(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    profile.write_settings({})  # the default backoff: 1 s doubling to 60 s
    alice = await running_synapse.new_user("alice")
    server = f"http://127.0.0.1:{unused_tcp_port()}"
    await add_account(profile, running_synapse, alice, server=server)
    headless = await profile.headless()
    waiting = headless.lines[await headless.wait_line(state(alice, "waiting"), timeout=CONNECT_TIMEOUT)]
    assert f"cannot reach {server}" in waiting and "retrying in" in waiting, waiting
    await asyncio.sleep(4)
    attempts = len(headless.matching(state(alice, "connecting")))
    assert 2 <= attempts <= 4, headless.output()  # 0 s, ~1 s, ~3 s: backing off, not a tight loop
    assert headless.matching(state(alice, "failed")) == []
    assert await headless.stop() == 0


async def test_a_revoked_token_logs_in_again_with_the_password(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    synapse = running_synapse
    alice = await synapse.new_user("alice")
    registration_device = await device_ids(synapse, alice)
    await add_account(profile, synapse, alice)
    headless = await start_headless(profile, alice)
    (first_device,) = await device_ids(synapse, alice) - registration_device
    mark = len(headless.lines)
    await revoke_device(synapse, alice, first_device)  # the token dies while the client runs
    await headless.wait_line(state(alice, "waiting"), start=mark, timeout=CONNECT_TIMEOUT)
    await headless.wait_line(state(alice, "connected"), start=mark, timeout=CONNECT_TIMEOUT)
    (second_device,) = await device_ids(synapse, alice) - registration_device
    assert second_device != first_device
    await asyncio.sleep(2)
    assert len(headless.matching(state(alice, "connecting"), mark)) == 1, headless.output()
    assert await headless.stop() == 0
    # The new login was kept: the next run restores it.
    headless = await start_headless(profile, alice)
    assert await device_ids(synapse, alice) - registration_device == {second_device}
    assert await headless.stop() == 0


async def test_a_revoked_token_and_a_changed_password_fail_clearly_without_retrying(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    synapse = running_synapse
    alice = await synapse.new_user("alice")
    await add_account(profile, synapse, alice)
    headless = await start_headless(profile, alice)
    mark = len(headless.lines)
    # An admin resets alice's password and logs out her devices: the stored token and password are stale.
    token = await asyncio.to_thread(synapse.admin_token)
    await synapse.request(
        "POST",
        f"/_synapse/admin/v1/reset_password/{quote(alice.user_id)}",
        {"new_password": secrets.token_urlsafe(12), "logout_devices": True},
        token,
    )
    failed = headless.lines[await headless.wait_line(state(alice, "failed"), start=mark, timeout=CONNECT_TIMEOUT)]
    assert "refused the login" in failed and alice.user_id in failed, failed
    await asyncio.sleep(3)
    assert len(headless.matching(state(alice, "connecting"), mark)) == 1, headless.output()
    assert headless.matching(state(alice, "failed"), mark) == [failed]
    assert await headless.stop() == 0


async def revoke_device(synapse: SynapseServer, user: MatrixUser, device_id: str) -> None:
    token = await asyncio.to_thread(synapse.admin_token)
    path = f"/_synapse/admin/v2/users/{quote(user.user_id)}/devices/{quote(device_id)}"
    await synapse.request("DELETE", path, None, token)


# ------------------------------------------------------------------------- (f) malformed events

#: Synapse refuses events whose JSON is over 65,536 bytes (M_TOO_LARGE): the big body (30,000 characters,
#: 45,000 bytes in UTF-8) stays under that, the too big one does not.
BIG_BODY = "big " + "üx" * 15_000 + " end"
TOO_BIG_BODY = "x" * 70_000


async def _send_raw(synapse: SynapseServer, bob: Bob, room_id: str, content: dict[str, Any]) -> str | None:
    """Sends ``content`` as an ``m.room.message`` as bob, past nio; the event id, or None if Synapse refused it."""
    path = f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/{secrets.token_hex(8)}"
    try:
        reply = await synapse.request("PUT", path, content, bob.user.access_token)
    except SynapseError:
        return None
    return str(reply["event_id"])


async def test_malformed_events_are_stored_as_text_or_warned_about_and_the_sync_goes_on(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    alice = await running_synapse.new_user("alice")
    await add_account(profile, running_synapse, alice)
    headless = await start_headless(profile, alice)
    async with plain_bob(running_synapse) as bob:
        room_id = await direct_chat(profile, headless, alice, bob, "before the odd ones")
        big = BIG_BODY
        too_big = {"msgtype": "m.text", "body": TOO_BIG_BODY}
        assert await _send_raw(running_synapse, bob, room_id, too_big) is None, "Synapse refuses it"
        # Events Synapse relays although they are odd: each is archived as its plain-text body.
        as_text: list[dict[str, Any]] = [
            {"msgtype": "m.text", "body": big},
            {
                "msgtype": "m.text",
                "body": "plain *bold*",
                "format": "org.matrix.custom.html",
                "formatted_body": "<script>alert('x')</script><b>bold</b><img src=x onerror=alert(1)>",
            },
            {"msgtype": "com.example.unknown", "body": "an unknown msgtype"},
            {"msgtype": "m.text", "body": "extra fields", "format": "no.such.format", "x": {"y": [1, None, True]}},
            {"msgtype": "m.notice", "body": "html without format", "formatted_body": ["not", "a", "string"]},
            {
                "msgtype": "m.text",
                "body": "a huge relation",
                "m.relates_to": {"m.in_reply_to": {"event_id": "$nope"}, "junk": "j" * 40_000},
            },
        ]
        for content in as_text:
            assert await _send_raw(running_synapse, bob, room_id, content) is not None, str(content["body"])[:40]
        # Wrong types and missing fields: what Synapse relays must become a warning (never the HTML).
        malformed: list[dict[str, Any]] = [
            {"msgtype": "m.text", "body": 42},
            {"msgtype": "m.text", "body": ["a", "list"]},
            {"msgtype": 7, "body": "a number msgtype"},
            {"body": "no msgtype"},
            {"msgtype": "m.text", "formatted_body": "<p>html only</p>", "format": "org.matrix.custom.html"},
            {"msgtype": "m.text", "body": "* bad edit", "m.relates_to": {"rel_type": "m.replace", "event_id": 5}},
        ]
        relayed = [content for content in malformed if await _send_raw(running_synapse, bob, room_id, content)]
        # Synapse 1.163 refuses non-string bodies and msgtypes and a missing body or msgtype (M_BAD_JSON);
        # the edit whose target is a number gets through and must become a warning.
        assert relayed, "nothing malformed reached the client"
        await bob.send(room_id, "after the odd ones")

        expected = [str(c["body"]) for c in as_text]
        try:
            messages = await profile.wait_history(
                bob.address, with_bodies(*expected, "after the odd ones"), timeout=DELIVERY_TIMEOUT
            )
        except AssertionError:  # the big body would drown the report
            shown = [m["body"][:40] for m in await profile.history(bob.address)]
            raise AssertionError(f"archived: {shown}\nrelayed malformed: {relayed}\n{headless.output()}") from None
        assert headless.running, headless.output()
        bodies = [m["body"] for m in messages if m["direction"] == "in"]
        assert bodies[0] == "before the odd ones" and bodies[-1] == "after the odd ones"
        assert [b[:40] for b in bodies[1 : 1 + len(as_text)]] == [b[:40] for b in expected], "in order, each once"
        assert bodies[1] == big, "the big body whole"
        assert not any("<" in body for body in bodies), "no HTML in the archive"
        assert all(m["kind"] in ("chat", "notice") for m in messages if m["direction"] == "in")
        # Whatever of the malformed ones Synapse relayed was logged as a warning and not stored.
        assert not any(body in ("a number msgtype", "no msgtype", "* bad edit") for body in bodies)
        warnings = [line for line in headless.errors if "malformed message" in line]
        assert len(warnings) >= len(relayed), (relayed, headless.output())

        # The sync loop kept running: a later message still arrives.
        await bob.send(room_id, "still syncing")
        await profile.wait_history(bob.address, with_bodies("still syncing"), timeout=DELIVERY_TIMEOUT)
    assert await headless.stop() == 0
