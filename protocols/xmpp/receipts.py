"""Delivery receipts (XEP-0184): a ``<received/>`` from the peer marks our message DELIVERED.
(Receipts are asked for per chat message when it is sent: ``sending.py``.)"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aggregator.api import ConversationKey, MessageState, MessageStateChanged
from protocols.xmpp import mapping
from protocols.xmpp.mapping import StanzaError
from protocols.xmpp.session import Session


class Receipts:
    def __init__(self, session: Session) -> None:
        self._s = session

    def on_receipt(self, stanza: ET.Element) -> None:
        receipt = mapping.receipt_of(stanza)
        if receipt is None:
            raise StanzaError("a delivery receipt without an id")
        peer = mapping.sender_of(stanza)
        self._s.emit(
            MessageStateChanged(
                account_id=self._s.account_id,
                conversation=ConversationKey.direct(self._s.account_id, peer.bare),
                state=MessageState.DELIVERED,
                idempotency_key=receipt,
            )
        )
