"""Keeps one account connected: connect, watch, reconnect with backoff, stop on a permanent error.

While the archive cannot store what the account receives (a full disk), the account is held: the
event that failed is kept and tried again with backoff, the account is disconnected so that its
server keeps new messages (they come back with the catch-up after the reconnect), and it connects
again by itself as soon as a write succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from aggregator.accounts.backoff import Backoff
from aggregator.accounts.config import AccountConfig
from aggregator.accounts.secrets import SecretStore
from aggregator.api import (
    AccountError,
    AccountId,
    Adapter,
    AdapterEvent,
    AggregatorError,
    CertificateDetails,
    CertificateError,
    ConnectionLost,
    Credentials,
    CredentialsUpdated,
    NotConnectedError,
    SupportsResume,
)
from aggregator.archive.storage import ArchiveStorageError
from aggregator.events import ConnectionState

log = logging.getLogger(__name__)

StateCallback = Callable[[AccountConfig, ConnectionState, str, float | None], None]
EventHandler = Callable[[AdapterEvent], Awaitable[None]]
#: The catch-up positions stored for an account (stream -> value), read before each connect.
ResumeSource = Callable[[AccountId], Mapping[str, str]]

CONNECT_TIMEOUT = 30.0
#: How often a held account tries its kept event again: from this, doubling, up to ``STORAGE_RETRY_CAP``.
STORAGE_RETRY_INITIAL = 0.25
STORAGE_RETRY_CAP = 5.0


class AccountSupervisor:
    """Owns one adapter. Events from the adapter are handled strictly in the order emitted."""

    def __init__(
        self,
        config: AccountConfig,
        adapter_factory: Callable[[Callable[[AdapterEvent], None]], Adapter],
        secrets: SecretStore,
        on_state: StateCallback,
        on_event: EventHandler,
        backoff: Backoff | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        resume: ResumeSource | None = None,
        storage_backoff: Backoff | None = None,
    ) -> None:
        self._connect_timeout = connect_timeout
        self._resume = resume
        self.config = config
        self._secrets = secrets
        self._on_state = on_state
        self._on_event = on_event
        self._backoff = backoff or Backoff()
        self._queue: asyncio.Queue[AdapterEvent] = asyncio.Queue()
        self._adapter_factory = adapter_factory
        self._adapter: Adapter | None = None
        self.state = ConnectionState.OFFLINE
        self.reason = ""
        #: What the server presented when the last attempt failed on its certificate (else None).
        self.certificate: CertificateDetails | None = None
        self._lost = asyncio.Event()
        self._stopping = asyncio.Event()
        self._state_changed = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        #: Clear while the account is held because the archive cannot store its events.
        self._released = asyncio.Event()
        self._released.set()
        self._hold_reason = ""
        self._stored_since_hold = False
        self._gave_up = False
        self._storage_backoff = storage_backoff or Backoff(initial=STORAGE_RETRY_INITIAL, cap=STORAGE_RETRY_CAP)

    # The sink handed to the adapter: never blocks, never raises.
    def _emit(self, event: AdapterEvent) -> None:
        self._queue.put_nowait(event)

    @property
    def adapter(self) -> Adapter:
        if self._adapter is None:
            raise NotConnectedError(f"account {self.config.id} has not connected yet")
        return self._adapter

    @property
    def connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED

    def is_held(self) -> bool:
        """Whether the account is held (disconnected) because the archive cannot store its events."""
        return not self._released.is_set()

    def start(self) -> None:
        if self._runner is None:
            self._consumer = asyncio.create_task(self._consume(), name=f"events:{self.config.id}")
            self._runner = asyncio.create_task(self._run(), name=f"connect:{self.config.id}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        await self.drain()
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer
        self._runner = self._consumer = None

    async def drain(self) -> None:
        """Wait until every event emitted so far has been handled."""
        await self._queue.join()

    async def wait_for_state(self, *states: ConnectionState, timeout: float | None = None) -> ConnectionState:
        async def wait() -> ConnectionState:
            while self.state not in states:
                self._state_changed.clear()
                await self._state_changed.wait()
            return self.state

        return await asyncio.wait_for(wait(), timeout)

    def _set_state(self, state: ConnectionState, reason: str = "", retry_in: float | None = None) -> None:
        self.state = state
        self.reason = reason
        self._state_changed.set()
        try:
            self._on_state(self.config, state, reason, retry_in)
        except Exception:
            log.exception("State callback failed for %s", self.config.id)

    async def _consume(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                if isinstance(event, ConnectionLost):
                    self.reason = event.reason
                    self._lost.set()
                elif isinstance(event, CredentialsUpdated):
                    self._secrets.set_tokens(self.config.id, dict(event.tokens))
                else:
                    await self._handle(event)
            except Exception:
                log.exception("Handling %s for %s failed", type(event).__name__, self.config.id)
            finally:
                self._queue.task_done()
            # Held: reconnect once a write succeeded and the events kept in memory are all handled
            # (a stale ConnectionLost among them must not cut the new connection).
            if self.is_held() and self._stored_since_hold and self._queue.empty():
                self._release()

    async def _handle(self, event: AdapterEvent) -> None:
        """Hand ``event`` to the core; while the archive cannot store it, hold the account and try again."""
        while True:
            try:
                await self._on_event(event)
            except ArchiveStorageError as exc:
                if self._stopping.is_set():  # stopping: say once what is given up
                    if not self._gave_up:
                        self._gave_up = True
                        log.error(
                            "%s: stopping while the archive cannot be written (%s): %d received event(s) not stored",
                            self.config.id,
                            exc.reason,
                            self._queue.qsize() + 1,
                        )
                    return
                self._hold(exc.reason)
                await self._sleep_or_stop(self._storage_backoff.next_delay())
                continue
            if self.is_held():
                self._stored_since_hold = True
            return

    def _hold(self, reason: str) -> None:
        """Stop taking new events from the server until the archive takes writes again."""
        self._hold_reason = f"{reason}; the account is held until there is space (its server keeps new messages)"
        if not self._released.is_set():
            return
        log.warning("%s: %s", self.config.id, self._hold_reason)
        self._stored_since_hold = False
        self._released.clear()
        if self.connected:
            self.reason = self._hold_reason
            self._lost.set()

    def _release(self) -> None:
        log.info("%s: the archive takes writes again; reconnecting the account", self.config.id)
        self._storage_backoff.reset()
        self._hold_reason = ""
        self._released.set()

    async def _wait_released_or_stop(self) -> None:
        released = asyncio.create_task(self._released.wait())
        stop = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({released, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            released.cancel()
            stop.cancel()

    async def _sleep_or_stop(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    async def _run(self) -> None:
        try:
            self._adapter = self._adapter_factory(self._emit)
        except AggregatorError as exc:  # unusable settings: this account fails, the others go on
            self._set_state(ConnectionState.FAILED, str(exc))
            return
        try:
            while not self._stopping.is_set():
                if self.is_held():
                    self._set_state(ConnectionState.WAITING, self._hold_reason)
                    await self._wait_released_or_stop()
                    continue
                self.certificate = None
                self._set_state(ConnectionState.CONNECTING)
                self._lost.clear()
                try:
                    credentials = self._secrets.credentials(self.config.id)
                    await self._hand_positions()
                    if not await self._connect_unless_stopped(credentials):
                        break
                except TimeoutError:
                    reason = f"no answer from the server within {self._connect_timeout:.0f} s"
                    await self._safe_disconnect()
                except AccountError as exc:
                    await self._safe_disconnect()
                    if not exc.retryable:
                        self.certificate = exc.certificate if isinstance(exc, CertificateError) else None
                        self._set_state(ConnectionState.FAILED, str(exc))
                        return
                    reason = str(exc)
                except AggregatorError as exc:  # keyring, configuration: the user must act
                    await self._safe_disconnect()
                    self._set_state(ConnectionState.FAILED, str(exc))
                    return
                except Exception as exc:
                    log.exception("Unexpected error while connecting %s", self.config.id)
                    await self._safe_disconnect()
                    reason = f"unexpected error: {type(exc).__name__}"
                else:
                    self._backoff.reset()
                    if self.is_held():  # the archive failed while this connect was under way
                        await self._safe_disconnect()
                        continue
                    self._set_state(ConnectionState.CONNECTED)
                    await self._wait_lost_or_stop()
                    if self._stopping.is_set():
                        break
                    reason = self.reason or "connection lost"
                    await self._safe_disconnect()
                if self._stopping.is_set():
                    break
                if self.is_held():
                    continue  # the top of the loop waits until the archive takes writes again
                delay = self._backoff.next_delay()
                self._set_state(ConnectionState.WAITING, reason, delay)
                await self._sleep_or_stop(delay)
        finally:
            await self._safe_disconnect()
            if self.state is not ConnectionState.FAILED:
                self._set_state(ConnectionState.OFFLINE)

    async def _hand_positions(self) -> None:
        """Gives the adapter the catch-up positions stored with their messages, once every event of the
        previous connection is handled (so none of them is still on its way to the archive)."""
        adapter: object = self._adapter
        if self._resume is None or not isinstance(adapter, SupportsResume):
            return
        await self.drain()
        adapter.resume_from(self._resume(self.config.id))

    async def _connect_unless_stopped(self, credentials: Credentials) -> bool:
        """Connect, unless a stop comes first (then the attempt is cancelled): True if connected."""
        assert self._adapter is not None
        connect = asyncio.create_task(asyncio.wait_for(self._adapter.connect(credentials), self._connect_timeout))
        stop = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({connect, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not connect.done():
            connect.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await connect
            return False
        connect.result()  # raises what the connect raised
        return True

    async def _wait_lost_or_stop(self) -> None:
        lost = asyncio.create_task(self._lost.wait())
        stop = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({lost, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            stop.cancel()

    async def _safe_disconnect(self) -> None:
        if self._adapter is None:
            return
        try:
            await asyncio.wait_for(self._adapter.disconnect(), 10)
        except (Exception, TimeoutError):
            log.exception("Disconnecting %s failed", self.config.id)

    def mark_lost(self, reason: str) -> None:
        """Called when a send discovers the connection is gone before the adapter says so."""
        if self.connected:
            self.reason = reason
            self._lost.set()
