"""The client and its end-to-end encryption store: the nio client configuration and where its crypto
store lives (``data_dir/crypto``, owner-only). End-to-end encryption (vodozemac through nio's store) is on
when the core gives the adapter a data directory, unless the option ``encryption`` is ``false``.

All of the E2E store set-up is here, so a change to how the store is created or keyed is made in one place.
"""

from __future__ import annotations

import ssl

import nio

from protocols.matrix.lib import Client
from protocols.matrix.pinning import PinnedFingerprint
from protocols.matrix.session import REQUEST_TIMEOUT, Session


def encryption_enabled(session: Session) -> bool:
    return session.data_dir is not None and session.settings.options.get("encryption", "true") != "false"


def new_client(session: Session, *, encryption: bool) -> Client:
    """A fresh nio client for the account, with its crypto store when ``encryption``."""
    config = nio.AsyncClientConfig(
        max_timeouts=0,  # a connection error raises at once instead of retrying forever
        max_limit_exceeded=2,
        request_timeout=REQUEST_TIMEOUT,
        encryption_enabled=encryption,
        store_sync_tokens=False,
    )
    store_path = ""
    if encryption and session.data_dir is not None:
        crypto_dir = session.data_dir / "crypto"
        crypto_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        store_path = str(crypto_dir)
    tls: ssl.SSLContext | PinnedFingerprint | None = session.ssl if session.homeserver.startswith("https://") else None
    return Client(session.homeserver, session.user_id, store_path=store_path, config=config, ssl=tls)
