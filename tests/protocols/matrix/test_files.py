"""Files on Matrix against the session's Synapse (issue 16, item 2): a second client (plain nio) uploads
a picture, plain and encrypted as Element does in an encrypted room; we read the event's content, fetch
through the authenticated media endpoint and decrypt; our uploads come back intact through nio."""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

import nio
import pytest
from nio.crypto.attachments import decrypt_attachment, encrypt_attachment

from aggregator.api import NetworkError, OutgoingFile
from protocols import http_files
from protocols.matrix import files
from tests.contract.matrix_harness import MatrixHarness

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(70_000)
TLS = http_files.tls_for(None, None)


async def _collect(chunks: Any) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def _peer_upload(client: nio.AsyncClient, data: bytes, mime: str, name: str) -> str:
    answer, _keys = await client.upload(io.BytesIO(data), content_type=mime, filename=name, filesize=len(data))
    assert isinstance(answer, nio.UploadResponse), answer
    return str(answer.content_uri)


async def test_a_picture_from_another_client_is_an_offer_we_fetch_intact(matrix_harness: MatrixHarness) -> None:
    peer = await matrix_harness.new_peer()
    me = await matrix_harness.new_matrix_user("me")
    uri = await _peer_upload(peer.client, PNG, "image/png", "holiday.png")
    content = {
        "msgtype": "m.image",
        "body": "holiday.png",
        "url": uri,
        "info": {"mimetype": "image/png", "size": len(PNG), "w": 10, "h": 10},
    }
    offer = files.offer_from_content(content)
    assert offer is not None and offer.url == uri and offer.name == "holiday.png" and offer.size == len(PNG)
    data = await _collect(files.download(matrix_harness.server.url, me.access_token, TLS, offer.url, allow_http=True))
    assert hashlib.sha256(data).digest() == hashlib.sha256(PNG).digest()


async def test_an_encrypted_attachment_is_decrypted_and_a_tampered_one_refused(matrix_harness: MatrixHarness) -> None:
    peer = await matrix_harness.new_peer()
    me = await matrix_harness.new_matrix_user("me")
    ciphertext, keys = encrypt_attachment(PNG)
    uri = await _peer_upload(peer.client, ciphertext, "application/octet-stream", "")
    content = {
        "msgtype": "m.image",
        "body": "secret.png",
        "info": {"mimetype": "image/png", "size": len(PNG)},
        "file": {"url": uri, **keys},
    }
    offer = files.offer_from_content(content)
    assert offer is not None and offer.url.startswith(uri + "#") and not offer.encrypted
    data = await _collect(files.download(matrix_harness.server.url, me.access_token, TLS, offer.url, allow_http=True))
    assert data == PNG
    wrong = dict(keys, hashes={"sha256": keys["hashes"]["sha256"][::-1]})
    tampered = files.offer_from_content({**content, "file": {"url": uri, **wrong}})
    assert tampered is not None
    with pytest.raises(NetworkError, match="does not match its hash"):
        await _collect(files.download(matrix_harness.server.url, me.access_token, TLS, tampered.url, allow_http=True))


@pytest.mark.parametrize("encrypt", [False, True], ids=["plain", "encrypted"])
async def test_our_upload_reaches_another_client_intact(
    matrix_harness: MatrixHarness, tmp_path: Any, encrypt: bool
) -> None:
    peer = await matrix_harness.new_peer()
    me = await matrix_harness.new_matrix_user("me")
    path = tmp_path / "report.png"
    path.write_bytes(PNG)
    file = OutgoingFile(path=path, name="report.png", mime_type="image/png", size=len(PNG))
    content = await files.upload(
        matrix_harness.server.url, me.access_token, TLS, file, encrypt=encrypt, allow_http=True
    )
    assert content["msgtype"] == "m.image" and content["body"] == "report.png"
    uri = content["file"]["url"] if encrypt else content["url"]
    files.parse_mxc(uri)  # a well-formed media URI
    answer = await peer.client.download(mxc=uri)
    assert isinstance(answer, nio.DownloadResponse), answer
    body = answer.body
    if encrypt:
        assert body != PNG
        body = decrypt_attachment(
            body, content["file"]["key"]["k"], content["file"]["hashes"]["sha256"], content["file"]["iv"]
        )
    assert body == PNG


def test_contents_that_are_no_usable_file_are_ignored() -> None:
    assert files.offer_from_content({"msgtype": "m.text", "body": "hi"}) is None
    assert files.offer_from_content({"msgtype": "m.file", "body": "x", "url": "https://evil.example/x"}) is None
    assert files.offer_from_content({"msgtype": "m.file", "body": "x", "url": "mxc://server/../etc"}) is None
    assert files.offer_from_content({"msgtype": "m.file", "body": "x", "file": {"url": "mxc://s/a"}}) is None
    offer = files.offer_from_content(
        {"msgtype": "m.video", "body": "clip", "filename": "clip.mp4", "url": "mxc://s/abc", "info": {"size": -5}}
    )
    assert offer is not None and offer.name == "clip.mp4" and offer.size is None
    assert files.msgtype_for("audio/ogg") == "m.audio" and files.msgtype_for("application/pdf") == "m.file"


async def test_files_both_ways_through_the_adapter(matrix_harness: MatrixHarness, tmp_path: Any) -> None:
    """Our picture reaches the other client as an m.image; its file reaches us as an offer we fetch intact."""
    from aggregator.api import ConversationKey, Credentials, MessageReceived, OutgoingMessage
    from protocols.matrix.adapter import MatrixAdapter
    from tests.contract.sink import EventCollector

    peer = await matrix_harness.new_peer()
    user_id, password = await matrix_harness.new_user()
    sink = EventCollector()
    adapter = MatrixAdapter(matrix_harness.settings(f"matrix:{user_id}", user_id), sink)
    await adapter.connect(Credentials(password))
    try:
        await matrix_harness.make_contacts(user_id, peer.address)
        conversation = ConversationKey.direct(f"matrix:{user_id}", peer.handle)
        path = tmp_path / "holiday.png"
        path.write_bytes(PNG)
        file = OutgoingFile(path=path, name="holiday.png", mime_type="image/png", size=len(PNG))
        receipt = await adapter.send_message(conversation, OutgoingMessage("", "file-key", file=file))
        assert receipt.file_url is not None and receipt.file_url.startswith("mxc://")
        assert (await peer.next_message())[1] == "holiday.png"
        (event,) = [e for _room, e in peer.events if getattr(e, "body", None) == "holiday.png"]
        assert event.source["content"]["msgtype"] == "m.image" and event.source["content"]["url"] == receipt.file_url
        answer = await peer.client.download(mxc=receipt.file_url)
        assert isinstance(answer, nio.DownloadResponse) and answer.body == PNG

        uri = await _peer_upload(peer.client, PNG[::-1], "application/pdf", "minutes.pdf")
        room_id = await peer.direct_room(user_id)
        content = {
            "msgtype": "m.file",
            "body": "minutes.pdf",
            "url": uri,
            "info": {"mimetype": "application/pdf", "size": len(PNG)},
        }
        sent = await peer.client.room_send(room_id, "m.room.message", content)
        assert isinstance(sent, nio.RoomSendResponse)
        received = await sink.wait_for(MessageReceived, lambda e: e.body == "minutes.pdf")
        (offer,) = received.files
        assert offer.url == uri and offer.size == len(PNG)
        assert await _collect(adapter.download(offer)) == PNG[::-1]
    finally:
        await adapter.disconnect()
