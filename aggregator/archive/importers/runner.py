"""Storing parsed logs: accounts, conversations, messages (idempotently), and the summary."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from aggregator.api import AccountId, ConversationKey, ConversationKind, MessageKind, MessageState, Sphere
from aggregator.archive.importers.common import FileReport, ImportSummary, LogFile, Skipped, same_name, server_id
from aggregator.archive.records import Direction, NewMessage
from aggregator.archive.store import Archive

#: Normalises a handle of a protocol (the CLI passes the protocol plugins' rules; default: as written).
#: Must not raise: a handle it cannot normalise is returned as it is.
Normalizer = Callable[[str, str], str]


@dataclass(frozen=True, slots=True)
class KnownAccount:
    id: AccountId
    protocol: str
    address: str
    label: str = ""
    sphere: Sphere = Sphere.PERSONAL


class AccountMapper:
    """Finds the account a log belongs to: a configured account with the same protocol and address,
    else one the archive already knows (an earlier import), else a new archive-only account row
    (``<protocol>:<address>``; not added to accounts.json, it only keeps the history)."""

    def __init__(self, archive: Archive, configured: Iterable[KnownAccount], source: str) -> None:
        self._archive = archive
        self._source = source
        self._configured = list(configured)
        self._stored = [
            KnownAccount(str(r[0]), str(r[1]), str(r[2]))
            for r in archive.read_rows("SELECT id, protocol, address FROM accounts")
        ]
        self._stored_ids = {a.id for a in self._stored}
        self._cache: dict[tuple[str, str], AccountId] = {}
        self._contacts: dict[AccountId, dict[str, str]] = {}
        self.created: list[str] = []

    def contact_for(self, account_id: AccountId, protocol: str, handle: str) -> str | None:
        """The handle of the account's existing contact that ``handle`` names (same address, however
        the log spelled it: case, an XMPP resource), so that old and new history share one
        conversation and the person's timeline shows both; None when the account has no such contact."""
        known = self._contacts.get(account_id)
        if known is None:
            known = {}
            for (stored,) in self._archive.read_rows("SELECT handle FROM contacts WHERE account_id = ?", (account_id,)):
                known.setdefault(_contact_key(protocol, str(stored)), str(stored))
            self._contacts[account_id] = known
        return known.get(_contact_key(protocol, handle))

    def account_for(self, protocol: str, address: str) -> AccountId:
        key = (protocol, address.casefold())
        found = self._cache.get(key)
        if found is None:
            found = self._find(protocol, address)
            self._cache[key] = found
        return found

    def _find(self, protocol: str, address: str) -> AccountId:
        for a in self._configured:
            if a.protocol == protocol and same_name(address, a.address):
                if a.id not in self._stored_ids:
                    self._archive.upsert_account(a.id, a.protocol, a.address, a.label, a.sphere)
                    self._stored_ids.add(a.id)
                return a.id
        for a in self._stored:
            if a.protocol == protocol and same_name(address, a.address):
                return a.id
        account_id = f"{protocol}:{address}"
        if account_id not in self._stored_ids:
            self._archive.upsert_account(
                account_id, protocol, address, f"imported from {self._source}", Sphere.PERSONAL
            )
            self._stored_ids.add(account_id)
            self.created.append(account_id)
        return account_id


def import_logs(
    archive: Archive,
    logs: Iterable[LogFile | Skipped],
    *,
    source: str,
    accounts: AccountMapper,
    normalize: Normalizer | None = None,
    on_file: Callable[[], None] | None = None,
    on_messages: Callable[[int], None] | None = None,
    batch_size: int = 10_000,
    correct_directions: bool = False,
) -> ImportSummary:
    """Store every message of ``logs``; already imported lines (same server id) are counted, not stored.

    Each batch is committed on its own, and every line has a deterministic id: after a crash, running
    the same import again stores what was missing and nothing twice."""
    summary = ImportSummary()
    outgoing: list[tuple[int, str, str, str | None]] = []

    def messages() -> Iterator[NewMessage]:
        for group in _groups(logs, batch_size):
            # The group's conversations are found or created together: one commit, not one per file.
            targets = _targets(
                archive, [log for log in group if isinstance(log, LogFile) and log.lines], accounts, normalize
            )
            for log in group:
                if isinstance(log, Skipped):
                    summary.skipped_files.append(log)
                    if on_file is not None:
                        on_file()
                    continue
                _account_for_summary(summary, log)
                if log.lines:
                    target = targets[id(log)]
                    if target.joined is not None:
                        summary.joined_contacts.add(target.joined)
                    summary.conversations.add((target.account_id, target.handle))
                    for message in _messages(log, target, source):
                        if correct_directions and message.direction is Direction.OUT and message.server_id:
                            outgoing.append(
                                (message.conversation_id, message.server_id, message.sender, message.sender_name)
                            )
                        yield message
                    if on_messages is not None:
                        on_messages(len(log.lines))
                if on_file is not None:
                    on_file()

    result = archive.import_messages(messages(), batch_size=batch_size)
    summary.inserted, summary.duplicates = result.inserted, result.duplicates
    # Names given now (--me) can make lines of an earlier import the user's: mark those outgoing.
    summary.corrected = archive.mark_imported_outgoing(outgoing)
    summary.accounts_created = list(accounts.created)
    return summary


def _account_for_summary(summary: ImportSummary, log: LogFile) -> None:
    summary.files += 1
    summary.skipped_lines.extend(log.skipped)
    summary.warnings.extend(log.warnings)
    if log.encoding != "UTF-8":
        summary.encodings.setdefault(log.encoding, []).append(log.path)
    for name, why in log.own_names.items():
        summary.own_names.setdefault(name, why)
    summary.status_lines += sum(1 for e in log.lines if e.kind is MessageKind.SYSTEM)
    summary.per_file.append(FileReport(log.path, len(log.lines), len(log.skipped), len(log.warnings), log.encoding))


def _contact_key(protocol: str, handle: str) -> str:
    key = handle.strip().casefold()
    return key.split("/", 1)[0] if protocol == "xmpp" else key


@dataclass(frozen=True, slots=True)
class _Target:
    """Where one log's messages go."""

    account_id: AccountId
    handle: str
    conversation_id: int
    joined: tuple[str, str] | None  #: (log name, contact handle) when mapped onto an existing contact


def _groups(logs: Iterable[LogFile | Skipped], messages: int) -> Iterator[list[LogFile | Skipped]]:
    """``logs`` in runs of about ``messages`` messages (at least one file each)."""
    group: list[LogFile | Skipped] = []
    count = 0
    for log in logs:
        group.append(log)
        if isinstance(log, LogFile):
            count += len(log.lines)
        if count >= messages:
            yield group
            group, count = [], 0
    if group:
        yield group


def _targets(
    archive: Archive, logs: list[LogFile], accounts: AccountMapper, normalize: Normalizer | None
) -> dict[int, _Target]:
    """Each log's account, handle and conversation (by ``id(log)``); new conversations in one transaction."""
    found: list[tuple[LogFile, AccountId, str, tuple[str, str] | None]] = []
    for log in logs:
        account_id = accounts.account_for(log.protocol, log.account)
        handle = log.handle
        if normalize is not None:
            handle = normalize(log.protocol, handle)
        joined = None
        if log.kind is ConversationKind.DIRECT:
            contact = accounts.contact_for(account_id, log.protocol, handle)
            if contact is not None:
                joined = (log.handle, contact)
                handle = contact
        found.append((log, account_id, handle, joined))
    ids = archive.conversation_ids([ConversationKey(a, log.kind, h) for log, a, h, _ in found])
    return {
        id(log): _Target(account_id, handle, conv_id, joined)
        for (log, account_id, handle, joined), conv_id in zip(found, ids, strict=True)
    }


def _messages(log: LogFile, target: _Target, source: str) -> Iterator[NewMessage]:
    # Hot: one pass per imported line, so the constants are local names.
    conv_id, account_id, handle = target.conversation_id, target.account_id, target.handle
    account, ident = log.account, log.ident
    direct = log.kind is ConversationKind.DIRECT
    system, out_direction = MessageKind.SYSTEM, Direction.OUT
    sent, received = MessageState.SENT, MessageState.RECEIVED
    for entry in log.lines:
        direction = entry.direction
        out = direction is out_direction
        kind = entry.kind
        who = entry.sender
        if kind is system:
            sender, name = "", None
        elif out:
            sender, name = account, who if who and who != account else None
        elif direct:
            sender, name = handle, who if who and who != handle else None
        else:
            sender, name = who, None
        yield NewMessage(
            conversation_id=conv_id,
            account_id=account_id,
            direction=direction,
            sender=sender,
            body=entry.body,
            sent_at=entry.sent_at,
            state=sent if out else received,
            kind=kind,
            server_id=server_id(source, ident, entry),
            sender_name=name,
            received_at=entry.sent_at,
            is_backfill=True,
        )


def merge(into: ImportSummary, part: ImportSummary) -> None:
    """Adds ``part`` (a later chunk of the same import) to ``into``."""
    into.files += part.files
    into.inserted += part.inserted
    into.duplicates += part.duplicates
    into.status_lines += part.status_lines
    into.corrected += part.corrected
    into.conversations |= part.conversations
    into.accounts_created.extend(a for a in part.accounts_created if a not in into.accounts_created)
    into.skipped_files.extend(part.skipped_files)
    into.skipped_lines.extend(part.skipped_lines)
    into.warnings.extend(part.warnings)
    for how, files in part.encodings.items():
        into.encodings.setdefault(how, []).extend(files)
    for name, why in part.own_names.items():
        into.own_names.setdefault(name, why)
    into.joined_contacts |= part.joined_contacts
    into.per_file.extend(part.per_file)


async def import_chunked(
    archive: Archive,
    logs: Iterable[LogFile | Skipped],
    *,
    source: str,
    accounts: AccountMapper,
    normalize: Normalizer | None = None,
    on_file: Callable[[], None] | None = None,
    on_messages: Callable[[int], None] | None = None,
    files_per_step: int = 20,
    correct_directions: bool = False,
) -> ImportSummary:
    """``import_logs`` for the engine loop: a few files at a time, letting the loop run in between
    (adapters keep their connections while a long history is imported)."""
    summary = ImportSummary()
    source_iter = iter(logs)
    while chunk := list(itertools.islice(source_iter, files_per_step)):
        part = import_logs(
            archive,
            chunk,
            source=source,
            accounts=accounts,
            normalize=normalize,
            on_file=on_file,
            on_messages=on_messages,
            correct_directions=correct_directions,
        )
        merge(summary, part)
        await asyncio.sleep(0)
    summary.accounts_created = list(accounts.created)
    return summary
