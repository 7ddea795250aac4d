"""The own status per sphere and per account, from the status selector's menu; the accounts strip shows it."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from aggregator.api import Presence, PresenceKind, Sphere
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import extra_account, on_engine, running_session
from ui.status_selector import SAME_AS_GLOBAL


def _action(menu: object, text: str) -> object:
    from PySide6.QtWidgets import QMenu

    assert isinstance(menu, QMenu)
    return next(a for a in menu.actions() if a.text() == text)


def test_work_busy_changes_the_work_account_only(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with extra_account(w, w.carol, "carol-pw", Sphere.PERSONAL) as personal, running_session(w, qtbot) as s:
        window = s.window
        selector = window.status_selector
        strip = window.accounts_strip
        qtbot.waitUntil(lambda: "connected" in strip.state_text(w.account_id), timeout=10_000)
        qtbot.waitUntil(lambda: "connected" in strip.state_text(personal), timeout=10_000)
        qtbot.waitUntil(lambda: len(selector.accounts) == 2, timeout=5000)
        qtbot.waitUntil(lambda: strip.presence_text(w.account_id) == "available", timeout=5000)
        assert selector.scopes.text() == "Scopes"

        work_menu = selector.scope_submenu(sphere=Sphere.WORK)
        assert work_menu is not None and work_menu.title() == "Work: same as global"
        _action(work_menu, "Busy").trigger()  # type: ignore[attr-defined]

        qtbot.waitUntil(lambda: strip.presence_text(w.account_id) == "busy", timeout=5000)
        assert strip.presence_text(personal) == "available"
        assert on_engine(s, lambda c: c.status.shown(w.account_id)).kind is PresenceKind.BUSY
        assert on_engine(s, lambda c: c.status.shown(personal)).kind is PresenceKind.AVAILABLE
        # What the contacts see, on the server:
        assert w.server._users[w.alice].presence[0] == "busy"
        assert w.server._users[w.carol].presence[0] == "available"
        # The menu says which scopes override the global status.
        assert selector.scopes.text() == "Scopes (1)"
        assert "Work: Busy" in selector.scopes.toolTip()
        work_menu = selector.scope_submenu(sphere=Sphere.WORK)
        assert work_menu is not None and work_menu.title() == "Work: Busy"
        assert work_menu.menuAction().font().bold()
        personal_menu = selector.scope_submenu(sphere=Sphere.PERSONAL)
        assert personal_menu is not None and personal_menu.title() == "Personal: same as global"
        assert selector.combo.currentText() == "Available"
        work_account_menu = selector.scope_submenu(account=w.account_id)
        assert work_account_menu is not None and work_account_menu.title().endswith(": as Work (shows Busy)")

        # One account on its own, with a message; then back to the sphere's status.
        selector.message.setText("lunch")
        account_menu = selector.scope_submenu(account=personal)
        assert account_menu is not None
        _action(account_menu, "Away").trigger()  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: strip.presence_text(personal) == "away: lunch", timeout=5000)
        assert on_engine(s, lambda c: c.status.book.accounts) == {personal: Presence(PresenceKind.AWAY, "lunch")}
        assert selector.scopes.text() == "Scopes (2)"
        account_menu = selector.scope_submenu(account=personal)
        assert account_menu is not None and account_menu.title().endswith(": Away")
        assert account_menu.menuAction().font().bold()

        work_menu = selector.scope_submenu(sphere=Sphere.WORK)
        _action(work_menu, SAME_AS_GLOBAL).trigger()  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: strip.presence_text(w.account_id) == "available", timeout=5000)
        assert strip.presence_text(personal) == "away: lunch"


def test_global_status_and_message(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running_session(w, qtbot) as s:
        selector, strip = s.window.status_selector, s.window.accounts_strip
        qtbot.waitUntil(lambda: strip.presence_text(w.account_id) == "available", timeout=10_000)
        selector.combo.setCurrentIndex(selector.combo.findText("Away"))
        selector.combo.activated.emit(selector.combo.currentIndex())
        qtbot.waitUntil(lambda: strip.presence_text(w.account_id) == "away", timeout=5000)
        selector.message.setText("back at 3")
        selector.message.returnPressed.emit()
        qtbot.waitUntil(lambda: strip.presence_text(w.account_id) == "away: back at 3", timeout=5000)
        assert on_engine(s, lambda c: c.status.book.global_status) == Presence(PresenceKind.AWAY, "back at 3")
        # The choices are the ones the core saves and loads again (no "extended away").
        choices = [selector.combo.itemText(i) for i in range(selector.combo.count())]
        assert choices == ["Available", "Away", "Busy", "Invisible", "Offline"]
