"""The typed edge of slixmpp: the one module of the adapter that touches slixmpp's objects.

``Client`` wraps one ``slixmpp.ClientXMPP`` behind methods with plain, typed arguments and results:
stanzas go in and come out as ``xml.etree.ElementTree.Element`` (what ``mapping`` reads), events are
registered with typed handlers, and the few untyped corners of slixmpp (plugin attributes, stanza
interfaces, ``IqError``) are read here and nowhere else, so the feature modules hold no ``Any``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import slixmpp
from slixmpp.plugins.xep_0198 import stanza as sm_stanza
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

log = logging.getLogger(__name__)

PLUGINS = (
    "xep_0030",  # service discovery (needed by the others)
    "xep_0085",  # chat states
    "xep_0184",  # delivery receipts
    "xep_0198",  # stream management: the server's ack for each sent stanza
    "xep_0199",  # ping: the ack when stream management is not available
    "xep_0203",  # delayed delivery
    "xep_0280",  # message carbons
    "xep_0359",  # unique and stable stanza ids
)

#: Handlers of the client's events: a stanza (as its XML), or what slixmpp passes for a non-stanza event
#: (an exception, a reason text, a certificate), which the handler checks with ``isinstance``.
StanzaHandler = Callable[[ET.Element], None]
EventHandler = Callable[[object], None]
#: A stream-features handler returns True to leave slixmpp's own negotiation nothing to negotiate.
FeaturesHandler = Callable[[ET.Element], bool]


def xml_of(data: object) -> ET.Element:
    """The XML element of a slixmpp stanza (or the element itself)."""
    element = getattr(data, "xml", data)
    if not isinstance(element, ET.Element):
        raise TypeError(f"not a stanza: {type(data).__name__}")
    return element


def iq_error_condition(exc: BaseException) -> str | None:
    """The error condition (e.g. ``item-not-found``) of slixmpp's ``IqError``, else None."""
    condition = getattr(exc, "condition", None)
    return condition if isinstance(condition, str) else None


def is_iq_error(exc: BaseException) -> bool:
    """True for slixmpp's ``IqError``: the server answered (with an error)."""
    return type(exc).__name__ == "IqError"


class Client:
    """One slixmpp client stream, configured for the aggregator (no stream resumption, no automatic
    subscription answers, receipts asked per message, TLS as the account says)."""

    def __init__(self, jid: str, password: str, *, direct_tls: bool) -> None:
        self._xmpp: Any = slixmpp.ClientXMPP(jid, password)
        for plugin in PLUGINS:
            self._xmpp.register_plugin(plugin)
        self._xmpp.plugin["xep_0198"].allow_resume = False
        self._xmpp.plugin["xep_0184"].auto_request = False  # we ask per chat message, not per stanza
        self._xmpp.auto_authorize = None  # subscription requests go to the user
        self._xmpp.auto_subscribe = False
        self._xmpp.enable_direct_tls = direct_tls
        self._xmpp.enable_starttls = not direct_tls
        self._xmpp.enable_plaintext = False

    # ----------------------------------------------------------------------------- configuration

    def allow_unencrypted_scram(self) -> None:
        self._xmpp.plugin["feature_mechanisms"].unencrypted_scram = True

    @property
    def ssl_context(self) -> ssl.SSLContext:
        return cast(ssl.SSLContext, self._xmpp.ssl_context)

    def set_ca_file(self, path: Path) -> None:
        self._xmpp.ca_certs = path

    def on_library_exception(self, handler: Callable[[Exception], None]) -> None:
        self._xmpp.exception = handler

    def on_stanza(self, event: str, handler: StanzaHandler) -> None:
        """``handler`` gets the XML of the stanza each ``event`` carries."""
        self._xmpp.add_event_handler(event, lambda data: handler(xml_of(data)))

    def on_event(self, event: str, handler: EventHandler) -> None:
        """``handler`` gets what slixmpp passes with ``event`` (no stanza)."""
        self._xmpp.add_event_handler(event, handler)

    def on_xpath(self, name: str, path: str, handler: StanzaHandler) -> None:
        """``handler`` for every incoming stanza matching ``path`` (e.g. ``{jabber:client}message/{ns}x``)."""
        self._xmpp.register_handler(Callback(name, MatchXPath(path), lambda data: handler(xml_of(data))))

    def on_stream_features(self, name: str, handler: FeaturesHandler) -> None:
        """``handler`` runs on ``<stream:features/>`` before slixmpp's own; True empties them."""

        def run(features: Any) -> None:
            if handler(xml_of(features)):
                with contextlib.suppress(Exception):
                    features.xml.clear()
                    features.plugins.clear()

        self._xmpp.register_handler(Callback(name, MatchXPath(f"{{{self._xmpp.stream_ns}}}features"), run))

    # -------------------------------------------------------------------------------- connection

    def connect(self, server: tuple[str, int] | None) -> None:
        if server is None:
            self._xmpp.connect()
        else:
            self._xmpp.connect(*server)

    @property
    def has_transport(self) -> bool:
        return self._xmpp.transport is not None

    def ssl_object(self) -> object | None:
        """The TLS object of the stream's transport (None while unencrypted)."""
        transport = self._xmpp.transport
        return transport.get_extra_info("ssl_object") if transport is not None else None

    @property
    def starttls_enabled(self) -> bool:
        return bool(self._xmpp.enable_starttls)

    @property
    def bound_jid(self) -> str:
        return str(self._xmpp.boundjid)

    def is_connecting(self) -> bool:
        return bool(self._xmpp.is_connecting())

    def cancel_connection_attempt(self) -> None:
        self._xmpp.cancel_connection_attempt()

    def abort(self) -> None:
        self._xmpp.abort()

    async def disconnect(self, wait: float) -> None:
        await self._xmpp.disconnect(wait=wait)

    async def stop_send_loop(self) -> None:
        """slixmpp leaves its send loop running after an abort; this ends it."""
        sender = getattr(self._xmpp, "_run_out_filters", None)
        if isinstance(sender, asyncio.Future) and not sender.done():
            sender.cancel()
            with contextlib.suppress(BaseException):
                await sender

    # --------------------------------------------------------------------------------- session

    async def get_roster(self, timeout: float) -> ET.Element:
        return xml_of(await self._xmpp.get_roster(timeout=timeout))

    async def enable_carbons(self, timeout: float) -> None:
        await self._xmpp.plugin["xep_0280"].enable(timeout=timeout)

    async def update_roster(self, jid: str, *, name: str, groups: list[str], timeout: float) -> None:
        await self._xmpp.update_roster(jid, name=name, groups=groups, timeout=timeout)

    async def del_roster_item(self, jid: str) -> None:
        await self._xmpp.del_roster_item(jid)

    def subscription_state(self, jid: str) -> tuple[bool, bool]:
        """(we see their presence, we asked to) of ``jid`` in the roster slixmpp keeps."""
        item = self._xmpp.client_roster[jid]
        return bool(item["to"]), bool(item["pending_out"])

    # ------------------------------------------------------------------------------------ sending

    def send_presence(
        self, *, to: str | None = None, ptype: str | None = None, show: str | None = None, status: str | None = None
    ) -> None:
        kwargs: dict[str, str] = {}
        if to is not None:
            kwargs["pto"] = to
        if ptype is not None:
            kwargs["ptype"] = ptype
        if show is not None:
            kwargs["pshow"] = show
        if status is not None:
            kwargs["pstatus"] = status
        self._xmpp.send_presence(**kwargs)

    def send_subscription(self, to: str) -> None:
        self._xmpp.send_presence_subscription(pto=to)

    def send_presence_with(self, to: str, payload: ET.Element) -> None:
        """An available presence to ``to`` carrying ``payload`` (e.g. a MUC join's ``<x/>``)."""
        presence = self._xmpp.make_presence(pto=to)
        presence.xml.append(payload)
        presence.send()

    def send_message(
        self,
        to: str,
        mtype: str,
        *,
        body: str | None = None,
        key: str | None = None,
        origin_id: str | None = None,
        chat_state: str | None = None,
        request_receipt: bool = False,
        extra: ET.Element | None = None,
    ) -> None:
        """A ``<message/>`` with the ``id`` ``key`` and the XEP-0359 ``origin_id``."""
        message = self._xmpp.make_message(mto=to, mbody=body, mtype=mtype)
        if request_receipt:
            message["request_receipt"] = True
        if chat_state is not None:
            message["chat_state"] = chat_state
        if key is not None:
            message["id"] = key
        if origin_id is not None:
            message["origin_id"]["id"] = origin_id
        if extra is not None:
            message.xml.append(extra)
        message.send()

    async def send_iq(self, payload: ET.Element, *, to: str | None, timeout: float) -> ET.Element:
        """An ``<iq type='set'/>`` with ``payload``; its result's XML (slixmpp raises on error answers)."""
        iq = self._xmpp.make_iq_set() if to is None else self._xmpp.make_iq_set(ito=to)
        iq.xml.append(payload)
        return xml_of(await iq.send(timeout=timeout))

    async def query_iq(self, payload: ET.Element, *, to: str | None = None, timeout: float) -> ET.Element:
        """An ``<iq type='get'/>`` with ``payload`` (disco, an upload slot); its result's XML."""
        iq = self._xmpp.make_iq_get(ito=to) if to is not None else self._xmpp.make_iq_get()
        iq.xml.append(payload)
        return xml_of(await iq.send(timeout=timeout))

    @property
    def stream_management(self) -> bool:
        """Stream management (XEP-0198) is on: the server acks each stanza we send."""
        return bool(self._xmpp.plugin["xep_0198"].enabled_out)

    def request_ack(self) -> None:
        """Asks the server for a stream management ack (queued after what was sent before)."""
        self._xmpp.send(str(sm_stanza.RequestAck(self._xmpp)))

    async def ping(self, jid: str, timeout: float) -> None:
        await self._xmpp.plugin["xep_0199"].ping(jid=jid, timeout=timeout)
