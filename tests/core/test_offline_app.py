"""The application layer on a profile no instance runs (``aggregator.app.offline``): which archive a
command opens, and how an account named on the command line is found in the archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.api import ConfigurationError, Sphere
from aggregator.app.offline import retention
from aggregator.app.offline.profile import OfflineProfile
from aggregator.archive import Archive
from aggregator.paths import ProfilePaths


@pytest.fixture
def paths(tmp_path: Path) -> ProfilePaths:
    made = ProfilePaths.resolve(tmp_path / "home")
    made.ensure()
    return made


def test_a_new_profile_has_no_archive_and_a_bad_url_is_refused_before_anything_is_created(paths: ProfilePaths) -> None:
    assert not OfflineProfile.at(paths).has_archive()
    with pytest.raises(ValueError, match="unsupported database"):
        OfflineProfile.at(paths, "mysql://db/x")
    assert not paths.archive_file.exists()


def test_the_database_url_setting_chooses_the_archive_and_it_is_opened_once(
    paths: ProfilePaths, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.sqlite3"
    paths.settings_file.write_text(json.dumps({"database_url": f"sqlite:///{elsewhere}"}), encoding="utf-8")
    profile = OfflineProfile.at(paths)
    assert profile.has_archive()  # a database by URL is created on open
    with profile:
        assert profile.archive is profile.archive
        profile.archive.upsert_account("x:a", "x", "a@x", "A", Sphere.WORK)
    assert elsewhere.exists() and not paths.archive_file.exists()
    # A given URL wins over the setting.
    assert OfflineProfile.at(paths, f"sqlite:///{tmp_path / 'given.sqlite3'}").url != profile.url


def test_retention_finds_an_account_by_id_address_or_label_and_says_what_is_ambiguous(tmp_path: Path) -> None:
    archive = Archive.open(path=tmp_path / "archive.sqlite3")
    try:
        archive.upsert_account("xmpp:w@example.org", "xmpp", "w@example.org", "Work", Sphere.WORK)
        archive.upsert_account("matrix:@w:example.org", "matrix", "@w:example.org", "Work", Sphere.WORK)
        archive.upsert_account("irc:me@libera", "irc", "me@libera", "Chat", Sphere.PERSONAL)
        assert retention.resolve_account(archive, "irc:me@libera") == "irc:me@libera"
        assert retention.resolve_account(archive, "W@Example.org") == "xmpp:w@example.org"
        assert retention.resolve_account(archive, "chat") == "irc:me@libera"
        with pytest.raises(ConfigurationError, match="matches several accounts"):
            retention.resolve_account(archive, "work")
        with pytest.raises(ConfigurationError, match=r"no account 'nobody' in the archive \(accounts: irc:me@libera"):
            retention.resolve_account(archive, "nobody")
    finally:
        archive.close()
