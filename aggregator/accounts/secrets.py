"""Passwords and tokens: in the OS keyring only, never in a file or a log line."""

from __future__ import annotations

import json
import logging

import keyring
import keyring.errors

from aggregator.api import AccountId, AggregatorError, Credentials

log = logging.getLogger(__name__)

SERVICE = "aggregator"


class KeyringUnavailableError(AggregatorError):
    """No usable OS keyring (Secret Service, macOS Keychain, Windows Credential Locker)."""


def _describe(exc: Exception) -> str:
    # keyring errors carry no secrets; keep only the first line.
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def check_keyring_available() -> None:
    """Raise ``KeyringUnavailableError`` unless a keyring that really protects secrets is in use."""
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "fail" in name or "null" in name.lower() or getattr(backend, "priority", 1) <= 0:
        raise KeyringUnavailableError(
            "no keyring backend is available to keep the password safe (looked for the Secret Service, "
            "KWallet, macOS Keychain, Windows Credential Locker); start your desktop's keyring and try again"
        )
    if "plaintext" in name.lower() or name.startswith("keyrings.alt"):
        raise KeyringUnavailableError(f"the keyring backend {name} stores passwords in plain text; refusing to use it")


class SecretStore:
    """Secrets of one profile, namespaced by the profile's id so that profiles never collide."""

    def __init__(self, profile_id: str) -> None:
        self._profile_id = profile_id

    def _user(self, account_id: AccountId, what: str) -> str:
        return f"{self._profile_id}/{account_id}/{what}"

    def check_available(self) -> None:
        check_keyring_available()

    def _set(self, user: str, value: str) -> None:
        self.check_available()
        try:
            keyring.set_password(SERVICE, user, value)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailableError(f"the keyring refused to store a secret: {_describe(exc)}") from None

    def _get(self, user: str) -> str | None:
        self.check_available()
        try:
            return keyring.get_password(SERVICE, user)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailableError(f"the keyring could not be read: {_describe(exc)}") from None

    def _delete(self, user: str) -> None:
        try:
            keyring.delete_password(SERVICE, user)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailableError(f"the keyring could not delete a secret: {_describe(exc)}") from None

    def set_password(self, account_id: AccountId, password: str) -> None:
        self._set(self._user(account_id, "password"), password)

    def set_tokens(self, account_id: AccountId, tokens: dict[str, str]) -> None:
        self._set(self._user(account_id, "tokens"), json.dumps(tokens))

    def credentials(self, account_id: AccountId) -> Credentials:
        password = self._get(self._user(account_id, "password"))
        raw = self._get(self._user(account_id, "tokens"))
        tokens: dict[str, str] = {}
        if raw:
            try:
                tokens = {str(k): str(v) for k, v in json.loads(raw).items()}
            except (ValueError, AttributeError):
                log.warning("Stored tokens for %s are unreadable; ignoring them", account_id)
        return Credentials(password=password, tokens=tokens)

    def delete(self, account_id: AccountId) -> None:
        self.check_available()
        self._delete(self._user(account_id, "password"))
        self._delete(self._user(account_id, "tokens"))
