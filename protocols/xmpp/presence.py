"""Presence: the contacts' presence merged over their resources, and our own presence.

XMPP has no standard invisibility that servers implement (XEP-0186 is rare), so ``INVISIBLE`` sends
unavailable presence, like ``OFFLINE``: contacts see the account offline, the server stops routing
presence to it, and messages to the bare JID wait in offline storage / MAM until it is visible again.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aggregator.api import Presence, PresenceChanged, PresenceKind
from protocols.xmpp import mapping
from protocols.xmpp.addresses import Jid
from protocols.xmpp.lib import Client
from protocols.xmpp.session import Session


def best_presence(resources: dict[str, tuple[int, Presence]], fallback: Presence) -> Presence:
    """The presence of the highest-priority, most available resource; offline without one."""
    if not resources:
        return Presence(PresenceKind.OFFLINE, fallback.status if fallback.kind is PresenceKind.OFFLINE else "")
    _, best = min(resources.values(), key=lambda entry: (-entry[0], entry[1].kind.rank))
    return best


class Presences:
    def __init__(self, session: Session) -> None:
        self._s = session
        self.own = Presence(PresenceKind.AVAILABLE)
        self._resources: dict[str, dict[str, tuple[int, Presence]]] = {}
        self._shown: dict[str, Presence] = {}

    def on_presence(self, stanza: ET.Element, sender: Jid) -> None:
        """A contact's presence (not a room's: ``muc.py``)."""
        presence = mapping.presence_of(stanza)
        if presence is None:
            return
        if sender.bare == self._s.own.bare or not sender.localpart:
            return  # our own resources; server components
        resources = self._resources.setdefault(sender.bare, {})
        if presence.kind is PresenceKind.OFFLINE:
            resources.pop(sender.resource, None)
        else:
            resources[sender.resource] = (mapping.priority_of(stanza), presence)
        best = best_presence(resources, fallback=presence)
        if self._shown.get(sender.bare) != best:
            self._shown[sender.bare] = best
            self._s.emit(PresenceChanged(account_id=self._s.account_id, handle=sender.bare, presence=best))

    def clear(self) -> None:
        self._resources.clear()
        self._shown.clear()

    def send_own(self, client: Client) -> None:
        presence = self.own
        if presence.kind in (PresenceKind.OFFLINE, PresenceKind.INVISIBLE):
            client.send_presence(ptype="unavailable", status=presence.status or None)
            return
        show = mapping.KIND_TO_SHOW[presence.kind]
        client.send_presence(show=show or None, status=presence.status or None)

    def set_own(self, presence: Presence) -> None:
        self.own = presence
        client = self._s.client
        if self._s.connected and client is not None:
            self.send_own(client)
