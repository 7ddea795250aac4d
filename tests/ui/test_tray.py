"""The tray: own presence with the unread count painted on it; status, show/hide and quit in its menu."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from aggregator.api import Presence, PresenceKind
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import on_engine, running_session
from ui.icons import PRESENCE_COLORS, badge_icon
from ui.tray import Tray

BADGE_RED = QColor("#d62d20")


def image(tray: Tray) -> QImage:
    return tray.icon.icon().pixmap(64, 64).toImage()


def near(a: QColor, b: QColor) -> bool:
    return abs(a.red() - b.red()) < 30 and abs(a.green() - b.green()) < 30 and abs(a.blue() - b.blue()) < 30


def test_the_badge_is_painted_on_the_presence_dot(qtbot: QtBot) -> None:
    plain = badge_icon(PresenceKind.BUSY, 0).pixmap(64, 64).toImage()
    badged = badge_icon(PresenceKind.BUSY, 7).pixmap(64, 64).toImage()
    assert plain.pixelColor(56, 8).alpha() == 0  # top right corner: nothing without unread messages
    assert near(badged.pixelColor(50, 4), BADGE_RED)
    assert near(badged.pixelColor(20, 40), QColor(PRESENCE_COLORS[PresenceKind.BUSY]))  # the dot is still there


def test_tray_shows_unread_and_presence_and_its_menu_works(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running_session(w, qtbot) as s:
        window = s.window
        tray = Tray(window, window.status_selector)
        window.feed.total_unread.connect(tray.set_unread)
        qtbot.waitUntil(lambda: "connected" in window.accounts_strip.state_text(w.account_id), timeout=10_000)
        assert tray.icon.toolTip() == "Aggregator: Available"
        assert tray.icon.icon().pixmap(64, 64).toImage().pixelColor(56, 8).alpha() == 0

        w.on_server(w.server.deliver(w.bob, w.alice, "hello"))
        qtbot.waitUntil(lambda: tray.unread == 1, timeout=5000)
        assert tray.icon.toolTip() == "Aggregator: Available, 1 unread"
        assert near(image(tray).pixelColor(50, 4), BADGE_RED)

        # Status from the tray's menu: the core gets it, the icon and the check mark follow.
        tray.status_actions[PresenceKind.BUSY].trigger()
        qtbot.waitUntil(lambda: tray.kind is PresenceKind.BUSY, timeout=5000)
        assert on_engine(s, lambda c: c.status.book.global_status) == Presence(PresenceKind.BUSY)
        assert tray.status_actions[PresenceKind.BUSY].isChecked()
        assert window.status_selector.combo.currentText() == "Busy"
        assert near(image(tray).pixelColor(20, 40), QColor(PRESENCE_COLORS[PresenceKind.BUSY]))

        # Show/hide.
        assert window.isVisible()
        tray.toggle_action.trigger()
        assert not window.isVisible() and tray.toggle_action.text() == "Show window"
        tray.toggle_action.trigger()
        assert window.isVisible() and tray.toggle_action.text() == "Hide window"

        # Quit.
        with qtbot.waitSignal(tray.quit_requested, timeout=1000):
            tray.quit_action.trigger()
        assert [a.text() for a in tray.menu.actions() if a.text()] == [
            "Hide window",
            "Available",
            "Away",
            "Busy",
            "Invisible",
            "Offline",
            "Quit",
        ]
