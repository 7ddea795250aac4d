"""Logging in and out.

A password login the first time (the adapter then emits ``CredentialsUpdated`` with the access token,
device id and user id, and the encryption store's key, which the core keeps in the keyring); later
connects restore that login from ``Credentials.tokens`` so no new device is made.
A rejected token falls back to the password once.
``connect`` returns after the first sync; then a task long-polls ``/sync`` (``sync.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aggregator.api import (
    AuthenticationError,
    CertificateError,
    Credentials,
    CredentialsUpdated,
    NetworkError,
    PlaintextRefusedError,
)
from protocols.matrix import crypto_store
from protocols.matrix.lib import Client, Failure
from protocols.matrix.session import TRANSPORT_ERRORS, Session
from protocols.matrix.sync import Syncer
from protocols.matrix.undecrypted import Undecrypted

log = logging.getLogger(__name__)

#: Seconds for the login and the first sync together.
CONNECT_TIMEOUT = 30.0
DEFAULT_DEVICE_NAME = "Aggregator"
_AUTH_ERRORS = {"M_FORBIDDEN", "M_USER_DEACTIVATED", "M_INVALID_USERNAME", "M_UNAUTHORIZED"}
_TOKEN_ERRORS = {"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_FORBIDDEN"}


class Connection:
    def __init__(
        self,
        session: Session,
        syncer: Syncer,
        undecrypted: Undecrypted,
        *,
        encryption: bool,
        reset: Callable[[], None],
    ) -> None:
        self._s = session
        self._syncer = syncer
        self._undecrypted = undecrypted
        self._encryption = encryption
        self._reset = reset
        self._device_name = session.settings.options.get("device_name", "").strip() or DEFAULT_DEVICE_NAME
        self._sync_task: asyncio.Task[None] | None = None
        self._crypto_dir = crypto_store.crypto_dir(session, encryption=encryption)
        #: The passphrase of the encryption store (from the keyring; made on first use).
        self._pickle_key: str | None = None

    async def connect(self, credentials: Credentials) -> None:
        s = self._s
        if s.connected:
            return
        await self.disconnect()  # drop what is left of an earlier, lost connection
        if s.homeserver.startswith("http://") and not s.settings.allow_plaintext:
            raise PlaintextRefusedError(
                f"the homeserver {s.homeserver} is not encrypted (http://); "
                "allow plaintext for this account to connect anyway"
            )
        self._reset()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                client = await self._login(credentials)
                self._undecrypted.load()
                await self._syncer.first(client)
        except TimeoutError:
            await self._close()
            raise NetworkError(f"{s.homeserver} did not answer within {CONNECT_TIMEOUT:g} s") from None
        except TRANSPORT_ERRORS as exc:
            await self._close()
            raise await s.with_presented(s.transport_error(exc)) from None
        except CertificateError as exc:
            await self._close()
            raise await s.with_presented(exc) from None
        except BaseException:
            await self._close()
            raise
        s.connected = True
        self._sync_task = asyncio.create_task(self._syncer.loop(client), name=f"matrix-sync {s.account_id}")
        log.info("%s connected to %s", s.account_id, s.homeserver)

    def _new_client(self) -> Client:
        client = crypto_store.new_client(self._s, encryption=self._encryption, pickle_key=self._pickle_key)
        self._s.client = client
        return client

    def _store_ready(self, tokens: dict[str, str], device_id: str) -> bool:
        """Whether the encryption store of ``device_id`` opens with the account's key (made, or migrated
        from nio's default key, as needed). False: it opens with no key we have; it was set aside and
        the account must log in as a new device."""
        crypto_dir = self._crypto_dir
        if crypto_dir is None:
            return True
        crypto_store.make_private(crypto_dir)
        user, key = self._s.user_id, self._pickle_key
        if not crypto_store.has_account(crypto_dir, user, device_id):
            if key is None:
                self._new_pickle_key(tokens)
            crypto_store.prepare(crypto_dir, user, device_id)
            return True
        if key is not None and crypto_store.opens_with(crypto_dir, user, device_id, key):
            return True
        if crypto_store.opens_with(crypto_dir, user, device_id, crypto_store.NIO_DEFAULT_KEY):
            # A store of an older version, keyed with nio's public default: same device, new key.
            key = key or self._new_pickle_key(tokens)
            count = crypto_store.rekey(crypto_dir, user, device_id, crypto_store.NIO_DEFAULT_KEY, key)
            log.warning(
                "%s: the encryption store was protected by nio's default key only; it is now keyed from the "
                "keyring (%d sessions re-encrypted, device %s kept)",
                self._s.account_id,
                count,
                device_id,
            )
            return True
        aside = crypto_store.set_aside(crypto_dir, user, device_id)
        self._s.warn(
            f"the encryption store of device {device_id} cannot be opened with the key in the keyring; "
            f"it was moved to {aside.name} and this account signs in as a new device (messages encrypted "
            "for the old device can no longer be read here)"
        )
        return False

    def _new_pickle_key(self, tokens: dict[str, str]) -> str:
        """A new store key, handed to the core for the keyring (with the login it belongs to) before
        anything is encrypted with it."""
        key = crypto_store.new_key()
        self._pickle_key = key
        self._s.emit(CredentialsUpdated(account_id=self._s.account_id, tokens={**tokens, crypto_store.TOKEN: key}))
        return key

    async def _login(self, credentials: Credentials) -> Client:
        s = self._s
        tokens = dict(credentials.tokens)
        self._pickle_key = tokens.get(crypto_store.TOKEN) or None
        access_token, device_id = tokens.get("access_token"), tokens.get("device_id")
        restorable = bool(access_token and device_id and s.same_user(tokens.get("user_id", "")))
        if restorable and device_id and not self._store_ready(tokens, device_id):
            restorable = False
        if restorable and access_token and device_id:
            client = self._new_client()
            client.restore_login(s.user_id, device_id, access_token)
            reply = await client.whoami()
            if not isinstance(reply, Failure) and reply in (None, device_id):
                log.info("%s: restored the login of device %s", s.account_id, device_id)
                return client
            await self._close()
            code = reply.code if isinstance(reply, Failure) else None
            if not isinstance(reply, Failure) or code in _TOKEN_ERRORS:
                log.info("%s: the stored access token was refused (%s); logging in again", s.account_id, code)
            else:
                raise s.error_reply("check the stored login", reply)
        if not credentials.password:
            raise AuthenticationError(f"{s.user_id}: no password given")
        if self._encryption and self._pickle_key is None:
            self._pickle_key = crypto_store.new_key()  # emitted with the login's tokens below
        client = self._new_client()
        login = await client.login(credentials.password, self._device_name)
        if isinstance(login, Failure):
            if login.code in _AUTH_ERRORS:
                raise AuthenticationError(
                    f"{s.homeserver} refused the login of {s.user_id}: {login.message or login.code}"
                )
            raise s.error_reply("log in", login)
        log.info("%s: logged in as device %s", s.account_id, login.device_id)
        new_tokens = {"access_token": login.access_token, "device_id": login.device_id, "user_id": login.user_id}
        if self._pickle_key is not None:
            new_tokens[crypto_store.TOKEN] = self._pickle_key
        s.emit(CredentialsUpdated(account_id=s.account_id, tokens=new_tokens))
        if self._crypto_dir is not None:
            crypto_store.make_private(self._crypto_dir)  # nio has just created the new device's store
        return client

    async def disconnect(self) -> None:
        self._s.connected = False
        task, self._sync_task = self._sync_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait([task])  # unlike ``await task``, never raises the task's own error
            if not task.cancelled() and task.exception() is not None:
                log.error("%s: the sync loop had failed", self._s.account_id, exc_info=task.exception())
        await self._close()

    async def _close(self) -> None:
        client, self._s.client = self._s.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
