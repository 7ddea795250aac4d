"""A throw-away test CA and a ``localhost`` leaf certificate, made with the ``openssl`` command.

Clients in tests trust ``ca_file`` explicitly, so certificate verification stays on everywhere.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Names the leaf certificate is valid for (the XMPP domain and its components, and the IP).
SUBJECT_ALT_NAMES = "DNS:localhost,DNS:conference.localhost,DNS:upload.localhost,DNS:outside.test,IP:127.0.0.1"


class CertificateSetupError(RuntimeError):
    """The test certificates could not be made."""


@dataclass(frozen=True, slots=True)
class TestCerts:
    """Paths of the test CA and the leaf's certificate and key (all PEM)."""

    __test__ = False  # not a pytest test class

    directory: Path
    ca_file: Path
    cert_file: Path
    key_file: Path


def _openssl(*args: str, cwd: Path) -> None:
    try:
        subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60)
    except subprocess.CalledProcessError as exc:
        raise CertificateSetupError(f"openssl {args[0]} failed: {exc.stderr.strip()}") from None


def make_test_certs(directory: Path) -> TestCerts:
    """Writes ``ca.crt``, ``localhost.crt`` and ``localhost.key`` into ``directory`` (about 0.4 s)."""
    if shutil.which("openssl") is None:
        raise CertificateSetupError("the openssl command is not installed; it makes the test certificates")
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=IM Test CA",
        "-keyout", "ca.key", "-out", "ca.crt",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "localhost.key", "-out", "localhost.csr",
        cwd=directory,
    )  # fmt: skip
    (directory / "leaf.ext").write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        f"subjectAltName={SUBJECT_ALT_NAMES}\n"
    )
    _openssl(
        "x509", "-req", "-in", "localhost.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "3650", "-extfile", "leaf.ext", "-out", "localhost.crt",
        cwd=directory,
    )  # fmt: skip
    for leftover in ("localhost.csr", "leaf.ext", "ca.srl"):
        (directory / leftover).unlink(missing_ok=True)
    return TestCerts(directory, directory / "ca.crt", directory / "localhost.crt", directory / "localhost.key")
