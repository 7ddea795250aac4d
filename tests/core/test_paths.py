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
