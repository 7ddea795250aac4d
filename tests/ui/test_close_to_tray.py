"""With a tray icon, closing the main window hides it into the tray (said once, remembered); Quit in the
menu and in the tray's menu really quits. Without a tray, closing the window quits as before."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.conftest import GuiWorld
from tests.ui.sessions import on_engine, running_session
from ui.main_window import TRAY_NOTED_KEY, MainWindow
from ui.tray import Tray


def _quits(app_quit: list[bool], quit_by: Callable[[], None], window: MainWindow) -> bool:
    """Choose Quit, then do what Qt's quit does (``QGuiApplication`` closes every window first and
    stays running when one refuses): True when the window let the quit through."""
    quit_by()
    assert app_quit, "Quit did not reach the application"
    return window.close()


def test_closing_the_window_hides_it_into_the_tray_and_quit_quits(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    with running_session(w, qtbot) as s:
        window = s.window
        quits: list[bool] = []
        window.on_close = lambda: quits.append(True)
        tray = Tray(window, window.status_selector)  # as ui.windows makes it where the desktop has a tray
        tray.show()
        window.set_tray(tray.icon)
        qtbot.waitUntil(lambda: "connected" in window.accounts_strip.state_text(w.account_id), timeout=10_000)

        with qtbot.waitSignal(window.hidden_to_tray, timeout=1000) as first:
            assert not window.close()
        assert not window.isVisible() and not quits
        assert "stays in the tray" in str(first.args[0])
        assert QSettings(str(w.paths.config_dir / "ui.ini"), QSettings.Format.IniFormat).value(TRAY_NOTED_KEY)
        # Still connected: the app runs on.
        assert on_engine(s, lambda c: c.accounts.connected_adapter(w.account_id)) is not None
        tray.menu.aboutToShow.emit()
        assert tray.toggle_action.text() == "Show window"

        tray.toggle_action.trigger()
        assert window.isVisible()
        with qtbot.waitSignal(window.hidden_to_tray, timeout=1000) as second:
            window.close()
        assert second.args == [""]  # said once only
        assert not window.isVisible() and not quits
        tray.toggle_action.trigger()

        # Quit in the tray's menu quits: the window no longer holds the application back.
        app_quit: list[bool] = []
        s.windows.quit_requested.connect(lambda: app_quit.append(True))  # ui.app.launch: app.quit
        tray.quit_requested.connect(s.windows.quit_requested)  # as ui.windows wires its tray
        assert _quits(app_quit, tray.quit_action.trigger, window)
        assert not window.isVisible() and quits
    app.setQuitOnLastWindowClosed(True)  # closed into the tray turned it off for the rest of the process


def test_quit_in_the_menu_quits(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running_session(w, qtbot) as s:
        window = s.window
        tray = Tray(window, window.status_selector)
        tray.show()
        window.set_tray(tray.icon)
        app_quit: list[bool] = []
        s.windows.quit_requested.connect(lambda: app_quit.append(True))
        assert _quits(app_quit, window.quit_action.trigger, window)
        assert not window.isVisible()


def test_without_a_tray_closing_the_window_quits(gui_world: GuiWorld, qtbot: QtBot) -> None:
    with running_session(gui_world, qtbot) as s:
        quits: list[bool] = []
        s.window.on_close = lambda: quits.append(True)
        assert s.window.close()
        assert quits
