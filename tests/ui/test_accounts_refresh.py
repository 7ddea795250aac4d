"""The status selector's Scopes menu and the accounts strip follow the accounts dialog at once (the
core's ``AccountsChanged`` event), while the dialog is still open: a renamed account shows its new
name, a disabled one shows as disabled, a removed one is gone."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from aggregator.api import Sphere
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import extra_account, running_session
from ui.account_dialog import AccountEditor, AccountsDialog


def _select(dialog: AccountsDialog, account_id: str) -> None:
    for row in range(dialog.list.count()):
        if dialog.list.item(row).data(Qt.ItemDataRole.UserRole) == account_id:
            dialog.list.setCurrentRow(row)
            return
    raise AssertionError(f"{account_id} is not in the accounts dialog")


def test_rename_disable_remove_refresh_the_scopes_menu_and_the_strip(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = gui_world
    with extra_account(w, w.carol, "carol-pw", Sphere.PERSONAL) as personal, running_session(w, qtbot) as s:
        selector, strip = s.window.status_selector, s.window.accounts_strip
        qtbot.waitUntil(lambda: "connected" in strip.state_text(personal), timeout=10_000)
        qtbot.waitUntil(lambda: selector.scope_submenu(account=personal) is not None, timeout=5000)
        menu = selector.scope_submenu(account=personal)
        assert menu is not None and menu.title().startswith(f"{w.carol}: ")

        dialog = s.windows.show_accounts()
        qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=5000)
        _select(dialog, personal)

        def rename(editor: AccountEditor) -> int:
            editor.label.setText("Carol's phone")
            editor._accept()
            return int(editor.result())

        monkeypatch.setattr(AccountEditor, "exec", rename)
        dialog.edit_button.click()

        def renamed() -> bool:
            menu = selector.scope_submenu(account=personal)
            return menu is not None and menu.title().startswith("Carol's phone: ")

        qtbot.waitUntil(renamed, timeout=5000)
        qtbot.waitUntil(lambda: "Carol&#x27;s phone:" in strip._label.text(), timeout=5000)
        assert dialog.isVisible()  # no need to close the dialog first

        _select(dialog, personal)
        dialog.enable_button.click()
        qtbot.waitUntil(lambda: strip.state_text(personal) == "disabled", timeout=5000)

        _select(dialog, personal)
        monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
        dialog.remove_button.click()
        qtbot.waitUntil(lambda: selector.scope_submenu(account=personal) is None, timeout=5000)
        qtbot.waitUntil(lambda: "Carol" not in strip._label.text(), timeout=5000)
        assert w.carol not in strip._label.text() and len(selector.accounts) == 1
