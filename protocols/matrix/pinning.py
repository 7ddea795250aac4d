"""A pinned homeserver certificate for aiohttp: the leaf's SHA-256 is checked on every new connection,
before any request (and so any password or access token) is written.

aiohttp's own ``Fingerprint`` treats a mismatch like an unreachable address: it tries the host's next
address and then reports only the last failure (for ``localhost``, "cannot connect to ::1"), so the
user would never learn that the certificate changed. ``PinnedFingerprint`` closes the connection and
raises ``PinMismatch`` at once instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

import aiohttp

from protocols.certificates import pin_digest

log = logging.getLogger(__name__)


class PinMismatch(aiohttp.ClientConnectionError):
    """The homeserver presented another certificate than the pinned one; ``presented`` is its SHA-256."""

    def __init__(self, presented: bytes) -> None:
        super().__init__(f"the homeserver presented the certificate SHA-256 {presented.hex()}")
        self.presented = presented


class PinnedFingerprint(aiohttp.Fingerprint):
    """``ssl=`` for aiohttp: the handshake does not verify (the pin may be self-signed, misnamed or
    expired); the leaf must be the pinned one."""

    def __init__(self, pin: str) -> None:
        super().__init__(pin_digest(pin))

    def check(self, transport: asyncio.Transport) -> None:
        ssl_object = transport.get_extra_info("ssl_object")
        leaf: bytes | None = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        presented = hashlib.sha256(leaf or b"").digest()
        if leaf and presented == self.fingerprint:
            return
        transport.abort()
        log.warning("The homeserver presented another certificate than the pinned one; nothing was sent")
        raise PinMismatch(presented)
