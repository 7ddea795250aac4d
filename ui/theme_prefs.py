"""Preferences → Appearance: follow the desktop's light or dark scheme, or always light, or always dark.
The choice applies at once and is kept in the window's settings."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from ui.theme import MODE_LABELS, ThemeController
from ui.theme_colors import ThemeMode


class AppearancePage(QWidget):
    def __init__(self, theme: ThemeController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.mode = QComboBox()
        self.mode.setAccessibleName("Theme")
        for mode, label in MODE_LABELS.items():
            self.mode.addItem(label, mode.value)
        self.reload()
        self.mode.currentIndexChanged.connect(self._chosen)
        note = QLabel(
            "“Follow the desktop” switches between light and dark when your desktop does. The change applies at once."
        )
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("&Theme:", self.mode)
        form.addRow(note)

    def reload(self) -> None:
        self.mode.setCurrentIndex(max(0, self.mode.findData(self._theme.mode.value)))

    def _chosen(self, _index: int) -> None:
        self._theme.set_mode(ThemeMode(str(self.mode.currentData())))
