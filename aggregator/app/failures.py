"""Why an account is down, in words a person understands.

A connection fails with what the server or the TLS library said (``not-authorized``, ``M_FORBIDDEN``,
``unable to get local issuer certificate``, ``[Errno 111] Connection refused``). That condition is
exact but means little to most users: ``explain`` puts a sentence first and keeps the raw text as
the details. Every front end (the window, the CLI) uses the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FailureExplanation:
    #: One or two sentences for the user: what went wrong and what to do about it.
    sentence: str
    #: The raw condition as the server or the library said it ("" when the sentence is the raw text).
    details: str

    @property
    def full(self) -> str:
        """Sentence and details on one line (a CLI line, a tooltip)."""
        return f"{self.sentence} ({self.details})" if self.details else self.sentence


#: (pattern searched in the raw reason, case-insensitive; the sentence). The first match wins, so
#: the more specific conditions come first.
_RULES: tuple[tuple[str, str], ...] = (
    (
        r"unable to get local issuer certificate|self[- ]signed certificate|certificate verify failed"
        r"|certificate has expired|hostname mismatch|CERTIFICATE_VERIFY_FAILED|not trusted",
        "The server's certificate could not be verified, so the connection was not trusted. If you know "
        "the server uses its own certificate, review it or choose its CA file in the account's settings.",
    ),
    (
        r"not-authorized|M_FORBIDDEN|invalid password|invalid credentials|authentication failed"
        r"|SASL authentication|refused the login of|wrong password|no password given",
        "The server did not accept the address or the password. Check both in the account's settings.",
    ),
    (
        r"M_USER_DEACTIVATED|account-disabled",
        "The server says this account is disabled. Ask the server's administrator.",
    ),
    (
        r"M_LIMIT_EXCEEDED|policy-violation|too many",
        "The server asked to wait before trying again (too many attempts).",
    ),
    (
        r"item-not-found|M_UNKNOWN_TOKEN|M_NOT_FOUND|remote-server-not-found|host-unknown",
        "The server does not know this account or its domain. Check the address for typos.",
    ),
    (
        r"name resolution|name or service not known|nodename nor servname|getaddrinfo|no address associated"
        r"|cannot resolve|could not resolve|dns",
        "The server's name could not be found. Check the address or server name, and that this computer is online.",
    ),
    (
        r"connection refused|ECONNREFUSED|errno 111",
        "The server refused the connection: it may be down, or the server name or port may be wrong.",
    ),
    (
        r"network is unreachable|no route to host|ENETUNREACH|EHOSTUNREACH",
        "The server cannot be reached from this network. Check that this computer is online.",
    ),
    (
        r"timed out|timeout|no answer from the server",
        "The server did not answer in time. It may be busy or unreachable; the client keeps trying.",
    ),
    (
        r"connection reset|broken pipe|connection (was )?(closed|lost)|stream-error|see-other-host|system-shutdown",
        "The server closed the connection. The client reconnects by itself.",
    ),
    (
        r"offers no encryption|plaintext|without TLS",
        "The server offers no encryption, and this account does not allow unencrypted connections.",
    ),
    (
        r"conflict",
        "Another device signed in with the same identity and took over this connection.",
    ),
)

_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), sentence) for pattern, sentence in _RULES)


_STATE_PHRASES = {
    "failed": "could not connect",
    "waiting": "is not connected and tries again soon",
    "connecting": "is connecting",
    "offline": "is offline",
    "disabled": "is disabled",
}


def state_phrase(state: str) -> str:
    """What follows an account's name in a sentence about its connection state ("… could not connect")."""
    return _STATE_PHRASES.get(state, f"is {state}")


def explain(reason: str) -> FailureExplanation:
    """The sentence for a failure ``reason`` and the raw reason as details; an unknown reason is kept
    as it is (the sentence) with no details."""
    raw = reason.strip()
    for pattern, sentence in _COMPILED:
        if pattern.search(raw):
            return FailureExplanation(sentence, raw)
    return FailureExplanation(raw, "")
