"""XEP-0191 blocking: block and unblock a JID on the server, read the block list.

A blocked JID's messages, presence and subscription requests are dropped by the server; the core drops
them too (its own list), so a server without XEP-0191 still keeps them out of the window: then ``block``
raises ``UnsupportedError`` and says so.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aggregator.api import NetworkError, ProtocolError, UnsupportedError
from protocols.xmpp import lib, mapping
from protocols.xmpp.addresses import normalize_handle
from protocols.xmpp.session import Session

TIMEOUT = 30.0


def _request(verb: str, jid: str | None = None) -> ET.Element:
    element = ET.Element(f"{{{mapping.NS_BLOCKING}}}{verb}")
    if jid is not None:
        ET.SubElement(element, f"{{{mapping.NS_BLOCKING}}}item", {"jid": jid})
    return element


class Blocking:
    def __init__(self, session: Session) -> None:
        self._s = session

    async def _set(self, verb: str, handle: str) -> None:
        client = self._s.ready_client()
        try:
            await client.send_iq(_request(verb, normalize_handle(handle)), to=None, timeout=TIMEOUT)
        except Exception as exc:
            if not lib.is_iq_error(exc):
                raise NetworkError(f"the server did not answer the request to {verb} {handle}") from exc
            condition = lib.iq_error_condition(exc)
            if condition in ("feature-not-implemented", "service-unavailable"):
                raise UnsupportedError(f"the server {self._s.own.domain} does not support blocking") from None
            raise ProtocolError(f"the server refused to {verb} {handle}: {condition or 'an error'}") from None

    async def block(self, handle: str) -> None:
        await self._set("block", handle)

    async def unblock(self, handle: str) -> None:
        await self._set("unblock", handle)

    async def blocked(self) -> tuple[str, ...]:
        client = self._s.ready_client()
        result = await client.query_iq(_request("blocklist"), timeout=TIMEOUT)
        listing = result.find(f"{{{mapping.NS_BLOCKING}}}blocklist")
        if listing is None:
            return ()
        items = listing.findall(f"{{{mapping.NS_BLOCKING}}}item")
        return tuple(sorted(str(item.get("jid")) for item in items if item.get("jid")))
