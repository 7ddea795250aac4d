"""The files of messages, both ways: what the window, the CLI and retention ask about files.

Incoming: a stored message's ``FileOffer``s become attachment records at once (offered, or blocked by a
rule before any byte moves), published with ``AttachmentChanged``; files up to ``auto_fetch_bytes`` are
then fetched in the background (``fetch`` does the rest on request): downloaded into quarantine,
type-checked, scanned when the policy says so, and released into the store only when clean.

Outgoing: ``stage`` checks the policy's rules for the file (refused with the rule's name, recorded in
the policy log), copies it into the store (so a retry, an export or retention never depends on where the
user keeps the original), and the outbound service sends it with the message (``outgoing``) and records
where the server put it (``sent``).
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

from aggregator.api import (
    AccountId,
    AggregatorError,
    ConfigurationError,
    ConversationKey,
    FileOffer,
    OutgoingFile,
    PolicyError,
    SupportsFiles,
    UnsupportedError,
)
from aggregator.archive import Archive, StoredMessage
from aggregator.archive.attachments import AttachmentTable, StoredAttachment
from aggregator.bus import EventBus
from aggregator.events import AttachmentChanged, AttachmentProgress
from aggregator.files.clamd import ScanResult, scan_file
from aggregator.files.intake import Offer, Scanner, precheck, take_in
from aggregator.files.model import Attachment, AttachmentState
from aggregator.files.names import safe_file_name
from aggregator.files.rules import Refusal, check_file
from aggregator.files.sniff import SNIFF_BYTES, check_type
from aggregator.files.store import FileStore, TransferFailed
from aggregator.policy import PolicyEngine
from aggregator.policy.engine import Decision, PolicyEvent, Verdict

log = logging.getLogger(__name__)

#: Files up to this size are fetched as soon as they are offered; larger ones when the user asks.
DEFAULT_AUTO_FETCH_BYTES = 100 * 1024 * 1024
#: Seconds between two progress events of one transfer.
PROGRESS_INTERVAL = 0.2
ENCRYPTED_REASON = "This file is end-to-end encrypted (OMEMO); this client cannot open it yet."


class FileService:
    def __init__(
        self,
        *,
        archive: Archive,
        bus: EventBus,
        policy: PolicyEngine,
        store: FileStore,
        adapter_of: Callable[[AccountId], object],
        auto_fetch_bytes: int = DEFAULT_AUTO_FETCH_BYTES,
    ) -> None:
        self._archive = archive
        self._table = AttachmentTable(archive)
        self._bus = bus
        self._policy = policy
        self.store = store
        self._adapter_of = adapter_of
        self.auto_fetch_bytes = auto_fetch_bytes
        self._tasks: dict[int, asyncio.Task[StoredAttachment]] = {}

    # -- reading ----------------------------------------------------------------------------------------

    def get(self, attachment_id: int) -> StoredAttachment:
        found = self._table.get(attachment_id)
        if found is None:
            raise ConfigurationError(f"there is no file {attachment_id}")
        return found

    def for_messages(self, message_ids: list[int]) -> dict[int, list[StoredAttachment]]:
        return self._table.for_messages(message_ids)

    def newest(self, *, limit: int = 100, conversation_ids: list[int] | None = None) -> list[StoredAttachment]:
        return self._table.newest(limit=limit, conversation_ids=conversation_ids)

    # -- incoming ---------------------------------------------------------------------------------------

    def offered(self, message: StoredMessage, offers: tuple[FileOffer, ...]) -> list[StoredAttachment]:
        """Record the files ``message`` carries; fetch the small ones in the background."""
        rules = self._policy.file_rules(message.account_id)
        recorded: list[StoredAttachment] = []
        for offer in offers:
            attachment = precheck(
                Offer(name=offer.name, size=offer.size, mime_type=offer.mime_type, remote_url=offer.url), rules
            )
            if offer.encrypted:
                attachment = replace(attachment, state=AttachmentState.FAILED, reason=ENCRYPTED_REASON)
            refusal = check_file(rules, attachment.name, offer.size)
            if attachment.state is AttachmentState.BLOCKED and refusal is not None:
                self._record_refusal(message.account_id, message.conversation, attachment, refusal=refusal)
            stored = self._publish(message.conversation, self._table.add(message.id, attachment))
            recorded.append(stored)
            small = offer.size is None or offer.size <= self.auto_fetch_bytes
            if attachment.state is AttachmentState.OFFERED and small and not offer.fetch_on_request:
                self._spawn_fetch(stored.id, message.conversation)
        return recorded

    def _spawn_fetch(self, attachment_id: int, conversation: ConversationKey) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (an offline import): fetched on request later
            return
        task = loop.create_task(self._fetch(attachment_id, conversation), name=f"fetch file {attachment_id}")
        self._tasks[attachment_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(attachment_id, None))

    async def fetch(self, attachment_id: int) -> StoredAttachment:
        """Fetch (or wait for the running fetch of) one offered or failed file; returns its final record."""
        running = self._tasks.get(attachment_id)
        if running is None:
            stored = self.get(attachment_id)
            message = self._archive.get(stored.message_id)
            if message is None:
                raise ConfigurationError(f"the message of file {attachment_id} is gone")
            self._spawn_fetch(attachment_id, message.conversation)
            running = self._tasks[attachment_id]
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            if running.cancelled():
                return self.get(attachment_id)
            raise

    async def wait_idle(self) -> None:
        """Every background fetch finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def _fetch(self, attachment_id: int, conversation: ConversationKey) -> StoredAttachment:
        stored = self.get(attachment_id)
        current = stored.attachment
        if current.state not in (AttachmentState.OFFERED, AttachmentState.FAILED) or current.remote_url is None:
            return stored
        if current.reason == ENCRYPTED_REASON:
            return stored
        account_id = conversation.account_id
        try:
            adapter = self._adapter_of(account_id)
        except AggregatorError as exc:
            return self._update(stored, conversation, state=AttachmentState.OFFERED, reason=f"not fetched: {exc}")
        if not isinstance(adapter, SupportsFiles):
            return self._update(
                stored, conversation, state=AttachmentState.FAILED, reason="this account cannot fetch files"
            )
        offer = FileOffer(url=current.remote_url, name=current.name, size=current.size, mime_type=current.mime_type)
        self._update(stored, conversation, state=AttachmentState.TRANSFERRING, reason="")

        def chunks() -> AsyncIterator[bytes]:
            return adapter.download(offer)

        try:
            final = await take_in(
                Offer(name=current.name, size=current.size, mime_type=current.mime_type, remote_url=current.remote_url),
                chunks,
                rules=self._policy.file_rules(account_id),
                store=self.store,
                scanner=self._scanner(),
                progress=self._progress(stored, conversation),
            )
        except (AggregatorError, TransferFailed) as exc:
            final = replace(current, state=AttachmentState.FAILED, reason=str(exc))
        except asyncio.CancelledError:
            self._publish(
                conversation, attachment_id, replace(current, state=AttachmentState.FAILED, reason="cancelled")
            )
            raise
        if final.state in (AttachmentState.BLOCKED, AttachmentState.INFECTED):
            self._record_refusal(account_id, conversation, final)
        return self._publish(conversation, attachment_id, final)

    def _progress(self, stored: StoredAttachment, conversation: ConversationKey) -> Callable[[int], None]:
        last = 0.0
        loop = asyncio.get_running_loop()

        def report(done: int) -> None:
            nonlocal last
            now = loop.time()
            if now - last >= PROGRESS_INTERVAL:
                last = now
                self._bus.publish(
                    AttachmentProgress(
                        attachment_id=stored.id,
                        message_id=stored.message_id,
                        conversation=conversation,
                        done=done,
                        total=stored.attachment.size,
                    )
                )

        return report

    def cancel(self, attachment_id: int) -> bool:
        """Stop a running fetch (the file is then FAILED, "cancelled", and can be fetched again)."""
        task = self._tasks.get(attachment_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def _scanner(self) -> Scanner | None:
        socket = self._policy.clamd_socket
        if socket is None:
            return None

        async def scan(path: Path) -> ScanResult:
            return await scan_file(socket, path)

        return scan

    async def save(self, attachment_id: int, target: Path) -> Path:
        """Copy a clean file to ``target`` (a folder: the file's own name in it). Held files never leave."""
        stored = self.get(attachment_id)
        attachment = stored.attachment
        if not attachment.state.openable or attachment.local_path is None:
            why = attachment.reason or attachment.state.value
            raise PolicyError(f"{attachment.name} cannot be saved: {why}", "file_transfer")
        return await asyncio.to_thread(_copy_to, attachment.local_path, target, attachment.name)

    # -- outgoing ---------------------------------------------------------------------------------------

    async def stage(self, account_id: AccountId, conversation: ConversationKey, path: Path) -> Attachment:
        """Check ``path`` against the account's file rules and copy it into the store. Raises
        ``PolicyError`` naming the rule, or ``ConfigurationError`` for a file that cannot be read."""
        size, head = await asyncio.to_thread(_peek, path)
        name = safe_file_name(path.name)
        typed = check_type(_guess_type(name), head)
        refusal = check_file(self._policy.file_rules(account_id), name, size, typed.mime_type)
        if refusal is not None:
            self._record_refusal(account_id, conversation, None, refusal=refusal)
            raise PolicyError(str(refusal), refusal.rule)
        adapter_limit = self._upload_limit(account_id)
        if adapter_limit is not None and size > adapter_limit:
            raise UnsupportedError(
                f"the server accepts files up to {adapter_limit // (1024 * 1024)} MB; {name} is larger"
            )
        try:
            received = await asyncio.to_thread(self.store.import_file, path)
        except TransferFailed as exc:
            raise ConfigurationError(str(exc)) from None
        stored = self.store.release(received)
        return Attachment(
            name=name,
            size=size,
            mime_type=typed.mime_type,
            state=AttachmentState.CLEAN,
            sha256=received.sha256,
            local_path=stored,
        )

    def _upload_limit(self, account_id: AccountId) -> int | None:
        try:
            adapter = self._adapter_of(account_id)
        except AggregatorError:
            return None
        return adapter.max_upload_bytes() if isinstance(adapter, SupportsFiles) else None

    def attach(self, message: StoredMessage, attachment: Attachment) -> StoredAttachment:
        return self._publish(message.conversation, self._table.add(message.id, attachment))

    def outgoing(self, message_id: int) -> OutgoingFile | None:
        """The file to send with an outgoing message (its stored copy), or None."""
        found = self._table.for_messages([message_id]).get(message_id)
        if not found:
            return None
        attachment = found[0].attachment
        if attachment.local_path is None or attachment.size is None:
            return None
        return OutgoingFile(
            path=attachment.local_path, name=attachment.name, mime_type=attachment.mime_type, size=attachment.size
        )

    def sent(self, message: StoredMessage, url: str | None) -> None:
        for stored in self._table.for_messages([message.id]).get(message.id, []):
            if url and stored.attachment.remote_url != url:
                self._update(stored, message.conversation, remote_url=url)

    # -- helpers ----------------------------------------------------------------------------------------

    def _update(
        self,
        stored: StoredAttachment,
        conversation: ConversationKey,
        *,
        state: AttachmentState | None = None,
        reason: str | None = None,
        remote_url: str | None = None,
    ) -> StoredAttachment:
        current = stored.attachment
        updated = replace(
            current,
            state=state or current.state,
            reason=current.reason if reason is None else reason,
            remote_url=remote_url or current.remote_url,
        )
        return self._publish(conversation, stored.id, updated)

    def _publish(
        self, conversation: ConversationKey, attachment_id: int, attachment: Attachment | None = None
    ) -> StoredAttachment:
        if attachment is not None:
            self._table.update(attachment_id, attachment)
        stored = self.get(attachment_id)
        self._bus.publish(AttachmentChanged(attachment=stored, conversation=conversation))
        return stored

    def _record_refusal(
        self,
        account_id: AccountId,
        conversation: ConversationKey,
        attachment: Attachment | None,
        *,
        refusal: Refusal | None = None,
    ) -> None:
        if refusal is not None:
            rule, reason = refusal.rule, str(refusal)
            if attachment is not None:
                reason = f"{attachment.name}: {reason}"
        else:
            assert attachment is not None
            infected = attachment.state is AttachmentState.INFECTED
            rule = "scan" if infected else "file_transfer"
            reason = f"{attachment.name}: {attachment.reason}"
        self._policy.record(
            PolicyEvent(
                "file_transfer",
                Decision(Verdict.DENY, rule, reason),
                account_id=account_id,
                conversation=conversation.handle,
            )
        )


def _peek(path: Path) -> tuple[int, bytes]:
    """The size and first bytes of a local file; ``ConfigurationError`` when it is no readable file."""
    if not path.is_file():
        raise ConfigurationError(f"{path} is not a file")
    try:
        with path.open("rb") as source:
            return path.stat().st_size, source.read(SNIFF_BYTES)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from None


def _copy_to(source: Path, target: Path, name: str) -> Path:
    destination = target / name if target.is_dir() else target
    shutil.copyfile(source, destination)
    return destination


def _guess_type(name: str) -> str | None:
    return mimetypes.guess_type(name, strict=False)[0]
