"""Sending files on XMPP: XEP-0363 HTTP File Upload (receiving: ``file_links``).

Sending: the upload service is found by service discovery on our server (the item announcing
``urn:xmpp:http:upload:0``, with its ``max-file-size``); a slot is requested for the file's name, size and
type; the bytes go to the slot's PUT URL (only the headers the XEP allows are copied), and the message
carries the GET URL as its body plus an OOB element, which is what other clients show inline.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from aggregator.api import NetworkError, OutgoingFile, UnsupportedError
from protocols.xmpp.file_links import OOB_NS
from protocols.xmpp.lib import Client, is_iq_error

log = logging.getLogger(__name__)

UPLOAD_NS = "urn:xmpp:http:upload:0"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
DATA_FORMS = "jabber:x:data"
#: XEP-0363 §5: the only headers a client copies from the slot to its PUT.
ALLOWED_HEADERS = frozenset({"authorization", "cookie", "expires"})
TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class UploadService:
    jid: str
    max_bytes: int | None


@dataclass(frozen=True, slots=True)
class Slot:
    put_url: str
    headers: tuple[tuple[str, str], ...]
    get_url: str


# -- sending --------------------------------------------------------------------------------------------


def _int(text: str | None) -> int | None:
    try:
        value = int(text or "")
    except ValueError:
        return None
    return value if value >= 0 else None


def oob(url: str) -> ET.Element:
    element = ET.Element(f"{{{OOB_NS}}}x")
    ET.SubElement(element, f"{{{OOB_NS}}}url").text = url
    return element


def slot_request(file: OutgoingFile) -> ET.Element:
    return ET.Element(
        f"{{{UPLOAD_NS}}}request",
        {"filename": file.name, "size": str(file.size), "content-type": file.mime_type},
    )


def parse_slot(result: ET.Element) -> Slot:
    slot = result.find(f".//{{{UPLOAD_NS}}}slot")
    put = slot.find(f"{{{UPLOAD_NS}}}put") if slot is not None else None
    get = slot.find(f"{{{UPLOAD_NS}}}get") if slot is not None else None
    if put is None or get is None or not put.get("url") or not get.get("url"):
        raise NetworkError("the upload service answered without an upload slot")
    headers = tuple(
        (h.get("name", ""), " ".join((h.text or "").split()))  # no newline can smuggle a header
        for h in put.findall(f"{{{UPLOAD_NS}}}header")
        if h.get("name", "").lower() in ALLOWED_HEADERS
    )
    return Slot(put_url=put.get("url", ""), headers=headers, get_url=get.get("url", ""))


def upload_service_in(info: ET.Element, jid: str) -> UploadService | None:
    """The upload service described by a disco#info result, if it is one."""
    features = {f.get("var") for f in info.iter(f"{{{DISCO_INFO}}}feature")}
    if UPLOAD_NS not in features:
        return None
    max_bytes: int | None = None
    for form in info.iter(f"{{{DATA_FORMS}}}x"):
        fields = {f.get("var"): f.findtext(f"{{{DATA_FORMS}}}value") for f in form.iter(f"{{{DATA_FORMS}}}field")}
        if fields.get("FORM_TYPE") == UPLOAD_NS:
            max_bytes = _int(fields.get("max-file-size"))
    return UploadService(jid, max_bytes)


class Uploads:
    """Finds the upload service once per connection and requests slots from it."""

    def __init__(self) -> None:
        self._service: UploadService | None = None
        self._searched = False

    def reset(self) -> None:
        self._service, self._searched = None, False

    @property
    def max_bytes(self) -> int | None:
        return self._service.max_bytes if self._service is not None else None

    async def service(self, client: Client, domain: str) -> UploadService:
        if not self._searched:
            self._service = await self._discover(client, domain)
            self._searched = True
        if self._service is None:
            raise UnsupportedError(f"{domain} offers no file upload service (XEP-0363)")
        return self._service

    async def _discover(self, client: Client, domain: str) -> UploadService | None:
        candidates = [domain]
        try:
            items = await client.query_iq(ET.Element(f"{{{DISCO_ITEMS}}}query"), to=domain, timeout=TIMEOUT)
            candidates += [i.get("jid", "") for i in items.iter(f"{{{DISCO_ITEMS}}}item") if i.get("jid")]
        except Exception as exc:
            if not is_iq_error(exc):
                raise
        for jid in candidates:
            try:
                info = await client.query_iq(ET.Element(f"{{{DISCO_INFO}}}query"), to=jid, timeout=TIMEOUT)
            except Exception as exc:
                if is_iq_error(exc):
                    continue
                raise
            found = upload_service_in(info, jid)
            if found is not None:
                log.debug("upload service %s (max %s bytes)", jid, found.max_bytes)
                return found
        return None

    async def slot(self, client: Client, domain: str, file: OutgoingFile) -> Slot:
        service = await self.service(client, domain)
        if service.max_bytes is not None and file.size > service.max_bytes:
            mib = service.max_bytes / (1024 * 1024)
            raise UnsupportedError(f"the server accepts files up to {mib:.0f} MB; {file.name} is larger")
        try:
            result = await client.query_iq(slot_request(file), to=service.jid, timeout=TIMEOUT)
        except Exception as exc:
            if is_iq_error(exc):
                raise NetworkError(f"the upload service refused {file.name}: {exc}") from None
            raise
        return parse_slot(result)
