"""Sending: policy -> store as pending -> send -> mark sent (or failed). Pending rows are resent
after a reconnect, in order, one at a time per account, and never twice at once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.accounts.manager import AccountManager
from aggregator.api import (
    AccountError,
    AccountId,
    AggregatorError,
    ConfigurationError,
    ConversationKey,
    MessageKind,
    MessageState,
    MessageStateChanged,
    NetworkError,
    OutgoingMessage,
    PolicyError,
    SupportsTyping,
    UnsupportedError,
)
from aggregator.archive import Archive, Direction, StoredMessage
from aggregator.archive.errors import ArchiveStorageError
from aggregator.archive.queries import ArchiveQueries
from aggregator.bus import PRIORITY_CORE, EventBus
from aggregator.events import AccountStateChanged, ConnectionState, MessageStored, MessageUpdated
from aggregator.policy import PolicyEngine
from aggregator.policy.engine import ConfirmationRequiredError, Verdict
from aggregator.registry import ProtocolRegistry

if TYPE_CHECKING:
    from aggregator.files.service import FileService

log = logging.getLogger(__name__)


class OutboundService:
    def __init__(
        self,
        *,
        archive: Archive,
        bus: EventBus,
        policy: PolicyEngine,
        accounts: AccountManager,
        registry: ProtocolRegistry,
    ) -> None:
        self._archive = archive
        self._queries = ArchiveQueries(archive)
        self._bus = bus
        self._policy = policy
        self._accounts = accounts
        self._registry = registry
        self._locks: dict[AccountId, asyncio.Lock] = {}
        self._flushes: set[asyncio.Task[None]] = set()
        #: Whether a handle is a room the account knows (the room directory), for protocols whose
        #: addresses do not say so themselves (an XMPP room looks like a person's address).
        self.is_known_room: Callable[[AccountId, str], bool] = lambda _account, _handle: False
        #: The file service (set by the bootstrap): files sent with messages.
        self.files: FileService | None = None
        bus.subscribe(AccountStateChanged, self._on_state, priority=PRIORITY_CORE)

    def _lock(self, account_id: AccountId) -> asyncio.Lock:
        return self._locks.setdefault(account_id, asyncio.Lock())

    def prepare(self, account_id: AccountId, to: str, body: str, *, with_file: bool = False) -> ConversationKey:
        """Validate a send before anything is stored; raises ``ConfigurationError`` naming the problem."""
        config = self._accounts.config(account_id)
        info = self._registry.get(config.protocol)
        handle = info.normalize_handle(to)
        if not body.strip() and not with_file:
            raise ConfigurationError("the message is empty")
        if info.max_body_length is not None and len(body) > info.max_body_length:
            raise ConfigurationError(
                f"the message is {len(body)} characters long; {info.name} allows at most {info.max_body_length}"
            )
        if info.is_room_handle(handle) or self.is_known_room(account_id, handle):
            return ConversationKey.room(account_id, handle)
        return ConversationKey.direct(account_id, handle)

    async def send(
        self,
        account_id: AccountId,
        to: str,
        body: str,
        kind: MessageKind = MessageKind.CHAT,
        *,
        confirmed: bool = False,
        file: Path | None = None,
    ) -> StoredMessage:
        """Store the message as pending and send it now if the account is connected.

        ``file``: a local file sent with the message (``body`` is its caption, may be empty). It is
        checked against the policy's file rules first and copied into the file store.

        Returns the row as it stands afterwards: SENT (the server accepted it), PENDING (the account
        is offline; it goes out after the next connect) or FAILED (with the reason).

        The policy may refuse it (``PolicyError``, naming the rule) or want the user's confirmation
        (``ConfirmationRequiredError``: send again with ``confirmed=True``). The policy's disclaimer, if
        any, goes out first, once per conversation per day.
        """
        conversation = self.prepare(account_id, to, body, with_file=file is not None)
        decision = self._policy.check_outbound(account_id, conversation, body, confirmed=confirmed)
        if not decision.allowed:
            raise PolicyError(decision.reason or "the message was refused by policy", decision.rule)
        if decision.verdict is Verdict.WARN and not confirmed:
            raise ConfirmationRequiredError(decision.reason, decision.rule)
        conv_id = self._archive.conversation_id(conversation)
        assert conv_id is not None
        disclaimer = self._policy.disclaimer(account_id)
        if disclaimer and not self._sent_today(conv_id, disclaimer):
            first = self._store_pending(account_id, conv_id, disclaimer, MessageKind.CHAT)
            await self.deliver(first)
        if file is None:
            return await self.deliver(self._store_pending(account_id, conv_id, body, kind))
        if self.files is None:
            raise UnsupportedError("this client cannot send files here")
        transfer = self._policy.check_file_transfer(account_id, conversation.handle)
        if not transfer.allowed:
            raise PolicyError(transfer.reason or "files are not allowed", transfer.rule)
        attachment = await self.files.stage(account_id, conversation, file)
        # The caption, or the file's name: what the conversation shows and search finds for this row.
        row = self._store_pending(account_id, conv_id, body if body.strip() else attachment.name, kind)
        self.files.attach(row, attachment)
        return await self.deliver(row)

    async def retry(self, message_id: int) -> StoredMessage:
        """Send a failed message of ours again: the same stored row, with the same idempotency key, goes
        back to pending and is delivered (or waits for the next connect, like any pending message)."""
        row = self._archive.get(message_id)
        if row is None:
            raise ConfigurationError(f"there is no message {message_id}")
        if row.direction is not Direction.OUT or row.state is not MessageState.FAILED:
            raise ConfigurationError("only a message of yours that failed can be sent again")
        decision = self._policy.check_outbound(row.account_id, row.conversation, row.body, confirmed=True)
        if not decision.allowed:
            raise PolicyError(decision.reason or "the message was refused by policy", decision.rule)
        pending = self._update(row, state=MessageState.PENDING, error="")
        return await self.deliver(pending)

    async def set_typing(self, account_id: AccountId, to: str, typing: bool) -> bool:
        """Tell ``to`` whether we are typing, where the protocol can. Never raises: typing notices are
        a courtesy; a failure is logged. Returns whether the notice went out."""
        try:
            config = self._accounts.config(account_id)
            info = self._registry.get(config.protocol)
            handle = info.normalize_handle(to)
            adapter = self._accounts.connected_adapter(account_id)
        except (KeyError, AggregatorError) as exc:
            log.debug("No typing notice to %s on %s: %s", to, account_id, exc)
            return False
        if not isinstance(adapter, SupportsTyping):
            return False
        room = info.is_room_handle(handle)
        conversation = ConversationKey.room(account_id, handle) if room else ConversationKey.direct(account_id, handle)
        try:
            await adapter.set_typing(conversation, typing)
        except Exception as exc:
            log.info("Could not send a typing notice to %s on %s: %s", handle, account_id, exc)
            return False
        return True

    def _sent_today(self, conv_id: int, body: str) -> bool:
        """Whether ``body`` went out (or is queued) in this conversation since local midnight."""
        midnight = datetime.combine(datetime.now().date(), time()).astimezone(UTC)
        return self._queries.sent_since(conv_id, body, midnight)

    def _store_pending(self, account_id: AccountId, conv_id: int, body: str, kind: MessageKind) -> StoredMessage:
        config = self._accounts.config(account_id)
        row = self._archive.insert_message(
            conversation_id=conv_id,
            account_id=account_id,
            direction=Direction.OUT,
            sender=config.address,
            body=body,
            kind=kind,
            sent_at=datetime.now(UTC),
            state=MessageState.PENDING,
            idempotency_key=uuid.uuid4().hex,
        )
        assert row is not None
        self._bus.publish(MessageStored(message=row))
        return row

    async def deliver(self, row: StoredMessage) -> StoredMessage:
        async with self._lock(row.account_id):
            current = self._archive.get(row.id)
            if current is None or current.state is not MessageState.PENDING:
                return current or row
            return await self._deliver_locked(current)

    async def _deliver_locked(self, row: StoredMessage) -> StoredMessage:
        supervisor = self._accounts.supervisor(row.account_id)
        if supervisor is None or not supervisor.connected:
            return row
        assert row.idempotency_key is not None
        file = self.files.outgoing(row.id) if self.files is not None else None
        caption = "" if file is not None and row.body == file.name else row.body
        message = OutgoingMessage(body=caption, idempotency_key=row.idempotency_key, kind=row.kind, file=file)
        try:
            receipt = await supervisor.adapter.send_message(row.conversation, message)
        except NetworkError as exc:
            log.info("Message %s stays pending: %s", row.id, exc)
            supervisor.mark_lost(str(exc))
            return row
        except (AccountError, AggregatorError) as exc:
            return self._update(row, state=MessageState.FAILED, error=str(exc) or type(exc).__name__)
        except Exception as exc:
            log.exception("Sending message %s failed unexpectedly", row.id)
            return self._update(row, state=MessageState.FAILED, error=f"unexpected error: {type(exc).__name__}")
        if file is not None and self.files is not None:
            self.files.sent(row, receipt.file_url)
        current = self._archive.get(row.id) or row
        state = MessageState.SENT if current.state in (MessageState.PENDING, MessageState.FAILED) else None
        return self._update(current, state=state, server_id=receipt.remote_id if not current.server_id else None)

    def _update(
        self,
        row: StoredMessage,
        *,
        state: MessageState | None = None,
        server_id: str | None = None,
        error: str | None = None,
    ) -> StoredMessage:
        updated = self._archive.update_message(row.id, state=state, server_id=server_id, error=error)
        if updated is None:
            return row
        self._bus.publish(MessageUpdated(message=updated))
        return updated

    async def flush(self, account_id: AccountId) -> None:
        """Send every pending message of the account, oldest first; stop at the first that stays pending."""
        for row in self._archive.pending_outbound(account_id):
            result = await self.deliver(row)
            if result.state is MessageState.PENDING:
                break

    async def _flush_after_connect(self, account_id: AccountId) -> None:
        """``flush`` after a connect. A full disk stops it: what is still pending stays queued for the next
        connect (the archive has already told the user), instead of an exception nobody retrieves."""
        try:
            await self.flush(account_id)
        except ArchiveStorageError as exc:
            log.warning("Pending messages of %s wait for the next connect: %s", account_id, exc)

    def _on_state(self, event: AccountStateChanged) -> None:
        if event.state is ConnectionState.CONNECTED:
            task = asyncio.get_running_loop().create_task(self._flush_after_connect(event.account_id))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def wait_flushed(self) -> None:
        while self._flushes:
            await asyncio.gather(*list(self._flushes), return_exceptions=True)

    def apply_state(self, event: MessageStateChanged) -> None:
        """Delivery receipts and read markers from the server."""
        row: StoredMessage | None = None
        if event.idempotency_key:
            row = self._archive.find_by_idempotency_key(event.account_id, event.idempotency_key)
        if row is None and event.remote_id:
            conv_id = self._archive.conversation_id(event.conversation, create=False)
            if conv_id is not None:
                row = self._archive.find_by_server_id(conv_id, event.remote_id)
        if row is None:
            return
        if event.state <= row.state and event.state is not MessageState.FAILED:
            return  # never go back from read to delivered
        self._update(row, state=event.state, error=event.reason or None)
