"""SASL SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash), the client side, sans-I/O.

``ScramClient.first()`` gives the client-first message; ``final(server_first)`` the client-final one;
``verify(server_final)`` checks the server's signature (a server that cannot prove it knows the password
is refused: ``ScramError``). No channel binding (``n,,``): the TLS layer is checked on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata

MECHANISM = "SCRAM-SHA-256"
#: Fewer iterations than this would make a stolen exchange cheap to brute-force; RFC 7677 asks for 4096.
MIN_ITERATIONS = 4096
#: More than this would let a server make us burn seconds of CPU.
MAX_ITERATIONS = 1_000_000


class ScramError(ValueError):
    """The server's SCRAM messages are malformed or its signature is wrong."""


def _saslname(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def _prepare(password: str) -> bytes:
    """A SASLprep approximation: non-ASCII spaces become spaces, then NFKC (RFC 4013's mapping)."""
    mapped = "".join(" " if unicodedata.category(c) == "Zs" else c for c in password)
    return unicodedata.normalize("NFKC", mapped).encode("utf-8")


def _attributes(message: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in message.split(","):
        key, sep, value = item.partition("=")
        if len(key) != 1 or not sep:
            raise ScramError(f"malformed SCRAM attribute {item[:20]!r}")
        out.setdefault(key, value)
    return out


class ScramClient:
    def __init__(self, username: str, password: str, *, nonce: str | None = None) -> None:
        self._username = username
        self._password = password
        self._nonce = nonce or secrets.token_urlsafe(24)
        self._first_bare = f"n={_saslname(unicodedata.normalize('NFKC', username))},r={self._nonce}"
        self._server_signature: bytes | None = None

    def first(self) -> bytes:
        return ("n,," + self._first_bare).encode("utf-8")

    def final(self, server_first: bytes) -> bytes:
        text = server_first.decode("utf-8", errors="replace")
        attrs = _attributes(text)
        if "m" in attrs:
            raise ScramError("the server asks for a SCRAM extension we do not know")
        nonce, salt_text, iterations_text = attrs.get("r", ""), attrs.get("s", ""), attrs.get("i", "")
        if not nonce.startswith(self._nonce) or len(nonce) <= len(self._nonce):
            raise ScramError("the server's SCRAM nonce does not extend ours")
        if not iterations_text.isdigit() or not MIN_ITERATIONS <= int(iterations_text) <= MAX_ITERATIONS:
            raise ScramError(f"the server asks for {iterations_text!r} SCRAM iterations")
        try:
            salt = base64.b64decode(salt_text, validate=True)
        except ValueError:
            raise ScramError("the server's SCRAM salt is not base64") from None
        salted = hashlib.pbkdf2_hmac("sha256", _prepare(self._password), salt, int(iterations_text))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c=biws,r={nonce}"
        auth_message = f"{self._first_bare},{text},{without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        self._server_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
        return f"{without_proof},p={base64.b64encode(proof).decode('ascii')}".encode()

    def verify(self, server_final: bytes) -> None:
        """Raises ``ScramError`` unless ``server_final`` carries the server signature we expect."""
        attrs = _attributes(server_final.decode("utf-8", errors="replace"))
        if "e" in attrs:
            raise ScramError(f"the server refused the SCRAM proof: {attrs['e']}")
        try:
            got = base64.b64decode(attrs.get("v", ""), validate=True)
        except ValueError:
            raise ScramError("the server's SCRAM signature is not base64") from None
        if self._server_signature is None or not hmac.compare_digest(got, self._server_signature):
            raise ScramError("the server could not prove that it knows the password (wrong SCRAM signature)")
