"""Logging in and out.

A password login the first time (the adapter then emits ``CredentialsUpdated`` with the access token,
device id and user id, which the core keeps in the keyring); later connects restore that login from
``Credentials.tokens`` so no new device is made. A rejected token falls back to the password once.
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
        client = crypto_store.new_client(self._s, encryption=self._encryption)
        self._s.client = client
        return client

    async def _login(self, credentials: Credentials) -> Client:
        s = self._s
        tokens = credentials.tokens
        access_token, device_id = tokens.get("access_token"), tokens.get("device_id")
        if access_token and device_id and s.same_user(tokens.get("user_id", "")):
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
        client = self._new_client()
        login = await client.login(credentials.password, self._device_name)
        if isinstance(login, Failure):
            if login.code in _AUTH_ERRORS:
                raise AuthenticationError(
                    f"{s.homeserver} refused the login of {s.user_id}: {login.message or login.code}"
                )
            raise s.error_reply("log in", login)
        log.info("%s: logged in as device %s", s.account_id, login.device_id)
        s.emit(
            CredentialsUpdated(
                account_id=s.account_id,
                tokens={"access_token": login.access_token, "device_id": login.device_id, "user_id": login.user_id},
            )
        )
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
