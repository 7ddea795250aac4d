"""Light and dark: the desktop's scheme is followed, the choice in Preferences wins and is kept, and an open
conversation is drawn again in the new colours (fake adapter, offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey, MessageKind, MessageState
from aggregator.app.names import SenderNames
from aggregator.app.types import Direction, StoredMessage
from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import open_tab, running, wait_connected
from ui import theme
from ui.theme_colors import DARK, LIGHT, Scheme, ThemeMode, current, nick_color, set_current
from ui.timeline_text import message_html

TIMEOUT = 10000


def base_color() -> str:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app.palette().color(QPalette.ColorRole.Base).name()


@pytest.fixture(autouse=True)
def back_to_light(qapp: QApplication) -> Iterator[None]:
    yield
    hints = QGuiApplication.styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Unknown)
    theme.ThemeController(QSettings(), None).set_mode(ThemeMode.SYSTEM)  # light again for the tests after
    assert current() is LIGHT


def settings_at(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)


def test_the_desktop_scheme_is_followed(tmp_path: Path, qapp: QApplication) -> None:
    controller = theme.ThemeController(settings_at(tmp_path))
    assert controller.mode is ThemeMode.SYSTEM
    hints = QGuiApplication.styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert controller.scheme is Scheme.DARK and base_color() == DARK.base
    assert qapp.style().name().lower() == "fusion"
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert base_color() == LIGHT.base and current() is LIGHT


def test_a_chosen_theme_wins_over_the_desktop_and_is_kept(tmp_path: Path, qapp: QApplication) -> None:
    settings = settings_at(tmp_path)
    theme.ThemeController(settings).set_mode(ThemeMode.DARK)
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert base_color() == DARK.base
    settings.sync()
    again = theme.ThemeController(settings_at(tmp_path))  # the next start
    assert again.mode is ThemeMode.DARK and again.scheme is Scheme.DARK


def test_preferences_switch_the_open_conversation_to_dark(gui_world: GuiWorld, qtbot: QtBot) -> None:
    with running(gui_world, qtbot) as session:
        window = session.window
        wait_connected(window, gui_world, qtbot)
        tab = open_tab(window, qtbot, gui_world.bob)
        gui_world.on_server(gui_world.server.deliver(gui_world.bob, gui_world.alice, "light or dark?"))
        qtbot.waitUntil(lambda: "light or dark?" in tab.view.toPlainText(), timeout=TIMEOUT)
        assert QColor(LIGHT.their).name() in tab.view.toHtml()

        window.preferences_action.trigger()
        page = session.windows.appearance
        assert page is not None
        assert page.mode.currentText() == "Follow the desktop"
        page.mode.setCurrentIndex(page.mode.findText("Dark"))

        assert base_color() == DARK.base
        qtbot.waitUntil(lambda: window.palette().color(QPalette.ColorRole.Window).name() == DARK.window)
        html = tab.view.toHtml()
        assert QColor(DARK.their).name() in html and QColor(LIGHT.their).name() not in html
        assert theme.stored_mode(window.theme._settings) is ThemeMode.DARK


def room_line(sender: str) -> StoredMessage:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    key = ConversationKey.room("fake:alice@fake.test", "team@rooms.fake.test")
    return StoredMessage(
        id=1,
        account_id=key.account_id,
        conversation_id=1,
        conversation=key,
        direction=Direction.IN,
        kind=MessageKind.CHAT,
        sender=f"team@rooms.fake.test/{sender}",
        sender_name=sender,
        body="hi",
        sent_at=at,
        received_at=at,
        state=MessageState.RECEIVED,
    )


def test_room_members_get_a_nick_colour_of_the_theme() -> None:
    bob, carol = room_line("Bob"), room_line("Carol")
    light_bob, light_carol = message_html(bob), message_html(carol)
    assert f'<b style="color:{nick_color("Bob", LIGHT)}">Bob:</b>' in light_bob
    assert f'<b style="color:{nick_color("Carol", LIGHT)}">Carol:</b>' in light_carol
    assert nick_color("Bob", LIGHT) != nick_color("Carol", LIGHT)  # two members, two colours
    assert message_html(bob) == light_bob  # the same member, the same colour
    set_current(Scheme.DARK)
    dark_bob = message_html(bob)
    assert f'<b style="color:{nick_color("Bob", DARK)}">Bob:</b>' in dark_bob
    person_tab = message_html(bob, names=SenderNames(person="Bob Builder"))
    assert f'<b style="color:{DARK.their}">Bob Builder:</b>' in person_tab  # a person's tab: one colour
