"""The inbound pipeline: deduplicate -> policy -> resolve -> store -> announce.

Backfilled history (MAM, /messages, replay) takes the same path, so it is deduplicated the same way.
Each stage is a named method that returns the context to continue with or None to stop.

A message's catch-up position (``MessageReceived.position``) is stored in the message's own transaction;
when the message is not stored (a duplicate, held by policy) the position is stored on its own, since
the message is then handled for good. When storing fails, the account's positions are held (see
``positions.py``).

Order of backfilled and live messages: history sorts by the time-ordered id. Live messages carry the
local receive time, which lags the server's clock under load, and some servers stamp their history in
whole seconds (``TimestampPrecision.SECOND``); so a message caught up after a crash would sort before
live messages the server had before it. Catch-up resumes from the stored position, so such a message
is placed after the conversation's messages that the server had before it: those stored before the
current connection, and backfilled ones stamped no later, up to ``MAX_RECEIVE_LAG`` after its stamp;
live messages of the current connection and backfill stamped later stay after it. ``sent_at`` keeps
the server's stamp; only the place in the order (the id) moves.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aggregator.api import MessageReceived, MessageState, PositionReached, TimestampPrecision
from aggregator.archive import Archive, Direction, Placement, StoredMessage
from aggregator.bus import EventBus
from aggregator.conversations.positions import CatchupPositions
from aggregator.events import MessageStored, MessageUpdated
from aggregator.policy import PolicyEngine

if TYPE_CHECKING:
    from aggregator.files.service import FileService

log = logging.getLogger(__name__)

# Server clocks drift; a timestamp further ahead than this is not believed.
MAX_CLOCK_SKEW = timedelta(hours=1)
# How far the local receive time of a live message may trail the server's stamp of a later message
# (the client's own backlog under a flood, clock skew): a backfilled message stamped in whole seconds
# is placed after the messages stored up to this long after its stamp (measured: up to 1.21 s under
# the chaos suite's 300-message XMPP flood, docs/reliability.md).
MAX_RECEIVE_LAG = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class InboundContext:
    event: MessageReceived
    received_at: datetime
    conversation_id: int = 0
    server_id: str | None = None
    sent_at: datetime | None = None
    stored: StoredMessage | None = None
    #: Where among the stored messages it goes, when not at its own time (see ``place``).
    placement: Placement | None = None


Stage = Callable[[InboundContext], "InboundContext | None"]


def synthetic_server_id(event: MessageReceived, at: datetime) -> str:
    """A stable id for a message the server gave none (IRC without msgid): sender, time and body."""
    digest = hashlib.sha256(f"{event.sender}\x00{at.isoformat()}\x00{event.body}".encode()).hexdigest()
    return "h:" + digest[:40]


class InboundPipeline:
    def __init__(
        self, archive: Archive, bus: EventBus, policy: PolicyEngine, positions: CatchupPositions | None = None
    ) -> None:
        self._archive = archive
        self.positions = positions if positions is not None else CatchupPositions(archive)
        self._bus = bus
        self._policy = policy
        #: The file service (set by the bootstrap): records the files a message carries.
        self.files: FileService | None = None
        self.stages: list[tuple[str, Stage]] = [
            ("timestamp", self.normalise_time),
            ("resolve", self.resolve),
            ("deduplicate", self.deduplicate),
            ("policy", self.apply_policy),
            ("place", self.place),
            ("store", self.store),
        ]

    def process(self, event: MessageReceived, received_at: datetime | None = None) -> StoredMessage | None:
        ctx: InboundContext | None = InboundContext(event=event, received_at=received_at or datetime.now(UTC))
        try:
            for name, stage in self.stages:
                assert ctx is not None
                ctx = stage(ctx)
                if ctx is None:
                    log.debug("Inbound message stopped at stage %s", name)
                    if event.position is not None and name != "store":  # handled for good, without a row
                        self.positions.save(event.account_id, event.position)
                    return None
        except Exception:
            self.positions.hold(event.account_id)
            raise
        return ctx.stored if ctx is not None else None

    def reached(self, event: PositionReached) -> None:
        """A position that came without a message: everything the account emitted before it is handled."""
        self.positions.save(event.account_id, event.position)

    # -- stages -------------------------------------------------------------------------------------

    def normalise_time(self, ctx: InboundContext) -> InboundContext:
        ts = ctx.event.timestamp
        if ts is None:
            return replace(ctx, sent_at=ctx.received_at)
        if ts.tzinfo is None:
            log.warning("Adapter %s gave a naive timestamp; taking it as UTC", ctx.event.account_id)
            ts = ts.replace(tzinfo=UTC)
        if ts - ctx.received_at > MAX_CLOCK_SKEW:
            log.warning("Timestamp %s is in the future; using the receive time", ts.isoformat())
            ts = ctx.received_at
        return replace(ctx, sent_at=ts.astimezone(UTC))

    def resolve(self, ctx: InboundContext) -> InboundContext:
        conv_id = self._archive.conversation_id(ctx.event.conversation)
        assert conv_id is not None
        server_id = ctx.event.server_id
        if server_id is None and ctx.event.timestamp is not None and ctx.sent_at is not None:
            server_id = synthetic_server_id(ctx.event, ctx.sent_at)
        return replace(ctx, conversation_id=conv_id, server_id=server_id)

    def deduplicate(self, ctx: InboundContext) -> InboundContext | None:
        event = ctx.event
        if event.is_own_echo and event.idempotency_key:
            mine = self._archive.find_by_idempotency_key(event.account_id, event.idempotency_key)
            if mine is not None:
                self._confirm_own(mine, ctx.server_id)
                return None
        if ctx.server_id is not None:
            existing = self._archive.find_by_server_id(ctx.conversation_id, ctx.server_id)
            if existing is not None:
                if event.replaces_server_id == ctx.server_id:
                    self._complete(existing, event)
                return None
        return ctx

    def _complete(self, existing: StoredMessage, event: MessageReceived) -> None:
        """The adapter now has the real content of a message it stored as a placeholder (an event that
        could not be decrypted until its keys arrived): fill it in, once."""
        if existing.body == event.body and existing.kind is event.kind:
            return
        updated = self._archive.update_message(existing.id, body=event.body, kind=event.kind)
        if updated is not None:
            self._bus.publish(MessageUpdated(message=updated))

    def _confirm_own(self, mine: StoredMessage, server_id: str | None) -> None:
        """Our own message came back from the server: it is sent, and now we know its server id."""
        new_state = MessageState.SENT if mine.state in (MessageState.PENDING, MessageState.FAILED) else None
        new_id = server_id if server_id and not mine.server_id else None
        if new_state is None and new_id is None:
            return
        updated = self._archive.update_message(mine.id, state=new_state, server_id=new_id, error="")
        if updated is not None:
            self._bus.publish(MessageUpdated(message=updated))

    def apply_policy(self, ctx: InboundContext) -> InboundContext | None:
        decision = self._policy.check_inbound(ctx.event)
        if not decision.allowed:
            log.info("Inbound message held by policy rule %s", decision.rule)
            return None
        return ctx

    def place(self, ctx: InboundContext) -> InboundContext:
        """A backfilled message stamped in whole seconds goes after what the server had before it."""
        event = ctx.event
        if not event.is_backfill or event.timestamp_precision is not TimestampPrecision.SECOND:
            return ctx
        assert ctx.sent_at is not None
        placement = self._archive.placement(
            ctx.conversation_id,
            ctx.sent_at,
            until=ctx.sent_at + MAX_RECEIVE_LAG,
            connected_at=self.positions.connected_at(event.account_id),
        )
        return ctx if placement is None else replace(ctx, placement=placement)

    def store(self, ctx: InboundContext) -> InboundContext | None:
        event = ctx.event
        assert ctx.sent_at is not None
        edit_of: int | None = None
        if event.replaces_server_id:
            target = self._archive.find_by_server_id(ctx.conversation_id, event.replaces_server_id)
            edit_of = target.id if target else None
        outgoing = event.is_own_echo
        stored = self._archive.insert_message(
            conversation_id=ctx.conversation_id,
            account_id=event.account_id,
            direction=Direction.OUT if outgoing else Direction.IN,
            sender=event.sender,
            sender_name=event.sender_name,
            body=event.body,
            kind=event.kind,
            sent_at=ctx.sent_at,
            received_at=ctx.received_at,
            state=MessageState.SENT if outgoing else MessageState.RECEIVED,
            server_id=ctx.server_id,
            idempotency_key=event.idempotency_key,
            edit_of=edit_of,
            is_backfill=event.is_backfill,
            position=event.position if event.position and self.positions.may_store(event.account_id) else None,
            placement=ctx.placement,
        )
        if stored is None:  # a concurrent duplicate
            return None
        self._bus.publish(MessageStored(message=stored))
        if event.files and self.files is not None:
            self.files.offered(stored, event.files)
        return replace(ctx, stored=stored)
