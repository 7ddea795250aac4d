"""Light and dark: the Fusion style with an explicit palette for each, following the desktop's colour scheme
(Qt's ``QStyleHints.colorScheme``) unless the user chose one in Preferences (stored in the window's
settings as ``appearance/theme``).

Fusion draws from the palette alone, so both themes look the same on any desktop. The colours come from
``ui.theme_colors``; after a switch every open conversation view is rendered again in the new colours.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ui.message_view import MessageView
from ui.theme_colors import Scheme, ThemeColors, ThemeMode, current, resolve, set_current

log = logging.getLogger(__name__)

SETTING = "appearance/theme"

MODE_LABELS = {
    ThemeMode.SYSTEM: "Follow the desktop",
    ThemeMode.LIGHT: "Light",
    ThemeMode.DARK: "Dark",
}

_Role = QPalette.ColorRole


def palette(colors: ThemeColors) -> QPalette:
    """The Qt palette of ``colors`` (disabled text dimmed)."""
    p = QPalette()
    roles = {
        _Role.Window: colors.window,
        _Role.WindowText: colors.window_text,
        _Role.Base: colors.base,
        _Role.AlternateBase: colors.alternate_base,
        _Role.Text: colors.text,
        _Role.Button: colors.button,
        _Role.ButtonText: colors.button_text,
        _Role.Highlight: colors.highlight,
        _Role.HighlightedText: colors.highlighted_text,
        _Role.PlaceholderText: colors.placeholder,
        _Role.ToolTipBase: colors.tooltip_base,
        _Role.ToolTipText: colors.tooltip_text,
        _Role.Link: colors.link,
        _Role.LinkVisited: colors.link_visited,
        _Role.BrightText: "#ffffff",
    }
    for role, value in roles.items():
        p.setColor(role, QColor(value))
    disabled = QColor(colors.placeholder)
    for role in (_Role.WindowText, _Role.Text, _Role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def stored_mode(settings: QSettings) -> ThemeMode:
    value = str(settings.value(SETTING, ThemeMode.SYSTEM.value))
    try:
        return ThemeMode(value)
    except ValueError:
        log.warning("Unknown theme %r in the settings; following the desktop", value)
        return ThemeMode.SYSTEM


def _is_dark(scheme: Qt.ColorScheme) -> bool | None:
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return None


class ThemeController(QObject):
    """Applies the chosen theme to the application and follows the desktop while the choice is "system"."""

    changed = Signal(object)  # Scheme

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.mode = stored_mode(settings)
        hints = QGuiApplication.styleHints()
        self._system_dark = _is_dark(hints.colorScheme())
        hints.colorSchemeChanged.connect(self.system_changed)
        self.scheme: Scheme | None = None
        self.apply()

    def set_mode(self, mode: ThemeMode) -> None:
        """The user's choice: stored, and applied at once."""
        self.mode = mode
        self._settings.setValue(SETTING, mode.value)
        self.apply()

    def system_changed(self, scheme: Qt.ColorScheme) -> None:
        self._system_dark = _is_dark(scheme)
        log.info("The desktop's colour scheme is now %s", scheme)
        self.apply()

    def apply(self) -> None:
        scheme = resolve(self.mode, self._system_dark)
        if scheme == self.scheme:
            return
        self.scheme = scheme
        colors = set_current(scheme)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            if app.style().name().lower() != "fusion":
                app.setStyle("Fusion")
            app.setPalette(palette(colors))
            for widget in app.allWidgets():
                if isinstance(widget, MessageView):
                    widget.refresh()  # its rows carry their colours in their HTML
        self.changed.emit(scheme)


def colors() -> ThemeColors:
    return current()
