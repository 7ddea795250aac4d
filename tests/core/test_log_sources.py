"""The first run's "Import old logs" offer: other clients' logs found in their default folders."""

from __future__ import annotations

import shutil
from pathlib import Path

from aggregator.app.log_sources import LogSource, find_log_sources

DATA = Path(__file__).resolve().parents[1] / "data"


def test_logs_in_the_default_folders_are_offered(tmp_path: Path) -> None:
    home = tmp_path / "home"
    appdata = tmp_path / "AppData" / "Roaming"
    shutil.copytree(DATA / "pidgin" / "p2a-text" / "logs", home / ".purple" / "logs")
    shutil.copytree(DATA / "trillian" / "qronicle" / "logs", appdata / "Trillian" / "users" / "default" / "logs")
    shutil.copytree(DATA / "hexchat" / "logs", home / ".config" / "hexchat" / "logs")

    found = find_log_sources(home, {"APPDATA": str(appdata)})

    assert found == [
        LogSource("pidgin", "Pidgin", home / ".purple" / "logs"),
        LogSource("trillian", "Trillian", appdata / "Trillian" / "users" / "default" / "logs"),
        LogSource("hexchat", "HexChat", home / ".config" / "hexchat" / "logs"),
    ]


def test_trillian_under_wine_and_xdg_folders_are_looked_at(tmp_path: Path) -> None:
    home = tmp_path / "home"
    trillian = home / ".wine" / "drive_c" / "users" / "me" / "AppData" / "Roaming" / "Trillian" / "users" / "work"
    shutil.copytree(DATA / "trillian" / "qronicle" / "logs", trillian / "logs")
    config = tmp_path / "xdg-config"
    shutil.copytree(DATA / "hexchat" / "logs", config / "hexchat" / "logs")

    found = find_log_sources(home, {"XDG_CONFIG_HOME": str(config)})

    assert [(s.title, s.folder) for s in found] == [
        ("Trillian", trillian / "logs"),
        ("HexChat", config / "hexchat" / "logs"),
    ]


def test_empty_or_foreign_folders_are_not_offered(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".purple" / "logs").mkdir(parents=True)  # Pidgin installed, nothing logged
    (home / "irclogs").mkdir()
    (home / "irclogs" / "notes.txt").write_text("not a log\n", encoding="utf-8")

    assert find_log_sources(home, {}) == []
