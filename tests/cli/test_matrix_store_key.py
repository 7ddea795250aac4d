"""The Matrix end-to-end encryption store at rest (issue 13, defect 8), on the session's Synapse.

The store (nio's SqliteStore: the Olm account, sessions and room keys) is keyed with a random key of the
account kept in the keyring, never nio's public ``DEFAULT_KEY`` and never on disk; every file of the
profile is owner-only; a restart still decrypts. A store of an older version (``DEFAULT_KEY``, files
0644, no key in the keyring) is re-keyed in place at the next start: same device, still decrypting.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import keyring
import nio

from protocols.matrix import crypto_store
from tests.cli.conftest import KEYRING_SERVICE, Profile
from tests.cli.test_matrix_e2e import (
    DELIVERY_TIMEOUT,
    Bob,
    account_id,
    add_account,
    device_ids,
    encrypted_bob,
    start_headless,
    wait_log,
    with_bodies,
)
from tests.servers.synapse import MatrixUser, SynapseServer


def tokens_entry(profile: Profile, user: MatrixUser) -> str:
    return f"{profile.profile_id()}/{account_id(user)}/tokens"


def stored_tokens(profile: Profile, user: MatrixUser) -> dict[str, str]:
    raw = keyring.get_password(KEYRING_SERVICE, tokens_entry(profile, user))
    assert raw, "the account's tokens are in the keyring"
    tokens: dict[str, str] = json.loads(raw)
    return tokens


def crypto_dir(profile: Profile, user: MatrixUser) -> Path:
    (found,) = (profile.home / "data" / "accounts").glob("matrix*/crypto")
    return found


def loose_modes(root: Path) -> list[str]:
    """Every file or directory under ``root`` that a group or other users may use."""
    loose = []
    for top, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            st = os.lstat(os.path.join(top, name))
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o077:
                loose.append(f"{os.path.join(top, name)} {stat.filemode(st.st_mode)}")
    return loose


def files_containing(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


async def bob_reads(bob: Bob, room_id: str, body: str) -> None:
    """bob syncs until he has decrypted ``body`` from alice (so her device and room key are known)."""
    async with asyncio.timeout(DELIVERY_TIMEOUT):
        seen: list[Any] = []
        while not any(isinstance(e, nio.RoomMessageText) and e.decrypted and e.body == body for e in seen):
            synced = await bob.client.sync(timeout=1000)
            room = synced.rooms.join.get(room_id) if isinstance(synced, nio.SyncResponse) else None
            seen += room.timeline.events if room is not None else []
        await bob.client.joined_members(room_id)
        await bob.client.keys_query()


async def test_the_store_is_keyed_from_the_keyring_owner_only_and_decrypts_after_restarts_and_an_upgrade(
    profile: Profile, running_synapse: SynapseServer, tmp_path: Path
) -> None:
    alice = await running_synapse.new_user("alice")
    await add_account(profile, running_synapse, alice)
    headless = await start_headless(profile, alice)
    async with encrypted_bob(running_synapse, tmp_path / "bob-store") as bob:
        room_id = await bob.start_direct_chat(alice, encrypted=True)
        await wait_log(headless, rf"invited you to the direct chat {room_id}")
        (await profile.run("send", alice.user_id, bob.address, "hello, encrypted")).ok()
        await bob_reads(bob, room_id, "hello, encrypted")
        await bob.send(room_id, "before the restart")
        await profile.wait_history(bob.address, with_bodies("before the restart"), timeout=DELIVERY_TIMEOUT)
        assert await headless.stop() == 0

        # At rest: a random key in the keyring, on no file; the store does not open with nio's default.
        tokens = stored_tokens(profile, alice)
        key, device = tokens[crypto_store.TOKEN], tokens["device_id"]
        assert len(key) >= 40 and key != crypto_store.NIO_DEFAULT_KEY
        assert files_containing(profile.home, key) == []
        store = crypto_dir(profile, alice)
        assert crypto_store.store_file(store, alice.user_id, device).stat().st_size > 0
        assert crypto_store.opens_with(store, alice.user_id, device, key)
        assert not crypto_store.opens_with(store, alice.user_id, device, crypto_store.NIO_DEFAULT_KEY)
        assert loose_modes(profile.home) == []
        devices = await device_ids(running_synapse, alice)

        # A restart decrypts what bob sent meanwhile, with the key from the keyring.
        await bob.send(room_id, "while alice was away")
        headless = await start_headless(profile, alice)
        messages = await profile.wait_history(
            bob.address, with_bodies("while alice was away"), timeout=DELIVERY_TIMEOUT
        )
        assert not [m for m in messages if m["body"] == "[unable to decrypt]"], messages
        assert await headless.stop() == 0

        # An older version's profile: the store pickled with DEFAULT_KEY, no key in the keyring, 0644.
        crypto_store.rekey(store, alice.user_id, device, key, crypto_store.NIO_DEFAULT_KEY)
        old_tokens = {k: v for k, v in tokens.items() if k != crypto_store.TOKEN}
        keyring.set_password(KEYRING_SERVICE, tokens_entry(profile, alice), json.dumps(old_tokens))
        for path in (store, *store.iterdir(), profile.home / "data" / "archive.sqlite3"):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        assert loose_modes(profile.home) != []

        await bob.send(room_id, "after the upgrade")
        headless = await start_headless(profile, alice)
        await wait_log(headless, r"now keyed from the keyring \(\d+ sessions re-encrypted, device \S+ kept\)")
        messages = await profile.wait_history(bob.address, with_bodies("after the upgrade"), timeout=DELIVERY_TIMEOUT)
        assert not [m for m in messages if m["body"] == "[unable to decrypt]"], messages
        assert await headless.stop() == 0
        new_key = stored_tokens(profile, alice)[crypto_store.TOKEN]
        assert new_key not in (key, crypto_store.NIO_DEFAULT_KEY)
        assert crypto_store.opens_with(store, alice.user_id, device, new_key)
        assert not crypto_store.opens_with(store, alice.user_id, device, crypto_store.NIO_DEFAULT_KEY)
        assert files_containing(profile.home, new_key) == []
        assert loose_modes(profile.home) == []
        assert await device_ids(running_synapse, alice) == devices, "the same device, no new login"
