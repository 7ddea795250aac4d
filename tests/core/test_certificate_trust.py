"""Trusting a presented certificate for one account: the files it writes and what it refuses."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.accounts.config import AccountConfig, AccountStore
from aggregator.accounts.trust import certificate_lines, normalize_fingerprint, pin_certificate, pinned_certificate_path
from aggregator.api import CertificateDetails, ConfigurationError, PolicyError
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.policy.file import Policy, ProfileSpec
from aggregator.policy.state import PolicyState

FINGERPRINT = ":".join(f"{i:02X}" for i in range(32))
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def details() -> CertificateDetails:
    return CertificateDetails(
        host="chat.example.org:5222",
        problem="self-signed certificate",
        subject="CN=chat.example.org",
        issuer="CN=chat.example.org",
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
        not_after=datetime(2027, 6, 30, 12, 5, tzinfo=UTC),
        fingerprint_sha256=FINGERPRINT,
        pem=PEM,
    )


@pytest.fixture
def profile(tmp_path: Path) -> tuple[ProfilePaths, AccountStore]:
    paths = ProfilePaths.resolve(tmp_path / "home")
    paths.ensure()
    store = AccountStore(paths.accounts_file)
    store.add(AccountConfig(id="xmpp:a@chat.example.org", protocol="xmpp", address="a@chat.example.org"))
    store.add(AccountConfig(id="irc:bob", protocol="irc", address="bob", ca_file="/etc/ssl/corp.pem"))
    return paths, store


def test_the_pinned_certificate_is_written_public_and_becomes_the_ca_file(
    profile: tuple[ProfilePaths, AccountStore],
) -> None:
    paths, store = profile
    changed = pin_certificate(store, PolicyEngine(), paths, "xmpp:a@chat.example.org", details(), FINGERPRINT.lower())
    path = pinned_certificate_path(paths, "xmpp:a@chat.example.org")
    assert path.parent == paths.config_dir / "certs" and ":" not in path.name
    assert path.read_text() == PEM
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file left
    assert changed.ca_file == str(path) and store.resolve("xmpp:a@chat.example.org").ca_file == str(path)
    assert store.resolve("irc:bob").ca_file == "/etc/ssl/corp.pem"  # other accounts untouched


def test_a_locked_ca_file_is_refused_with_the_reason(profile: tuple[ProfilePaths, AccountStore]) -> None:
    paths, store = profile
    state = PolicyState.load(paths.config_dir)
    state.profiles["corp-irc"] = "irc:bob"
    state.save()
    policy = PolicyEngine(
        Policy(profiles=(ProfileSpec(name="corp-irc", protocol="irc", username="bob", locked=frozenset({"ca_file"})),))
    )
    with pytest.raises(PolicyError, match=re.escape("locked by the organisation's policy (profile 'corp-irc')")):
        pin_certificate(store, policy, paths, "irc:bob", details())
    assert store.resolve("irc:bob").ca_file == "/etc/ssl/corp.pem"
    assert not pinned_certificate_path(paths, "irc:bob").exists()
    # The same policy does not lock the account it did not make.
    assert pin_certificate(store, policy, paths, "xmpp:a@chat.example.org", details()).ca_file is not None


def test_a_different_fingerprint_trusts_nothing(profile: tuple[ProfilePaths, AccountStore]) -> None:
    paths, store = profile
    with pytest.raises(ConfigurationError, match="nothing was trusted"):
        pin_certificate(store, PolicyEngine(), paths, "xmpp:a@chat.example.org", details(), "AA" * 32)
    assert store.resolve("xmpp:a@chat.example.org").ca_file is None
    with pytest.raises(ConfigurationError, match="no account"):
        pin_certificate(store, PolicyEngine(), paths, "xmpp:gone@chat.example.org", details())


@pytest.mark.parametrize(
    "typed",
    [FINGERPRINT, FINGERPRINT.lower(), FINGERPRINT.replace(":", ""), " " + FINGERPRINT.replace(":", " ") + "\n"],
)
def test_fingerprints_are_accepted_in_the_usual_spellings(typed: str) -> None:
    assert normalize_fingerprint(typed) == FINGERPRINT


@pytest.mark.parametrize("typed", ["", "AB" * 31, "AB" * 33, "ZZ" * 32, "sha1:" + "AB" * 20])
def test_what_is_not_a_sha256_fingerprint_is_an_error(typed: str) -> None:
    with pytest.raises(ConfigurationError, match="not a SHA-256 fingerprint"):
        normalize_fingerprint(typed)


def test_the_details_read_as_a_person_would_say_them() -> None:
    assert dict(certificate_lines(details())) == {
        "Server": "chat.example.org:5222",
        "Problem": "self-signed certificate",
        "Issued to": "CN=chat.example.org (self-signed)",
        "Issued by": "CN=chat.example.org",
        "Valid": "from 2026-01-01 00:00 UTC until 2027-06-30 12:05 UTC",
        "SHA-256": FINGERPRINT,
    }
