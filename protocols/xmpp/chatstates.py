"""Typing notifications (XEP-0085 chat states), both ways, in one-to-one chats."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aggregator.api import ConversationKey, TypingChanged
from protocols.xmpp import mapping
from protocols.xmpp.addresses import Jid
from protocols.xmpp.session import Session


class ChatStates:
    def __init__(self, session: Session) -> None:
        self._s = session

    def on_chat_state(self, stanza: ET.Element) -> None:
        if mapping.carbon_of(stanza) is not None or stanza.get("type") == "groupchat":
            return
        state = mapping.chat_state_of(stanza)
        if state is None:
            return
        peer = mapping.sender_of(stanza)
        self._s.emit(
            TypingChanged(
                account_id=self._s.account_id,
                conversation=ConversationKey.direct(self._s.account_id, peer.bare),
                handle=peer.bare,
                typing=state in mapping.TYPING_STATES,
            )
        )

    def set_typing(self, peer: Jid, typing: bool) -> None:
        client = self._s.ready_client()
        client.send_message(peer.bare, "chat", chat_state="composing" if typing else "active")
