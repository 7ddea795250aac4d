"""The end-to-end encryption store on disk: its key and its file modes.

nio keeps the Olm account, the Olm sessions and the Megolm room keys in an SQLite file
(``<crypto dir>/<user>_<device>.db``), each pickled (encrypted) with a passphrase. nio's default
passphrase is the constant ``DEFAULT_KEY``, which protects nothing. Each account gets its own random
key instead, generated once and kept with the account's other secrets in the OS keyring (the core
stores ``Credentials.tokens``; the key is the ``pickle_key`` token), never on disk.

An older profile has a store pickled with ``DEFAULT_KEY`` and no key in the keyring: its account and
sessions are loaded with the old key and written again with a new one (``rekey``), so the device, its
identity and its room keys are kept. A store that opens with neither key (the keyring lost its entry)
cannot be read by anyone: it is moved aside and the account logs in again as a new device.

The crypto directory is 0700 and every file in it 0600: the store file is created empty with that mode
before nio opens it (SQLite then gives its journal the same mode), and existing ones are fixed.

The nio client configuration that opens the store (``new_client``) is here too: all of the E2E store
set-up is in this module (the login steps that decide on the key are in ``connection.py``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import ssl
import time
from pathlib import Path
from typing import Any

import nio
from nio.store import SqliteStore

from protocols.matrix.lib import Client
from protocols.matrix.pinning import PinnedFingerprint
from protocols.matrix.session import REQUEST_TIMEOUT, Session

log = logging.getLogger(__name__)

#: nio's default pickle passphrase (``nio.AsyncClientConfig.pickle_key``), of stores made before.
NIO_DEFAULT_KEY = "DEFAULT_KEY"
#: The name of the key among the account's tokens in the keyring.
TOKEN = "pickle_key"  # noqa: S105 (a name, not the secret)


def new_key() -> str:
    """A fresh random pickle passphrase (256 bits)."""
    return secrets.token_urlsafe(32)


def store_file(crypto_dir: Path, user_id: str, device_id: str) -> Path:
    """The file nio's ``SqliteStore`` uses for this device (its default name)."""
    return crypto_dir / f"{user_id}_{device_id}.db"


def make_private(crypto_dir: Path) -> None:
    """The crypto directory 0700, every file in it 0600."""
    crypto_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(crypto_dir, 0o700)
    for entry in crypto_dir.iterdir():
        if entry.is_file() and not entry.is_symlink():
            os.chmod(entry, 0o600)


def prepare(crypto_dir: Path, user_id: str, device_id: str) -> None:
    """Before nio opens the store of this device: the directory private, the file created 0600."""
    make_private(crypto_dir)
    path = store_file(crypto_dir, user_id, device_id)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _open(crypto_dir: Path, user_id: str, device_id: str, key: str) -> Any:
    return SqliteStore(user_id, device_id, str(crypto_dir), pickle_key=key)


def opens_with(crypto_dir: Path, user_id: str, device_id: str, key: str) -> bool:
    """Whether the store of this device exists and its account unpickles with ``key``."""
    if not store_file(crypto_dir, user_id, device_id).exists():
        return False
    store = _open(crypto_dir, user_id, device_id, key)
    try:
        return store.load_account() is not None
    except Exception:  # vodozemac's pickle errors: the wrong key (or a damaged store)
        return False
    finally:
        store.database.close()


def has_account(crypto_dir: Path, user_id: str, device_id: str) -> bool:
    """Whether the store of this device holds an Olm account (whatever its key)."""
    path = store_file(crypto_dir, user_id, device_id)
    if not path.exists() or path.stat().st_size == 0:
        return False
    store = _open(crypto_dir, user_id, device_id, "")
    try:
        return store._get_account() is not None  # nio has no public "is there an account"
    finally:
        store.database.close()


def rekey(crypto_dir: Path, user_id: str, device_id: str, old: str, new: str) -> int:
    """Pickle the account, the Olm sessions and the Megolm room keys again with ``new``, in one
    transaction (the old pickles are overwritten: nio's store has ``secure_delete`` on). Returns how many
    sessions were re-keyed. Raises if the store does not open with ``old``."""
    store = _open(crypto_dir, user_id, device_id, old)
    try:
        account = store.load_account()
        if account is None:
            return 0
        sessions = [(sender_key, session) for sender_key, found in store.load_sessions().items() for session in found]
        groups = list(store.load_inbound_group_sessions())
        store.pickle_key = new
        with store.database.atomic():
            store.save_account(account)
            for sender_key, session in sessions:
                store.save_session(sender_key, session)
            for group in groups:
                store.save_inbound_group_session(group)
        return len(sessions) + len(groups)
    finally:
        store.database.close()


def set_aside(crypto_dir: Path, user_id: str, device_id: str) -> Path:
    """Move an unreadable store out of the way (kept, in case the key turns up again)."""
    path = store_file(crypto_dir, user_id, device_id)
    aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
    path.replace(aside)
    for suffix in ("-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).replace(aside.with_name(aside.name + suffix))
    return aside


def encryption_enabled(session: Session) -> bool:
    """End-to-end encryption is on when the core gives the adapter a data directory, unless the option
    ``encryption`` is ``false``."""
    return session.data_dir is not None and session.settings.options.get("encryption", "true") != "false"


def crypto_dir(session: Session, *, encryption: bool) -> Path | None:
    """Where the account's encryption store lives (None without encryption)."""
    return session.data_dir / "crypto" if encryption and session.data_dir is not None else None


def new_client(session: Session, *, encryption: bool, pickle_key: str | None) -> Client:
    """A fresh nio client for the account, its store (when ``encryption``) keyed with ``pickle_key``."""
    config = nio.AsyncClientConfig(
        max_timeouts=0,  # a connection error raises at once instead of retrying forever
        max_limit_exceeded=2,
        request_timeout=REQUEST_TIMEOUT,
        encryption_enabled=encryption,
        store_sync_tokens=False,
        pickle_key=pickle_key or NIO_DEFAULT_KEY,
    )
    store_path = ""
    directory = crypto_dir(session, encryption=encryption)
    if directory is not None:
        assert pickle_key, "the store key is known before a client opens the store"
        make_private(directory)
        store_path = str(directory)
    tls: ssl.SSLContext | PinnedFingerprint | None = session.ssl if session.homeserver.startswith("https://") else None
    return Client(session.homeserver, session.user_id, store_path=store_path, config=config, ssl=tls)
