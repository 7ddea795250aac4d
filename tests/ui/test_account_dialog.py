"""The accounts dialog and the accounts strip as a new user meets them: real protocols only, a Browse…
button for a CA file, an example in the Server field, a failure said in words with the server's
condition in the details, and confirmations that name the account."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from aggregator.api import Sphere
from aggregator.events import ConnectionState
from tests.ui.conftest import GuiWorld
from tests.ui.screenshots import screenshot_path
from tests.ui.sessions import extra_account, running_session
from ui.account_dialog import AccountsDialog


def _select(dialog: AccountsDialog, account_id: str) -> None:
    for row in range(dialog.list.count()):
        if dialog.list.item(row).data(Qt.ItemDataRole.UserRole) == account_id:
            dialog.list.setCurrentRow(row)
            return
    raise AssertionError(f"{account_id} is not in the accounts dialog")


def _protocol_names(dialog: AccountsDialog) -> list[str]:
    editor = dialog.editor()
    names = [editor.protocol.itemText(i) for i in range(editor.protocol.count())]
    editor.deleteLater()
    return names


def test_the_add_dialog_offers_real_protocols_with_examples_and_a_browse_button(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AGGREGATOR_DEV")
    with running_session(gui_world, qtbot) as s:
        dialog = s.windows.show_accounts()
        names = _protocol_names(dialog)
        assert names and not any("Fake" in n for n in names), names
        editor = dialog.editor()
        assert "Fake" not in editor.protocol.currentText()
        placeholders = {}
        for index in range(editor.protocol.count()):
            editor.protocol.setCurrentIndex(index)
            server = editor._widgets["server"]
            assert isinstance(server, QLineEdit)
            placeholders[editor.protocol.currentText()] = server.placeholderText()
            assert server.placeholderText(), f"no example in the Server field of {editor.protocol.currentText()}"
        assert len(set(placeholders.values())) == len(placeholders)  # one example per protocol
        editor.protocol.setCurrentIndex(editor.protocol.findData("irc"))
        ca_file = editor._widgets["ca_file"]
        assert isinstance(ca_file, QLineEdit)
        browse = editor.browse_buttons["ca_file"]
        assert browse.text() == "Browse…" and browse.isVisibleTo(editor)
        pem = tmp_path / "company-ca.pem"
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(pem), ""))
        browse.click()
        assert ca_file.text() == str(pem)
        editor.show()
        qtbot.waitExposed(editor)
        editor.grab().save(str(screenshot_path("account-dialog-irc.png", tmp_path)))
        editor.close()

        monkeypatch.setenv("AGGREGATOR_DEV", "1")  # developers and tests still get the fake protocol
        assert "Fake (testing)" in _protocol_names(dialog)


def test_a_failed_account_says_why_in_words_in_the_dialog_and_the_strip(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path
) -> None:
    w = gui_world
    with extra_account(w, w.carol, "wrong-password", Sphere.PERSONAL) as carol, running_session(w, qtbot) as s:
        strip = s.window.accounts_strip
        qtbot.waitUntil(lambda: strip.state_text(carol).startswith("failed"), timeout=10_000)
        qtbot.waitUntil(lambda: "connected" in strip.state_text(w.account_id), timeout=10_000)
        text = strip._label.text()
        assert "·" not in text  # never "available · failed"
        assert "Why?" in text

        popup = strip.show_failure(carol)
        assert popup is not None
        assert "did not accept the address or the password" in popup.text()
        assert "refused the login" not in popup.text()  # the jargon is in the details
        assert "refused the login" in popup.detailedText()
        qtbot.waitExposed(popup)
        popup.grab().save(str(screenshot_path("account-failure-popup.png", tmp_path)))
        popup.close()

        dialog = s.windows.show_accounts()
        qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=5000)
        _select(dialog, carol)
        assert dialog.reason.isVisibleTo(dialog)
        assert f"{w.carol} could not connect. The server did not accept the address" in dialog.reason.text()
        assert "refused the login" in dialog.reason_details.text()
        dialog.grab().save(str(screenshot_path("accounts-failure.png", tmp_path)))
        _select(dialog, w.account_id)
        assert not dialog.reason.isVisibleTo(dialog)
        assert strip.failure(w.account_id) is None and strip.summary_text(w.account_id) != ConnectionState.FAILED.value


def test_removing_an_account_asks_by_name_not_by_id(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = gui_world
    with running_session(w, qtbot) as s:
        dialog = s.windows.show_accounts()
        qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=5000)
        _select(dialog, w.account_id)
        asked: list[str] = []

        def question(_parent: object, _title: str, text: str, *_a: object) -> QMessageBox.StandardButton:
            asked.append(text)
            return QMessageBox.StandardButton.No

        monkeypatch.setattr(QMessageBox, "question", question)
        dialog.remove_button.click()
        (text,) = asked
        assert w.account_id not in text  # "fake:alice…" is an internal id
        first, second = text.splitlines()[:2]
        assert w.alice in first and w.alice in second
