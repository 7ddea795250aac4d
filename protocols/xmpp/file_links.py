"""Files announced in received XMPP messages: XEP-0066 OOB and XEP-0385 SIMS links, and bare
``aesgcm://`` bodies (OMEMO media sharing; the key is the link's fragment, never kept).

Pure functions of the stanza's XML: no client, no network.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlsplit

from aggregator.api import FileOffer

OOB_NS = "jabber:x:oob"
REFERENCE_NS = "urn:xmpp:reference:0"
SIMS_NS = "urn:xmpp:sims:1"
FILE_NS = "urn:xmpp:jingle:apps:file-transfer:5"
_SCHEMES = frozenset({"https", "http", "aesgcm"})


def _name_from_url(url: str) -> str:
    path = urlsplit(url).path
    return unquote(path.rsplit("/", 1)[-1]) or "file"


def _int(text: str | None) -> int | None:
    try:
        value = int(text or "")
    except ValueError:
        return None
    return value if value >= 0 else None


def _offer(url: str, *, name: str | None = None, size: int | None = None, mime: str | None = None) -> FileOffer:
    scheme = urlsplit(url).scheme.lower()
    encrypted = scheme == "aesgcm"
    if encrypted:
        # The fragment is the key: never keep it where the core stores or shows the link.
        url = url.split("#", 1)[0]
    return FileOffer(url=url, name=name or _name_from_url(url), size=size, mime_type=mime, encrypted=encrypted)


def offers_in(message: ET.Element, body: str) -> tuple[FileOffer, ...]:
    """The files a received ``<message/>`` carries (OOB, SIMS, or a bare ``aesgcm://`` body)."""
    found: dict[str, FileOffer] = {}
    for reference in message.iter(f"{{{REFERENCE_NS}}}reference"):
        sharing = reference.find(f"{{{SIMS_NS}}}media-sharing")
        if sharing is None:
            continue
        file = sharing.find(f"{{{FILE_NS}}}file")
        sources = [r.get("uri", "") for r in sharing.iter(f"{{{REFERENCE_NS}}}reference")]
        uri = next((u for u in sources if urlsplit(u).scheme.lower() in _SCHEMES), None)
        if uri is None:
            continue
        name = file.findtext(f"{{{FILE_NS}}}name") if file is not None else None
        size = _int(file.findtext(f"{{{FILE_NS}}}size")) if file is not None else None
        mime = file.findtext(f"{{{FILE_NS}}}media-type") if file is not None else None
        offer = _offer(uri, name=name, size=size, mime=mime)
        found.setdefault(offer.url, offer)
    for oob in message.findall(f"{{{OOB_NS}}}x"):
        url = (oob.findtext(f"{{{OOB_NS}}}url") or "").strip()
        if url and urlsplit(url).scheme.lower() in _SCHEMES:
            offer = _offer(url)
            found.setdefault(offer.url, offer)
    text = body.strip()
    if not found and text.lower().startswith("aesgcm://") and " " not in text:
        offer = _offer(text)
        found[offer.url] = offer
    return tuple(found.values())
