"""Files on Matrix: ``m.file``, ``m.image``, ``m.video`` and ``m.audio`` through the media repository.

Receiving: a file event's content becomes a ``FileOffer`` whose URL is the ``mxc://`` URI. In an encrypted
room the file itself is encrypted (AES-256-CTR) and the key travels in the event (``content.file``); the
key, IV and ciphertext hash then ride in the offer's URL fragment, so the adapter can decrypt what it
downloads. Downloads use the authenticated media endpoint (``/_matrix/client/v1/media/download``) with the
access token in a header, stream chunk by chunk, and verify the ciphertext's SHA-256 before the last
chunk is released: a file that does not match fails (the intake then discards what it wrote).

Sending: the file is streamed to ``/_matrix/media/v3/upload`` (encrypted on the way for an encrypted
room) and the event content is built from the returned ``mxc://`` URI.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from Crypto.Cipher import AES
from Crypto.Util import Counter

from aggregator.api import FileOffer, NetworkError, OutgoingFile, ProtocolError
from protocols import http_files

FILE_MSGTYPES = frozenset({"m.file", "m.image", "m.video", "m.audio"})
DOWNLOAD_PATH = "/_matrix/client/v1/media/download/{server}/{media_id}"
UPLOAD_PATH = "/_matrix/media/v3/upload"
_MXC = re.compile(r"^mxc://([A-Za-z0-9.:\-\[\]]+)/([A-Za-z0-9_\-]+)$")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))


def _b64encode(data: bytes, *, urlsafe: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(data) if urlsafe else base64.b64encode(data)
    return encoded.decode().rstrip("=")


def parse_mxc(url: str) -> tuple[str, str]:
    """(server name, media id) of an ``mxc://`` URI; ``ProtocolError`` for anything else."""
    match = _MXC.match(url.split("#", 1)[0])
    if match is None:
        raise ProtocolError(f"not a Matrix media URI: {url[:80]!r}")
    return match.group(1), match.group(2)


def msgtype_for(mime_type: str) -> str:
    major = mime_type.split("/", 1)[0]
    return {"image": "m.image", "video": "m.video", "audio": "m.audio"}.get(major, "m.file")


@dataclass(frozen=True, slots=True)
class Decryption:
    key: bytes
    iv: bytes
    sha256: bytes


def _decryption(fragment: str) -> Decryption:
    try:
        data = json.loads(_b64decode(fragment))
        return Decryption(_b64decode(data["k"]), _b64decode(data["iv"]), _b64decode(data["sha256"]))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ProtocolError(f"the file's decryption information is unreadable: {exc}") from None


def offer_from_content(content: Mapping[str, Any]) -> FileOffer | None:
    """The file a message event's content carries, or None (not a file, or no usable URI)."""
    if content.get("msgtype") not in FILE_MSGTYPES:
        return None
    info = content.get("info") if isinstance(content.get("info"), dict) else {}
    assert isinstance(info, dict)
    name = content.get("filename") or content.get("body") or "file"
    size = info.get("size") if isinstance(info.get("size"), int) and info.get("size", -1) >= 0 else None
    mime = info.get("mimetype") if isinstance(info.get("mimetype"), str) else None
    encrypted = content.get("file")
    if isinstance(encrypted, dict):
        try:
            url = str(encrypted["url"])
            parse_mxc(url)
            secret = {
                "k": encrypted["key"]["k"],
                "iv": encrypted["iv"],
                "sha256": encrypted["hashes"]["sha256"],
            }
        except (KeyError, TypeError, ProtocolError):
            return None
        fragment = _b64encode(json.dumps(secret, separators=(",", ":")).encode(), urlsafe=True)
        return FileOffer(url=f"{url}#{fragment}", name=str(name), size=size, mime_type=mime)
    plain = content.get("url")
    if not isinstance(plain, str):
        return None
    try:
        parse_mxc(plain)
    except ProtocolError:
        return None
    thumbnail = info.get("thumbnail_url") if isinstance(info.get("thumbnail_url"), str) else None
    return FileOffer(url=plain, name=str(name), size=size, mime_type=mime, thumbnail_url=thumbnail)


async def download(
    homeserver: str, token: str, tls: http_files.Tls, url: str, *, allow_http: bool
) -> AsyncIterator[bytes]:
    """The file's plaintext in chunks (decrypted and verified when the offer carried a key)."""
    plain_url, _, fragment = url.partition("#")
    server, media_id = parse_mxc(plain_url)
    path = DOWNLOAD_PATH.format(server=quote(server, safe=""), media_id=quote(media_id, safe=""))
    chunks = http_files.download(
        homeserver.rstrip("/") + path, tls, allow_http=allow_http, headers={"Authorization": f"Bearer {token}"}
    )
    if not fragment:
        async for chunk in chunks:
            yield chunk
        return
    secret = _decryption(fragment)
    prefix, counter = secret.iv[:8], int.from_bytes(secret.iv[8:16], "big")
    cipher = AES.new(secret.key, AES.MODE_CTR, counter=Counter.new(64, prefix=prefix, initial_value=counter))
    digest = hashlib.sha256()
    held: bytes | None = None  # the last chunk waits until the hash is known to match
    async for chunk in chunks:
        digest.update(chunk)
        if held is not None:
            yield held
        held = cipher.decrypt(chunk)
    if digest.digest() != secret.sha256:
        raise NetworkError("the encrypted file does not match its hash; it was not kept")
    if held is not None:
        yield held


async def _encrypting(body: AsyncIterator[bytes], key: bytes, iv: bytes, digest: Any) -> AsyncIterator[bytes]:
    cipher = AES.new(key, AES.MODE_CTR, counter=Counter.new(64, prefix=iv[:8], initial_value=0))
    async for chunk in body:
        encrypted = cipher.encrypt(chunk)
        digest.update(encrypted)
        yield encrypted


async def upload(
    homeserver: str, token: str, tls: http_files.Tls, file: OutgoingFile, *, encrypt: bool, allow_http: bool
) -> dict[str, Any]:
    """Upload ``file`` and return the content of the message event that shares it."""
    url = f"{homeserver.rstrip('/')}{UPLOAD_PATH}?filename={quote(file.name)}"
    headers = {"Authorization": f"Bearer {token}", "Content-Length": str(file.size)}
    body = http_files.read_file(file.path)
    key, iv, digest = os.urandom(32), os.urandom(8) + b"\0" * 8, hashlib.sha256()
    if encrypt:
        headers["Content-Type"] = "application/octet-stream"
        body = _encrypting(body, key, iv, digest)
    else:
        headers["Content-Type"] = file.mime_type
    answer = await http_files.upload(url, body, headers, tls, method="POST", allow_http=allow_http)
    try:
        content_uri = str(json.loads(answer)["content_uri"])
        parse_mxc(content_uri)
    except (ValueError, KeyError, TypeError) as exc:
        raise ProtocolError(f"the homeserver's answer to the upload is unreadable: {exc}") from None
    content: dict[str, Any] = {
        "msgtype": msgtype_for(file.mime_type),
        "body": file.name,
        "filename": file.name,
        "info": {"size": file.size, "mimetype": file.mime_type},
    }
    if encrypt:
        content["file"] = {
            "v": "v2",
            "url": content_uri,
            "key": {
                "kty": "oct",
                "alg": "A256CTR",
                "ext": True,
                "k": _b64encode(key, urlsafe=True),
                "key_ops": ["encrypt", "decrypt"],
            },
            "iv": _b64encode(iv),
            "hashes": {"sha256": _b64encode(digest.digest())},
        }
    else:
        content["url"] = content_uri
    return content
