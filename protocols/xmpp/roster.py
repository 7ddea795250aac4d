"""The roster (RFC 6121): the snapshot at login, pushes, edits, and subscription requests and answers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aggregator.api import RosterItemChanged, RosterItemRemoved, RosterSnapshot, SubscriptionRequested
from protocols.xmpp import mapping
from protocols.xmpp.addresses import normalize_handle
from protocols.xmpp.session import Session

SEND_TIMEOUT = 30.0


class Roster:
    def __init__(self, session: Session) -> None:
        self._s = session

    def on_roster(self, iq: ET.Element, *, snapshot: bool) -> None:
        items, removed, problems = mapping.roster_items(iq)
        for problem in problems:
            self._s.warn(f"ignored a roster item: {problem}")
        account_id = self._s.account_id
        if snapshot:
            self._s.emit(RosterSnapshot(account_id=account_id, items=items))
            return
        for item in items:
            self._s.emit(RosterItemChanged(account_id=account_id, item=item))
        for handle in removed:
            self._s.emit(RosterItemRemoved(account_id=account_id, handle=handle))

    def on_push(self, iq: ET.Element) -> None:
        if iq.get("type") == "set":
            self.on_roster(iq, snapshot=False)

    def on_subscribe(self, stanza: ET.Element) -> None:
        sender = mapping.sender_of(stanza)
        self._s.emit(
            SubscriptionRequested(
                account_id=self._s.account_id,
                handle=sender.bare,
                message=mapping.subscription_message(stanza),
                display_name=mapping.nick_of(stanza),
            )
        )

    async def add(self, handle: str, name: str | None, groups: tuple[str, ...]) -> None:
        client = self._s.ready_client()
        jid = normalize_handle(handle)
        await client.update_roster(jid, name=name or "", groups=list(groups), timeout=SEND_TIMEOUT)
        # Ask to see their presence, and let them see ours when they ask (RFC 6121 pre-approval):
        # adding someone is the user's yes to them too.
        client.send_subscription(jid)
        client.send_presence(to=jid, ptype="subscribed")

    async def remove(self, handle: str) -> None:
        client = self._s.ready_client()
        await client.del_roster_item(normalize_handle(handle))

    async def answer_subscription(self, handle: str, accept: bool) -> None:
        client = self._s.ready_client()
        jid = normalize_handle(handle)
        client.send_presence(to=jid, ptype="subscribed" if accept else "unsubscribed")
        if accept:
            to, pending_out = client.subscription_state(jid)
            if not to and not pending_out:
                client.send_subscription(jid)
