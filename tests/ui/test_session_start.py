"""Preferences → "Start with my session": writes the XDG autostart entry that starts the app in the
tray for this profile, and removes it again."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

import resources
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import running_session
from ui.app import Session
from ui.preferences import PreferencesDialog


def open_preferences(session: Session, qtbot: QtBot) -> PreferencesDialog:
    session.window.preferences_action.trigger()
    dialog = session.windows.preferences
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.isEnabled() and dialog.snapshot is not None, timeout=5000)
    return dialog


def test_start_with_my_session_writes_and_removes_the_autostart_entry(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGGREGATOR_POLICY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    entry = tmp_path / "config" / "autostart" / f"{resources.APP_ID}.desktop"
    with running_session(gui_world, qtbot) as session:
        dialog = open_preferences(session, qtbot)
        box = dialog.session_start.start_with_session
        assert box.text() == "Start with my session (in the tray)" and not box.isChecked()
        box.setChecked(True)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
        assert dialog.message.isHidden()
        fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
        argv = shlex.split(fields["Exec"])
        assert argv[1:] == ["--home", str(gui_world.paths.config_dir.parent), "gui", "--minimized"]

        dialog = open_preferences(session, qtbot)
        assert dialog.session_start.start_with_session.isChecked()
        dialog.session_start.start_with_session.setChecked(False)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
        assert not entry.exists()
