"""Files over HTTPS for the adapters: upload to a slot (XEP-0363) and download a peer's link.

Both go through one ``aiohttp`` session per call with the account's TLS context (its CA file or pin), so
a file never travels with weaker checks than the account's connection. A download follows at most five
redirects and only to ``https:`` (``http:``, ``file:``, ``ftp:``... are refused); the first URL must be
``https:`` too unless the account allows plaintext. Bytes are streamed both ways: memory stays flat.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import aiohttp

from aggregator.api import ConfigurationError, NetworkError
from protocols.certificates import pin_digest

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 30.0
#: A transfer with no byte for this long is stalled.
STALL_TIMEOUT = 60.0


#: What ``ssl=`` takes: a verifying context, or the pinned certificate's SHA-256 (a pinned account).
Tls = ssl.SSLContext | aiohttp.Fingerprint


def tls_for(ca_file: Path | None, pinned: str | None) -> Tls:
    """The TLS check for the account's file transfers: its pin if it has one, else its CA file (or the
    system's CAs)."""
    if pinned:
        return aiohttp.Fingerprint(pin_digest(pinned))
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot read the CA file {ca_file}: {exc}") from None


def _check_scheme(url: str, *, allow_http: bool, redirected: bool) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and allow_http and not redirected):
        return
    where = "redirected to" if redirected else "offered as"
    raise NetworkError(f"the file was {where} a {scheme or 'relative'}: link, which this client does not follow")


def _timeout(stall: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT, sock_read=stall)


async def download(
    url: str,
    context: Tls,
    *,
    allow_http: bool = False,
    stall: float = STALL_TIMEOUT,
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[bytes]:
    """The bytes at ``url`` in chunks. Raises ``NetworkError`` with a sentence a person understands."""
    _check_scheme(url, allow_http=allow_http, redirected=False)
    async with aiohttp.ClientSession(timeout=_timeout(stall)) as session:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                # Credentials (a Matrix access token) go to the first URL only, never to a redirect's target.
                sent = dict(headers or {}) if current == url else {}
                async with session.get(current, ssl=context, allow_redirects=False, headers=sent) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        location = response.headers.get("Location", "")
                        current = urljoin(current, location)
                        _check_scheme(current, allow_http=False, redirected=True)
                        continue
                    if response.status >= 400:
                        raise NetworkError(f"the server answered {response.status} {response.reason or ''}".strip())
                    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                        yield chunk
                    return
            except TimeoutError:
                raise NetworkError(f"the download stalled (no data for {stall:g} s)") from None
            except aiohttp.ClientSSLError as exc:
                raise NetworkError(f"the file server's certificate is not trusted ({exc})") from None
            except aiohttp.ClientError as exc:
                raise NetworkError(f"the download failed: {exc}") from None
        raise NetworkError(f"the file link redirected more than {MAX_REDIRECTS} times")


async def read_file(path: Path) -> AsyncIterator[bytes]:
    """A local file in chunks (an upload's body)."""
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            yield chunk


async def upload(
    url: str,
    body: AsyncIterator[bytes],
    headers: Mapping[str, str],
    context: Tls,
    *,
    method: str = "PUT",
    stall: float = STALL_TIMEOUT,
    allow_http: bool = False,
) -> bytes:
    """Send ``body`` to ``url`` (an upload slot: PUT; a media repository: POST); returns the answer's body.
    ``headers`` must name the Content-Length. Raises ``NetworkError``."""
    _check_scheme(url, allow_http=allow_http, redirected=False)
    try:
        async with (
            aiohttp.ClientSession(timeout=_timeout(stall)) as session,
            session.request(method, url, data=body, headers=dict(headers), ssl=context) as response,
        ):
            text = await response.read()
            if response.status >= 400:
                raise NetworkError(f"the upload was refused: {response.status} {text[:200].decode(errors='replace')}")
            return text
    except TimeoutError:
        raise NetworkError(f"the upload stalled (no answer for {stall:g} s)") from None
    except aiohttp.ClientError as exc:
        raise NetworkError(f"the upload failed: {exc}") from None
