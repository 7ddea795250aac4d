"""The certificate a server presents, read after verification failed, and trust in a pinned certificate.

A pinned certificate (``AccountSettings.pinned_certificate``, a SHA-256 fingerprint the user chose for
one account) is accepted whatever its issuer, names or dates: the handshake of THAT account does not
verify (``unverified_for_pin``) and ``pin_refusal`` MUST then check the peer's leaf before anything is
sent on the connection. Every other account keeps full verification.

After a failed verification the adapters open a second connection that does not verify (``CERT_NONE``)
only to read what the server presents, so the user can see it and decide. That connection never
logs in and sends nothing but, for XMPP's STARTTLS, the stream header and the ``<starttls/>`` request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import ssl
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from aggregator.api import CERTIFICATE_CHANGED, CertificateDetails, CertificateError

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 10.0
_MAX_PREAMBLE = 64 * 1024  # the XMPP stream header and features before STARTTLS
_FEATURES_END = re.compile(rb"</(?:[\w.-]+:)?features>")
_STARTTLS_OFFER = re.compile(rb"<starttls[\s/>]")
_PROCEED = re.compile(rb"<proceed[\s/>]")
_TLS_FAILURE = re.compile(rb"<failure[\s/>]")


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate as upper-case hex pairs joined by ':' (as browsers show it)."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def describe(chain_der: Sequence[bytes], host: str, problem: str) -> CertificateDetails:
    """The details of a presented chain (leaf first). Raises ``ValueError`` for an unreadable leaf."""
    if not chain_der:
        raise ValueError("the server presented no certificate")
    leaf = x509.load_der_x509_certificate(chain_der[0])
    pems: list[str] = []
    for der in chain_der:
        with contextlib.suppress(ValueError):
            pems.append(x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode("ascii"))
    return CertificateDetails(
        host=host,
        problem=problem,
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        fingerprint_sha256=fingerprint(chain_der[0]),
        pem=leaf.public_bytes(Encoding.PEM).decode("ascii"),
        chain_pem=tuple(pems),
    )


def _reading_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only to read the certificate; nothing is sent over it
    return context


def _presented(ssl_object: Any) -> tuple[bytes, ...]:
    """The chain the peer sent (leaf first), or only the leaf where the ssl module hides the chain."""
    leaf: bytes | None = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not leaf:
        raise ValueError("the server presented no certificate")
    # Python 3.13 has SSLObject.get_unverified_chain(); 3.10-3.12 only the same call on the private object.
    getter = getattr(ssl_object, "get_unverified_chain", None) or getattr(
        getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None
    )
    chain: list[bytes] = []
    with contextlib.suppress(Exception):  # the chain is a courtesy: the leaf is what matters
        for cert in getter() if getter is not None else ():
            chain.append(cert if isinstance(cert, bytes) else ssl.PEM_cert_to_DER_cert(cert.public_bytes()))
    if chain and chain[0] == leaf:
        return tuple(chain)
    return (leaf,)


async def _read_until(reader: asyncio.StreamReader, pattern: re.Pattern[bytes], so_far: bytes) -> bytes:
    data = so_far
    while pattern.search(data) is None:
        if _TLS_FAILURE.search(data) is not None:
            raise ValueError("the server refused STARTTLS")
        chunk = await reader.read(4096)
        if not chunk:
            raise ValueError("the server closed the stream before TLS")
        data += chunk
        if len(data) > _MAX_PREAMBLE:
            raise ValueError("the server sent too much before TLS")
    return data


async def _xmpp_starttls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, domain: str) -> None:
    writer.write(
        (
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            f"xmlns:stream='http://etherx.jabber.org/streams' to='{_xml_attr(domain)}' version='1.0'>"
        ).encode()
    )
    await writer.drain()
    features = await _read_until(reader, _FEATURES_END, b"")
    if _STARTTLS_OFFER.search(features) is None:
        raise ValueError("the server offers no STARTTLS")
    writer.write(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    await writer.drain()
    await _read_until(reader, _PROCEED, b"")


def _xml_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;")


async def fetch_chain(
    host: str, port: int, *, server_name: str, xmpp_domain: str | None = None, timeout: float = PROBE_TIMEOUT
) -> tuple[bytes, ...]:
    """The certificates ``host:port`` presents (leaf first), read over an unverified handshake.

    With ``xmpp_domain``, the port speaks XMPP and TLS starts with STARTTLS; otherwise TLS is direct.
    Raises ``OSError``, ``ssl.SSLError``, ``TimeoutError`` or ``ValueError``."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            if xmpp_domain is None:
                _reader, writer = await asyncio.open_connection(
                    host, port, ssl=_reading_context(), server_hostname=server_name
                )
            else:
                reader, writer = await asyncio.open_connection(host, port)
                await _xmpp_starttls(reader, writer, xmpp_domain)
                await writer.start_tls(_reading_context(), server_hostname=server_name)
            return _presented(writer.get_extra_info("ssl_object"))
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def presented_certificate(
    host: str, port: int, *, problem: str, server_name: str | None = None, xmpp_domain: str | None = None
) -> CertificateDetails | None:
    """The details of what ``host:port`` presents, or None (logged) when it cannot be read. Never raises."""
    try:
        chain = await fetch_chain(host, port, server_name=server_name or host, xmpp_domain=xmpp_domain)
        return describe(chain, f"{host}:{port}", problem)
    except (OSError, ssl.SSLError, TimeoutError, ValueError) as exc:
        log.warning("Could not read the certificate %s:%s presents: %s", host, port, exc)
        return None


def holds_server_certificate(ca_file: Path) -> bool:
    """Whether a CA file holds a certificate that is not a CA (a pinned server certificate)."""
    try:
        certificates = x509.load_pem_x509_certificates(ca_file.read_bytes())
    except (OSError, ValueError):
        return False  # the verifying context reports an unusable file
    for certificate in certificates:
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            return True
        if not constraints.ca:
            return True
    return False


def accept_pinned_certificate(context: ssl.SSLContext, ca_file: Path | None) -> None:
    """Let a pinned server certificate in ``ca_file`` anchor verification on its own (self-signed or a
    leaf whose CA is not trusted). Hostname checking and expiry stay on."""
    if ca_file is not None and holds_server_certificate(ca_file):
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN


def _bare(fingerprint_text: str) -> str:
    return fingerprint_text.replace(":", "").replace(" ", "").upper()


def pin_digest(pin: str) -> bytes:
    """The 32 bytes of a pinned SHA-256 fingerprint (``AB:CD:...``, colons optional)."""
    digest = bytes.fromhex(_bare(pin))
    if len(digest) != 32:
        raise ValueError(f"{pin!r} is not a SHA-256 fingerprint")
    return digest


def unverified_for_pin(context: ssl.SSLContext, pin: str | None) -> None:
    """For an account with a pinned certificate only: its handshake accepts any certificate (the pinned
    one may be self-signed, misnamed or expired), so ``pin_refusal`` must run before anything is sent.
    Without a pin the context is left verifying."""
    if pin is None:
        return
    pin_digest(pin)  # a malformed pin must not leave an unverified context behind
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE


def changed_error(where: str, pin: str, presented: str, certificate: CertificateDetails | None) -> CertificateError:
    """The server presented ``presented`` (a fingerprint) where ``pin`` is trusted: refused, both named."""
    problem = f"{CERTIFICATE_CHANGED}: this account trusts only SHA-256 {fingerprint_text(pin)}"
    return CertificateError(
        f"the certificate of {where} is not the one trusted for this account ({CERTIFICATE_CHANGED}): it "
        f"presented SHA-256 {fingerprint_text(presented)}, but this account trusts only SHA-256 "
        f"{fingerprint_text(pin)}; nothing was sent",
        None if certificate is None else replace(certificate, problem=problem),
        problem,
    )


def fingerprint_text(text: str) -> str:
    """Any spelling of a SHA-256 fingerprint as ``AB:CD:...``."""
    bare = _bare(text)
    return ":".join(bare[i : i + 2] for i in range(0, len(bare), 2))


def pin_refusal(ssl_object: Any, pin: str, where: str) -> CertificateError | None:
    """None when the peer's leaf certificate is the pinned one; otherwise the error to fail with (with
    the presented certificate's details). Call it on every pinned connection before sending anything."""
    leaf: bytes | None = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not leaf:
        return CertificateError(f"{where} presented no certificate, but this account trusts a pinned one")
    if hashlib.sha256(leaf).digest() == pin_digest(pin):
        return None
    details: CertificateDetails | None = None
    with contextlib.suppress(ValueError):
        details = describe(_presented(ssl_object), where, CERTIFICATE_CHANGED)
    return changed_error(where, pin, fingerprint(leaf), details)
