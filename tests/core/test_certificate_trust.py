"""Trusting a presented certificate for one account: the files it writes and what it refuses."""

from __future__ import annotations

import re
import stat
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.accounts.config import AccountConfig, AccountStore
from aggregator.accounts.trust import (
    certificate_lines,
    normalize_fingerprint,
    pin_certificate,
    pin_fingerprint,
    pinned_certificate_path,
    pinned_warning,
)
from aggregator.api import CertificateDetails, ConfigurationError, PolicyError
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.policy.apply import _relock
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


def test_the_certificate_is_pinned_by_its_fingerprint_and_kept_public(
    profile: tuple[ProfilePaths, AccountStore],
) -> None:
    paths, store = profile
    changed = pin_certificate(store, PolicyEngine(), paths, "xmpp:a@chat.example.org", details(), FINGERPRINT.lower())
    path = pinned_certificate_path(paths, "xmpp:a@chat.example.org")
    assert path.parent == paths.config_dir / "certs" and ":" not in path.name
    assert path.read_text() == PEM
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file left
    assert changed.pinned_certificate == FINGERPRINT
    assert store.resolve("xmpp:a@chat.example.org").pinned_certificate == FINGERPRINT  # saved
    assert store.resolve("xmpp:a@chat.example.org").to_settings(None).pinned_certificate == FINGERPRINT
    bob = store.resolve("irc:bob")  # other accounts untouched
    assert bob.ca_file == "/etc/ssl/corp.pem" and bob.pinned_certificate is None
    assert pinned_warning(bob) is None
    warning = pinned_warning(changed)
    assert warning is not None and FINGERPRINT in warning and "not checked" in warning


def test_a_pin_by_fingerprint_alone_before_any_connection(profile: tuple[ProfilePaths, AccountStore]) -> None:
    paths, store = profile
    typed = FINGERPRINT.replace(":", "").lower()
    changed = pin_fingerprint(store, PolicyEngine(), paths, "irc:bob", typed)
    assert changed.pinned_certificate == FINGERPRINT
    assert changed.ca_file == "/etc/ssl/corp.pem"  # the account's own CA file is the user's: kept
    assert not pinned_certificate_path(paths, "irc:bob").exists()  # no certificate seen, none recorded
    with pytest.raises(ConfigurationError, match="not a SHA-256 fingerprint"):
        pin_fingerprint(store, PolicyEngine(), paths, "irc:bob", "12:34")
    assert store.resolve("irc:bob").pinned_certificate == FINGERPRINT


def test_an_earlier_pin_kept_as_the_ca_file_gives_way_to_the_new_pin(
    profile: tuple[ProfilePaths, AccountStore],
) -> None:
    paths, store = profile
    legacy = str(pinned_certificate_path(paths, "xmpp:a@chat.example.org"))
    (account,) = [a for a in store.load() if a.id == "xmpp:a@chat.example.org"]
    store.save([replace(account, ca_file=legacy) if a.id == account.id else a for a in store.load()])
    changed = pin_certificate(store, PolicyEngine(), paths, "xmpp:a@chat.example.org", details())
    assert changed.ca_file is None and changed.pinned_certificate == FINGERPRINT


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
    assert pin_certificate(store, policy, paths, "xmpp:a@chat.example.org", details()).pinned_certificate is not None
    with pytest.raises(PolicyError):
        pin_fingerprint(store, policy, paths, "irc:bob", FINGERPRINT)
    assert store.resolve("irc:bob").pinned_certificate is None


def test_a_different_fingerprint_trusts_nothing(profile: tuple[ProfilePaths, AccountStore]) -> None:
    paths, store = profile
    with pytest.raises(ConfigurationError, match="nothing was trusted"):
        pin_certificate(store, PolicyEngine(), paths, "xmpp:a@chat.example.org", details(), "AA" * 32)
    assert store.resolve("xmpp:a@chat.example.org").pinned_certificate is None
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


def test_a_policy_that_locks_the_ca_file_undoes_a_pin_made_before() -> None:
    spec = ProfileSpec(
        name="corp-irc", protocol="irc", username="bob", ca_file="/etc/ssl/corp.pem", locked=frozenset({"ca_file"})
    )
    pinned = AccountConfig(
        id="irc:bob", protocol="irc", address="bob", ca_file="/etc/ssl/corp.pem", pinned_certificate=FINGERPRINT
    )
    relocked, changed = _relock(spec, pinned)
    assert relocked.pinned_certificate is None and changed == ["pinned_certificate"]
