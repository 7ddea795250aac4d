"""What every feature module of one XMPP account shares: who the account is, where events go, and the
client of the current connection (None between connections)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING

from aggregator.api import (
    AccountSettings,
    AdapterEvent,
    AdapterWarning,
    ConfigurationError,
    EventSink,
    NotConnectedError,
)
from protocols import http_files
from protocols.xmpp import mapping
from protocols.xmpp.addresses import normalize_address, parse_jid, parse_server

if TYPE_CHECKING:
    from protocols.xmpp.lib import Client

log = logging.getLogger(__name__)


def option_flag(settings: AccountSettings, name: str) -> bool:
    value = settings.options.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigurationError(f"option {name}={value!r} is not a yes/no value")


class Session:
    """The account's identity, its event sink and its live client. Raises ``ConfigurationError`` for
    unusable settings."""

    def __init__(self, settings: AccountSettings, sink: EventSink) -> None:
        self.settings = settings
        self.account_id = settings.account_id
        self._sink = sink
        self.own = parse_jid(normalize_address(settings.address))
        self.direct_tls = option_flag(settings, "direct_tls")
        self.server = parse_server(settings.server, direct_tls=self.direct_tls)
        self.ctx = mapping.Context(self.account_id, self.own, self.own.domain)
        self.client: Client | None = None
        self.connected = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def default_nick(self) -> str:
        return self.own.localpart or self.own.domain

    @property
    def where(self) -> str:
        if self.server is None:
            return self.own.domain
        host, port = self.server
        return f"{host}:{port}"

    def file_tls(self) -> http_files.Tls:
        """The TLS check for uploads and downloads: the account's pin or CA file, as for its connection."""
        return http_files.tls_for(self.settings.ca_file, self.settings.pinned_certificate)

    def ready_client(self) -> Client:
        client = self.client
        if not self.connected or client is None or not client.has_transport:
            raise NotConnectedError(f"{self.account_id} is not connected")
        return client

    def spawn(self, coroutine: Coroutine[object, object, None], what: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine, name=f"{self.account_id} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel_tasks(self) -> None:
        """Cancels every task spawned for this account (but the one running this)."""
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()

    def warn(self, message: str) -> None:
        log.warning("%s: %s", self.account_id, message)
        self.emit(AdapterWarning(account_id=self.account_id, message=message))

    def emit(self, event: AdapterEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken sink must not stop the connection
            log.exception("%s: the event sink failed on %s", self.account_id, type(event).__name__)
