"""Reading the certificate a server presents (direct TLS and XMPP STARTTLS), on small local servers
that present the test certificates; and when a CA file counts as a pinned server certificate."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from aggregator.api import CERTIFICATE_CHANGED
from protocols.certificates import (
    accept_pinned_certificate,
    fetch_chain,
    fingerprint_text,
    pin_refusal,
    presented_certificate,
    unverified_for_pin,
)
from tests.core.test_certificate_trust_live import leaf_fingerprint
from tests.servers.certs import TestCerts

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def server_context(test_certs: TestCerts, tmp_path: Path) -> ssl.SSLContext:
    """Presents the leaf and the test CA after it, as many servers send their chain."""
    chain = tmp_path / "fullchain.pem"
    chain.write_text(test_certs.cert_file.read_text() + test_certs.ca_file.read_text())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain, test_certs.key_file)
    return context


@contextlib.asynccontextmanager
async def serving(handler: Handler, context: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.IncompleteReadError):
            await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def idle(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
    await reader.read(1)


def der(pem_file: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem_file.read_text())


async def test_direct_tls_presents_the_leaf_and_its_chain(test_certs: TestCerts, tmp_path: Path) -> None:
    async with serving(idle, server_context(test_certs, tmp_path)) as port:
        chain = await fetch_chain("127.0.0.1", port, server_name="localhost")
        shown = await presented_certificate("127.0.0.1", port, problem="unable to get local issuer certificate")
    assert chain == (der(test_certs.cert_file), der(test_certs.ca_file))
    assert shown is not None
    assert shown.fingerprint_sha256 == leaf_fingerprint(test_certs.cert_file)
    assert shown.host == f"127.0.0.1:{port}" and shown.problem == "unable to get local issuer certificate"
    assert (shown.subject, shown.issuer, shown.self_signed) == ("CN=localhost", "CN=IM Test CA", False)
    assert len(shown.chain_pem) == 2 and ssl.PEM_cert_to_DER_cert(shown.chain_pem[1]) == der(test_certs.ca_file)


def xmpp_server(context: ssl.SSLContext, *, offer_starttls: bool = True) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header = await reader.readuntil(b"version='1.0'>")
        assert b"to='localhost'" in header
        starttls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>" if offer_starttls else ""
        writer.write(
            (
                "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='x' version='1.0'>"
                f"<stream:features>{starttls}<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"
            ).encode()
        )
        await writer.drain()
        request = await reader.readuntil(b"/>")
        assert b"<starttls" in request
        writer.write(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await writer.drain()
        await writer.start_tls(context)
        await reader.read(1)

    return handle


async def test_xmpp_starttls_is_negotiated_before_reading(test_certs: TestCerts, tmp_path: Path) -> None:
    async with serving(xmpp_server(server_context(test_certs, tmp_path))) as port:
        shown = await presented_certificate(
            "127.0.0.1", port, problem="self-signed", server_name="localhost", xmpp_domain="localhost"
        )
    assert shown is not None and shown.fingerprint_sha256 == leaf_fingerprint(test_certs.cert_file)


async def test_a_certificate_that_cannot_be_read_is_none_not_an_error(test_certs: TestCerts, tmp_path: Path) -> None:
    context = server_context(test_certs, tmp_path)
    async with serving(xmpp_server(context, offer_starttls=False)) as port:
        assert await presented_certificate("127.0.0.1", port, problem="x", xmpp_domain="localhost") is None
    async with serving(idle) as port:  # plain TCP where TLS was expected
        with pytest.raises((ssl.SSLError, OSError, TimeoutError)):
            await fetch_chain("127.0.0.1", port, server_name="localhost", timeout=1)
        assert await presented_certificate("127.0.0.1", 1, problem="x") is None  # nothing listens


def test_only_a_pinned_server_certificate_enables_partial_chains(test_certs: TestCerts, tmp_path: Path) -> None:
    def flags(ca_file: Path | None) -> bool:
        """Whether the call changed the context's flags (Python 3.13 sets partial chains by default)."""
        context = ssl.create_default_context()
        context.verify_flags &= ~ssl.VERIFY_X509_PARTIAL_CHAIN
        accept_pinned_certificate(context, ca_file)
        return bool(context.verify_flags & ssl.VERIFY_X509_PARTIAL_CHAIN)

    assert flags(test_certs.cert_file)
    assert not flags(test_certs.ca_file)
    assert not flags(None)
    assert not flags(tmp_path / "missing.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    assert not flags(garbage)


async def test_a_pinned_leaf_verifies_alone_and_the_host_name_is_still_checked(
    test_certs: TestCerts, tmp_path: Path
) -> None:
    async def handshake(server_name: str, *, pinned: bool) -> None:
        context = ssl.create_default_context(cafile=str(test_certs.cert_file))  # the leaf only, not its CA
        if pinned:
            accept_pinned_certificate(context, test_certs.cert_file)
        _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=server_name)
        writer.close()

    async with serving(idle, server_context(test_certs, tmp_path)) as port:
        await handshake("localhost", pinned=True)
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            await handshake("localhost", pinned=False)
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            await handshake("chat.example.org", pinned=True)


async def test_a_pinned_context_accepts_exactly_the_pinned_leaf(test_certs: TestCerts, tmp_path: Path) -> None:
    """Misnamed and untrusted, the pinned leaf passes; any other leaf is refused with both fingerprints;
    a context without a pin still verifies."""
    pin = leaf_fingerprint(test_certs.cert_file)
    other = ":".join(["01"] * 32)

    async def connect(pinned: str | None) -> Any:
        context = ssl.create_default_context()  # the system CAs: the test CA is not among them
        unverified_for_pin(context, pinned)
        _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="wrong.example")
        ssl_object = writer.get_extra_info("ssl_object")
        writer.close()
        return ssl_object

    async with serving(idle, server_context(test_certs, tmp_path)) as port:
        assert pin_refusal(await connect(pin), pin, "wrong.example:1") is None
        refused = pin_refusal(await connect(other), other, "wrong.example:1")
        with pytest.raises(ssl.SSLCertVerificationError):
            await connect(None)
    assert refused is not None and refused.certificate is not None
    assert refused.certificate.fingerprint_sha256 == pin
    assert refused.problem.startswith(CERTIFICATE_CHANGED) and other in refused.problem
    assert pin in str(refused) and other in str(refused) and "nothing was sent" in str(refused)


def test_a_malformed_pin_leaves_the_context_verifying() -> None:
    context = ssl.create_default_context()
    with pytest.raises(ValueError, match="not a SHA-256 fingerprint"):
        unverified_for_pin(context, "AB:CD")
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert fingerprint_text("ab cd") == "AB:CD"
