"""The preferences dialog and the policy banner, as a user sees them (fake account, offscreen)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTime
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from ui.app import Session, start_session
from ui.preferences import PreferencesDialog

LOCKS = '[locked]\nconnect_timeout = 20\n[rules.work]\nlogging = "required"\nretention_days = 90\n'


def set_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("AGGREGATOR_POLICY", str(path))


@pytest.fixture
def no_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGGREGATOR_POLICY", raising=False)


@pytest.fixture
def open_session(gui_world: GuiWorld, qtbot: QtBot) -> Iterator[list[Session]]:
    sessions: list[Session] = []
    yield sessions
    for s in sessions:
        s.window.save_state()
        s.shutdown()


def start(gui_world: GuiWorld, qtbot: QtBot, sessions: list[Session]) -> Session:
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    sessions.append(s)
    qtbot.addWidget(s.window)
    s.window.show()
    return s


def open_preferences(session: Session, qtbot: QtBot) -> PreferencesDialog:
    action = session.window.preferences_action
    assert action.shortcut().toString() == "Ctrl+,"
    assert action.text().replace("&", "") == "Preferences…"
    action.trigger()
    dialog = session.windows.preferences
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.isEnabled() and dialog.snapshot is not None, timeout=5000)
    return dialog


def controls(dialog: QWidget) -> list[QWidget]:
    return [w for w in dialog.findChildren(QWidget) if isinstance(w, QAbstractButton | QAbstractSpinBox | QComboBox)]


def test_settings_the_policy_locks_are_disabled_with_the_reason(
    gui_world: GuiWorld, qtbot: QtBot, open_session: list[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_policy(tmp_path, monkeypatch, LOCKS)
    dialog = open_preferences(start(gui_world, qtbot, open_session), qtbot)

    unnamed = [type(w).__name__ + ":" + (w.property("text") or "") for w in controls(dialog) if not w.accessibleName()]
    assert unnamed == []

    work = dialog.logging_boxes["logging.work"]
    assert work.isChecked() and not work.isEnabled()
    reason = dialog.locked_labels["logging.work"]
    assert not reason.isHidden() and reason.text().startswith("Locked by your organisation: ")
    assert "work accounts to be logged" in reason.text()
    assert work.toolTip() == reason.text()
    account = dialog.logging_boxes[f"logging.account.{gui_world.account_id}"]
    assert account.isChecked() and not account.isEnabled()
    personal = dialog.logging_boxes["logging.personal"]
    assert personal.isEnabled() and dialog.locked_labels["logging.personal"].isHidden()

    timeout = dialog.seconds_boxes["connect_timeout"]
    assert not timeout.isEnabled() and timeout.value() == 20.0
    assert "Locked by your organisation" in timeout.toolTip()
    assert dialog.seconds_boxes["reconnect_max_delay"].isEnabled()

    keep = dialog.retention_boxes["retention_days.work"]
    assert keep.value() == 90 and keep.maximum() == 90
    assert "90 days" in dialog.locked_labels["retention_days.work"].text()


def test_changes_are_applied_through_the_core(
    gui_world: GuiWorld, qtbot: QtBot, open_session: list[Session], no_policy: None
) -> None:
    dialog = open_preferences(start(gui_world, qtbot, open_session), qtbot)
    assert [b.isEnabled() for b in dialog.logging_boxes.values()] == [True] * len(dialog.logging_boxes)
    dialog.logging_boxes[f"logging.account.{gui_world.account_id}"].setChecked(False)
    dialog.retention_boxes["retention_days.personal"].setValue(30)
    dialog.seconds_boxes["connect_timeout"].setValue(15)
    dialog.away_minutes.setValue(5)
    dialog.work_hours.setChecked(True)
    dialog.hours_from.setTime(QTime(8, 0))
    dialog.hours_to.setTime(QTime(16, 30))
    dialog.day_boxes[4].setChecked(False)  # no work on Friday
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert dialog.message.isHidden()

    settings = json.loads(gui_world.paths.settings_file.read_text())
    assert settings["logging"] == {"accounts": {gui_world.account_id: False}}
    assert settings["retention_days"] == {"personal": 30} and settings["connect_timeout"] == 15
    status = json.loads((gui_world.paths.config_dir / "status.json").read_text())
    assert status["auto_away_minutes"] == 5
    assert status["work_hours"]["days"] == {str(d): ["08:00", "16:30"] for d in range(4)}

    # Opened again, it shows what was saved.
    dialog = open_preferences(open_session[0], qtbot)
    assert not dialog.logging_boxes[f"logging.account.{gui_world.account_id}"].isChecked()
    assert dialog.work_hours.isChecked() and not dialog.day_boxes[4].isChecked()


def test_input_that_makes_no_sense_is_refused_with_a_message(
    gui_world: GuiWorld, qtbot: QtBot, open_session: list[Session], no_policy: None
) -> None:
    dialog = open_preferences(start(gui_world, qtbot, open_session), qtbot)
    dialog.work_hours.setChecked(True)
    dialog.hours_from.setTime(QTime(17, 0))
    dialog.hours_to.setTime(QTime(9, 0))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Apply).click()
    assert not dialog.message.isHidden() and "end after they start" in dialog.message.text()
    for box in dialog.day_boxes:
        box.setChecked(False)
    dialog.hours_to.setTime(QTime(18, 0))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Apply).click()
    assert "at least one work day" in dialog.message.text()
    assert dialog.isVisible()
    assert not (gui_world.paths.config_dir / "status.json").exists()


def test_a_malformed_policy_file_shows_a_banner_with_the_reason(
    gui_world: GuiWorld, qtbot: QtBot, open_session: list[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_policy(tmp_path, monkeypatch, "[rules.work\nlogging = ")
    window = start(gui_world, qtbot, open_session).window
    banner = window.policy_banner
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=5000)
    (text,) = banner.texts()
    assert "the policy file is unusable, nothing from it applies" in text and "not valid TOML" in text
    (row,) = banner.rows
    assert row.label.textFormat().name == "PlainText"
    assert banner.geometry().top() < window.splitter.geometry().top()  # above the buddy list
    row.dismiss.click()
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=2000)
    assert banner.texts() == []
