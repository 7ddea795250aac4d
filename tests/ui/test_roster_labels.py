"""The buddy list's protocol labels are whole when there is room for them (they were always clipped)."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetrics
from pytestqt.qtbot import QtBot

from ui.roster_delegate import fitted


def test_a_protocol_label_that_fits_is_not_elided(qtbot: QtBot) -> None:
    del qtbot  # a QApplication for the fonts
    for size in (7.0, 8.5, 9.35, 11.0):
        font = QFont()
        font.setPointSizeF(size)
        metrics = QFontMetrics(font)
        for label in ("Fake (testing)", "XMPP (Jabber)", "Matrix", "IRC, Matrix, XMPP (Jabber)"):
            assert fitted(metrics, label, metrics.horizontalAdvance(label)) == label
            assert fitted(metrics, label, metrics.horizontalAdvance(label) // 2).endswith("…")
