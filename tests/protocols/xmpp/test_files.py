"""Files on XMPP against a real Prosody with mod_http_file_share on HTTPS (issue 16, item 1).

The second client is a bare slixmpp session that asks for an upload slot itself (XEP-0363) and PUTs the
bytes with aiohttp, as Conversations or Gajim do, then sends the link with OOB (XEP-0066).
"""

from __future__ import annotations

import hashlib
import os
import ssl
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from aggregator.api import ConversationKey, MessageReceived, NetworkError, OutgoingFile, OutgoingMessage
from protocols.xmpp.file_links import offers_in
from tests.contract.xmpp_harness import XmppHarness, XmppPeer
from tests.files.peer_upload import fetch, peer_upload, send_link
from tests.protocols.xmpp.conftest import NewClient

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)


async def test_our_picture_reaches_the_other_client_intact_with_an_oob_link(
    new_client: NewClient, harness: XmppHarness, peer: XmppPeer, tmp_path: Path
) -> None:
    client = await new_client()
    path = tmp_path / "holiday photo.png"
    path.write_bytes(PNG)
    file = OutgoingFile(path=path, name=path.name, mime_type="image/png", size=len(PNG))
    conversation = ConversationKey.direct(client.adapter._account_id, peer.handle)
    receipt = await client.adapter.send_message(conversation, OutgoingMessage("", "file-1", file=file))
    assert receipt.file_url is not None and receipt.file_url.startswith("https://")
    _sender, body = await peer.next_message()
    assert body == receipt.file_url  # body == URL: what other clients show inline
    stanza = peer.stanzas[-1]
    assert stanza.xml.find("{jabber:x:oob}x/{jabber:x:oob}url").text == receipt.file_url
    assert hashlib.sha256(await fetch(harness.certs.ca_file, body)).digest() == hashlib.sha256(PNG).digest()
    assert client.adapter.max_upload_bytes() == 64 * 1024 * 1024


async def test_a_caption_goes_first_as_its_own_message(new_client: NewClient, peer: XmppPeer, tmp_path: Path) -> None:
    client = await new_client()
    path = tmp_path / "notes.txt"
    path.write_bytes(b"minutes of the meeting\n")
    file = OutgoingFile(path=path, name="notes.txt", mime_type="text/plain", size=path.stat().st_size)
    conversation = ConversationKey.direct(client.adapter._account_id, peer.handle)
    await client.adapter.send_message(conversation, OutgoingMessage("the minutes", "file-2", file=file))
    assert (await peer.next_message())[1] == "the minutes"
    assert (await peer.next_message())[1].endswith("/notes.txt")


@pytest.mark.parametrize("size", [len(PNG), 50 * 1024 * 1024], ids=["picture", "50MB"])
async def test_a_file_from_the_other_client_arrives_as_an_offer_and_downloads_intact(
    new_client: NewClient, harness: XmppHarness, peer: XmppPeer, size: int
) -> None:
    client = await new_client()
    data = PNG if size == len(PNG) else os.urandom(1024 * 1024) * 50
    name = "holiday.png" if size == len(PNG) else "dataset.bin"
    mime = "image/png" if name.endswith(".png") else "application/octet-stream"
    url = await peer_upload(peer, harness.server.domain, harness.certs.ca_file, name, data, mime)
    send_link(peer, client.jid, url, "f1")
    received = await client.sink.wait_for(MessageReceived, lambda e: e.body == url)
    assert len(received.files) == 1
    offer = received.files[0]
    assert offer.url == url and offer.name == name and not offer.encrypted
    digest, total = hashlib.sha256(), 0
    async for chunk in client.adapter.download(offer):
        digest.update(chunk)
        total += len(chunk)
    assert total == len(data) and digest.digest() == hashlib.sha256(data).digest()


async def test_an_omemo_link_is_an_encrypted_file_never_fetched(new_client: NewClient, peer: XmppPeer) -> None:
    client = await new_client()
    link = "aesgcm://127.0.0.1/upload/x/photo.jpg#" + "ab" * 44
    peer.send_raw(f"<message to='{client.jid}' type='chat' id='f2'><body>{link}</body></message>")
    received = await client.sink.wait_for(MessageReceived, lambda e: e.body == link)
    (offer,) = received.files
    assert offer.encrypted and offer.name == "photo.jpg"
    assert "#" not in offer.url  # the key is never kept
    with pytest.raises(Exception, match="end-to-end encrypted"):
        client.adapter.download(offer)


# -- what other clients put on the wire (examples of XEP-0066 §3 and XEP-0385 §3, XSF) ----------------------


def test_an_oob_link_and_a_sims_reference_are_offers() -> None:
    oob = ET.fromstring(
        "<message xmlns='jabber:client' from='stpeter@jabber.org/work' to='MaineBoy@jabber.org/home'>"
        "<body>Yeah, but do you have a license to Jabber?</body>"
        "<x xmlns='jabber:x:oob'><url>http://www.jabber.org/images/psa-license.jpg</url></x></message>"
    )
    (offer,) = offers_in(oob, "Yeah, but do you have a license to Jabber?")
    assert offer.url == "http://www.jabber.org/images/psa-license.jpg" and offer.name == "psa-license.jpg"
    sims = ET.fromstring(
        "<message xmlns='jabber:client' to='juliet@example.org' id='sims1'><body>here it is</body>"
        "<reference xmlns='urn:xmpp:reference:0' type='data' "
        "uri='urn:xmpp:jingle:apps:file-transfer:5' begin='0' end='0'>"
        "<media-sharing xmlns='urn:xmpp:sims:1'>"
        "<file xmlns='urn:xmpp:jingle:apps:file-transfer:5'><media-type>image/jpeg</media-type>"
        "<name>summit.jpg</name><size>3032449</size></file>"
        "<sources><reference xmlns='urn:xmpp:reference:0' type='data' "
        "uri='https://download.montague.lit/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/summit.jpg'/></sources>"
        "</media-sharing></reference></message>"
    )
    (offer,) = offers_in(sims, "here it is")
    assert offer.name == "summit.jpg" and offer.size == 3032449 and offer.mime_type == "image/jpeg"
    assert offer.url.endswith("/summit.jpg")


def test_a_plain_message_with_a_link_is_no_file() -> None:
    message = ET.fromstring("<message xmlns='jabber:client'><body>see https://example.org/a.png</body></message>")
    assert offers_in(message, "see https://example.org/a.png") == ()


async def test_a_redirect_to_plain_http_or_a_file_url_is_refused() -> None:
    from aiohttp import web

    from protocols import http_files

    async def to_file(_request: web.Request) -> web.Response:
        raise web.HTTPFound("file:///etc/passwd")

    app = web.Application()
    app.router.add_get("/x", to_file)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with pytest.raises(NetworkError, match="redirected to a file: link"):
            async for _ in http_files.download(
                f"http://127.0.0.1:{port}/x", ssl.create_default_context(), allow_http=True
            ):
                pass
        with pytest.raises(NetworkError, match="offered as a http: link"):
            async for _ in http_files.download(f"http://127.0.0.1:{port}/x", ssl.create_default_context()):
                pass
    finally:
        await runner.cleanup()
