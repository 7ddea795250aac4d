from __future__ import annotations

import os
from pathlib import Path

import pytest

from aggregator.paths import ProfilePaths


def test_a_deep_profile_still_gets_a_usable_control_socket_path(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-directory-name-" * 6)
    paths = ProfilePaths.resolve(deep)
    sock = paths.control_socket
    assert len(os.fsencode(sock)) <= 107
    assert sock == ProfilePaths.resolve(deep).control_socket  # the client finds the same one
    assert sock != ProfilePaths.resolve(tmp_path / ("another-long-directory-name-" * 6)).control_socket


def test_home_puts_everything_under_one_directory(tmp_path: Path) -> None:
    paths = ProfilePaths.resolve(tmp_path / "p")
    for p in (paths.accounts_file, paths.archive_file, paths.settings_file, paths.lock_file):
        assert p.is_relative_to(tmp_path / "p")


def test_the_environment_variable_chooses_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGGREGATOR_HOME", str(tmp_path / "env-home"))
    assert ProfilePaths.resolve().archive_file.is_relative_to(tmp_path / "env-home")


def test_an_older_profile_with_readable_files_is_made_owner_only_and_links_are_not_followed(tmp_path: Path) -> None:
    paths = ProfilePaths.resolve(tmp_path / "p")
    store = paths.account_data_dir("matrix:@alice:example.org") / "crypto"
    store.mkdir(parents=True)
    db = store / "@alice:example.org_DEV.db"
    db.write_bytes(b"")
    outside = tmp_path / "shared.txt"
    outside.write_text("not ours", encoding="utf-8")
    (paths.data_dir / "link").symlink_to(outside)
    for path in (tmp_path / "p" / "data", paths.data_dir / "accounts", store.parent, store):
        os.chmod(path, 0o755)
    os.chmod(db, 0o644)
    os.chmod(outside, 0o644)

    paths.ensure()

    for directory in (paths.data_dir / "accounts", store.parent, store):
        assert directory.stat().st_mode & 0o777 == 0o700, directory
    assert db.stat().st_mode & 0o777 == 0o600
    assert outside.stat().st_mode & 0o777 == 0o644  # the link's target is not the profile's


def test_an_unsafe_runtime_fallback_gives_a_private_directory_without_a_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Without XDG_RUNTIME_DIR, platformdirs falls back to /tmp/runtime-UID and refuses it when another
    user made it first (PermissionError): the profile still gets a private runtime directory, quietly."""
    import platformdirs

    def unsafe(*_a: object, **_k: object) -> str:
        raise PermissionError("/tmp/runtime-1000 is owned by uid 1001, not 1000")

    monkeypatch.delenv("AGGREGATOR_HOME", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(platformdirs, "user_runtime_dir", unsafe)
    paths = ProfilePaths.resolve()
    assert paths.runtime_dir.is_relative_to(tmp_path / "state")
    assert paths.runtime_dir.is_dir() and (paths.runtime_dir.stat().st_mode & 0o777) == 0o700
    assert paths.lock_file.parent == paths.runtime_dir
    out, err = capfd.readouterr()
    assert out == err == ""
