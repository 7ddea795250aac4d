"""One received file from offer to verdict: the policy's rules, the download, the type check, the scan.

The order matters. Rules that need no bytes (transfers denied, a blocked extension, an announced size over
the limit) refuse the file before anything is fetched. The download lands in quarantine; the content's
type is checked against the declared one (a program is judged as a program whatever its name); then,
when the policy scans, clamd decides. Infected files stay quarantined with the signature named; a
scanner that cannot be reached keeps the file held with that reason (fail closed). The message that
carried the file is never affected: only the attachment's state changes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from aggregator.files.clamd import ScanOutcome, ScanResult
from aggregator.files.model import Attachment, AttachmentState
from aggregator.files.names import safe_file_name
from aggregator.files.rules import FileRules, check_file
from aggregator.files.sniff import check_type
from aggregator.files.store import FileStore, TransferFailed

log = logging.getLogger(__name__)

Scanner = Callable[[Path], Awaitable[ScanResult]]
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    """What the peer announced."""

    name: str
    size: int | None
    mime_type: str | None
    remote_url: str | None = None


def precheck(offer: Offer, rules: FileRules) -> Attachment:
    """The attachment as offered: BLOCKED with the rule's reason, or OFFERED."""
    name = safe_file_name(offer.name)
    mime = (offer.mime_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    refusal = check_file(rules, name, offer.size)
    state = AttachmentState.BLOCKED if refusal else AttachmentState.OFFERED
    return Attachment(
        name=name,
        size=offer.size,
        mime_type=mime,
        state=state,
        remote_url=offer.remote_url,
        reason=str(refusal) if refusal else "",
    )


async def take_in(
    offer: Offer,
    chunks: Callable[[], AsyncIterator[bytes]],
    *,
    rules: FileRules,
    store: FileStore,
    scanner: Scanner | None,
    stall_seconds: float = 60.0,
    progress: Callable[[int], None] | None = None,
) -> Attachment:
    """Fetch, check and (when the policy says so) scan one offered file; returns its final state."""
    offered = precheck(offer, rules)
    if offered.state is AttachmentState.BLOCKED:
        return offered
    limit = rules.max_file_mb * _MIB if rules.max_file_mb is not None else None
    if offer.size is not None:
        limit = offer.size if limit is None else min(limit, offer.size)
    try:
        received = await store.receive(chunks(), limit_bytes=limit, stall_seconds=stall_seconds, progress=progress)
    except TransferFailed as exc:
        return replace(offered, state=AttachmentState.FAILED, reason=str(exc))
    typed = check_type(offered.mime_type, received.head)
    base = replace(offered, mime_type=typed.mime_type, sha256=received.sha256, size=received.size)
    refusal = check_file(rules, base.name, received.size, typed.mime_type)
    if refusal is not None:
        store.discard(received)
        return replace(base, state=AttachmentState.BLOCKED, reason=str(refusal))
    if rules.scans:
        if scanner is None:
            return replace(
                base,
                state=AttachmentState.QUARANTINED,
                reason="no virus scanner is configured",
                local_path=received.path,
            )
        result = await scanner(received.path)
        if result.outcome is ScanOutcome.INFECTED:
            log.warning("infected file %s held in quarantine: %s", base.name, result.detail)
            return replace(
                base,
                state=AttachmentState.INFECTED,
                reason=f"a virus was found: {result.detail}",
                local_path=received.path,
            )
        if result.outcome is ScanOutcome.UNAVAILABLE:
            return replace(
                base, state=AttachmentState.QUARANTINED, reason=result.detail, local_path=received.path
            )
    stored = store.release(received)
    note = f"declared as {typed.declared}, its content is {typed.mime_type}" if typed.mismatch else ""
    return replace(base, state=AttachmentState.CLEAN, local_path=stored, reason=note)
