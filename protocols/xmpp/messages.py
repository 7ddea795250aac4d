"""Inbound one-to-one and archived messages: live chat messages, carbons (XEP-0280), archive results,
and bounced messages, each emitted with the catch-up position it completes and with a correction's
target resolved (``corrections.py``).

Every server id is the archive id: on Prosody the MAM result id, the stanza-id on the live copy, on
the offline-storage copy and on carbons are the same string, so the core keeps one row per message.
Our own sent messages come back as own echoes carrying their origin-id (the core's idempotency key).
A live message carries its stanza-id as a position only once its archive is caught up on this
connection; delayed copies (offline storage) carry none.
"""

from __future__ import annotations

import dataclasses
import logging
import xml.etree.ElementTree as ET

from aggregator.api import (
    ConversationKey,
    MessageReceived,
    MessageState,
    MessageStateChanged,
    PositionReached,
    ResumePosition,
)
from protocols.xmpp import mapping
from protocols.xmpp.catchup import Archives
from protocols.xmpp.corrections import Corrections
from protocols.xmpp.mapping import StanzaError
from protocols.xmpp.muc import Rooms
from protocols.xmpp.session import Session

log = logging.getLogger(__name__)


class Inbound:
    """Turns incoming message stanzas into ``MessageReceived`` / ``MessageStateChanged`` events."""

    def __init__(self, session: Session, archives: Archives, rooms: Rooms, corrections: Corrections) -> None:
        self._s = session
        self._archives = archives
        self._rooms = rooms
        self._corrections = corrections
        # Offline copies (delayed by our server) that arrive while the own archive's catch-up runs: the
        # catch-up first brings what came before them (sent while we were going down), so they are
        # emitted after it, in the server's order (most are then duplicates the core drops).
        self._offline_held: list[tuple[ET.Element, MessageReceived]] | None = None

    def hold_offline(self) -> None:
        """From now until ``release_offline``, offline copies of our own archive wait for the catch-up."""
        self._offline_held = []

    def release_offline(self) -> None:
        """Emits the offline copies held during the catch-up (without positions), and stops holding."""
        held, self._offline_held = self._offline_held or [], None
        for stanza, event in held:
            self._emit_message(event, stanza, None)

    def drop_held(self) -> None:
        """The connection is gone: the server's archive holds these for the next catch-up."""
        self._offline_held = None

    def on_message(self, stanza: ET.Element) -> None:
        mtype = stanza.get("type") or "normal"
        if mtype == "error":
            return  # the "message_error" event
        if mtype == "groupchat":
            self._rooms.on_message(stanza)
            return
        if mapping.carbon_of(stanza) is not None:
            return  # handled by the carbon events
        problems: list[str] = []
        event = mapping.message_received(stanza, self._s.ctx, problems)
        for problem in problems:
            self._s.warn(problem)
        self.emit_live(self._s.own.bare, stanza, event)

    def on_carbon(self, stanza: ET.Element) -> None:
        """XEP-0280 copies (slixmpp checked that they come from our own account)."""
        found = mapping.carbon_of(stanza)
        if found is None:
            return
        direction, inner = found
        if (inner.get("type") or "normal") in ("error", "groupchat"):
            return
        problems: list[str] = []
        event = mapping.message_received(inner, self._s.ctx, problems, own_echo=direction == "sent")
        for problem in problems:
            self._s.warn(problem)
        self.emit_live(self._s.own.bare, inner, event)

    def emit_live(self, archive: str, stanza: ET.Element, event: MessageReceived | None) -> None:
        """Emits a live message (if any) with the position it completes in ``archive``, when it has one:
        its stanza-id, once that archive is caught up on this connection (never a delayed copy of our
        own archive, which would move the position back). Without a message, the position alone."""
        position: ResumePosition | None = None
        delayed = archive == self._s.own.bare and event is not None and event.is_backfill
        if not delayed:
            stamp = event.timestamp if event is not None and event.timestamp else None
            position = self._archives.live_position(archive, mapping.stanza_id(stanza, archive), stamp)
        if event is not None and delayed and self._offline_held is not None:
            self._offline_held.append((stanza, event))
        elif event is not None:
            self._emit_message(event, stanza, position)
        elif position is not None:
            self._s.emit(PositionReached(account_id=self._s.account_id, position=position))

    def _emit_message(self, event: MessageReceived, stanza: ET.Element, position: ResumePosition | None) -> None:
        event = self._corrections.resolve(event, (mapping.message_id(stanza), mapping.origin_id(stanza)))
        if position is not None:
            event = dataclasses.replace(event, position=position)
        self._s.emit(event)

    def emit_archived(self, archive: str, result: mapping.MamResult, position: ResumePosition | None) -> bool:
        """Emits one archived message (with ``position``); False when the result is no message of ours."""
        inner = result.message
        mtype = inner.get("type") or "normal"
        own = self._s.own.bare
        problems: list[str] = []
        event: MessageReceived | None = None
        try:
            if archive == own:
                if mtype == "groupchat":
                    return False  # room messages come from the room's own archive
                if mtype == "error":
                    self.on_message_error(inner)
                    return False
                own_echo = mapping.sender_of(inner).bare == own
                event = mapping.message_received(
                    inner, self._s.ctx, problems, own_echo=own_echo, archived=result.archived
                )
            else:
                event = self._rooms.archived_message(archive, inner, result.archived, problems)
        except StanzaError as exc:
            self._s.warn(f"ignored a malformed archived message in {archive}: {exc}")
            return False
        for problem in problems:
            self._s.warn(problem)
        if event is None:
            return False
        self._emit_message(event, inner, position)
        return True

    def on_message_error(self, stanza: ET.Element) -> None:
        """A bounced message: the one we sent with that id failed (``MessageStateChanged`` FAILED)."""
        key = mapping.message_id(stanza)
        sender = mapping.sender_of(stanza)
        reason = mapping.error_of(stanza)
        room = self._rooms.get(sender.bare)
        if room is not None and self._rooms.refused_topic(room, key, reason):
            return
        account_id = self._s.account_id
        if key is None:
            self._s.warn(f"an error from {sender.bare} about a message without an id: {reason}")
            return
        conversation = (
            ConversationKey.room(account_id, sender.bare)
            if room is not None
            else ConversationKey.direct(account_id, sender.bare)
        )
        log.info("%s: message %s to %s failed: %s", account_id, key, sender.bare, reason)
        self._s.emit(
            MessageStateChanged(
                account_id=account_id,
                conversation=conversation,
                state=MessageState.FAILED,
                idempotency_key=key,
                reason=f"{sender.bare} returned the message: {reason}",
            )
        )
