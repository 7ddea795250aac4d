"""Server certificates that normal verification refuses (self-signed with a wrong name, expired), made with
the ``cryptography`` package, written where the test servers look for their certificate.
"""

from __future__ import annotations

import hashlib
import ipaddress
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from tests.servers.certs import TestCerts

LOCAL_NAMES = ("localhost", "conference.localhost", "upload.localhost")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificate(
    *,
    names: tuple[str, ...],
    valid_from: datetime,
    valid_until: datetime,
    issuer: tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes] | None = None,
) -> tuple[bytes, bytes]:
    """A server certificate (PEM) and its key (PEM) for ``names`` (plus 127.0.0.1 when "localhost" is
    among them); self-signed unless ``issuer`` (certificate and key) signs it."""
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    if "localhost" in names:
        alt.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(issuer[0].subject if issuer else _name(names[0]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_until)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    certificate = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def self_signed_misnamed() -> tuple[bytes, bytes]:
    """Self-signed, for ``wrong.example`` only, valid now."""
    now = datetime.now(UTC)
    return make_certificate(
        names=("wrong.example",), valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=30)
    )


def expired_from_test_ca(test_certs: TestCerts) -> tuple[bytes, bytes]:
    """Issued by the test CA for localhost, but expired a month ago."""
    ca = x509.load_pem_x509_certificate(test_certs.ca_file.read_bytes())
    ca_key = serialization.load_pem_private_key((test_certs.directory / "ca.key").read_bytes(), password=None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    now = datetime.now(UTC)
    return make_certificate(
        names=LOCAL_NAMES,
        valid_from=now - timedelta(days=90),
        valid_until=now - timedelta(days=30),
        issuer=(ca, ca_key),
    )


def another_self_signed() -> tuple[bytes, bytes]:
    """The "server's new certificate": self-signed for localhost, valid now."""
    now = datetime.now(UTC)
    return make_certificate(names=LOCAL_NAMES, valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=30))


def sha256_of(cert_pem: bytes) -> str:
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def server_certs(directory: Path, test_certs: TestCerts, cert_and_key: tuple[bytes, bytes]) -> TestCerts:
    """A certificate directory as the test servers read it (``localhost.crt``/``.key``, the test CA),
    holding ``cert_and_key``; called again on the same directory, it replaces the certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = cert_and_key
    (directory / "localhost.crt").write_bytes(cert)
    (directory / "localhost.key").write_bytes(key)
    (directory / "localhost.key").chmod(0o644)  # test-only key, readable by the servers
    shutil.copyfile(test_certs.ca_file, directory / "ca.crt")
    return TestCerts(directory, directory / "ca.crt", directory / "localhost.crt", directory / "localhost.key")
