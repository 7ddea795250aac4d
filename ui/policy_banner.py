"""The policy notices at the top of the main window: warnings (an unusable policy file, a skipped key)
stand out; notes (a setting reverted, an account created) are quieter. Plain text; each dismissable."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from aggregator.policy.events import PolicyNotice
from ui.context import UiContext

log = logging.getLogger(__name__)

_WARNING_STYLE = (
    "QFrame#policyWarning { background: #fff3cd; border: 1px solid #d39e00; border-radius: 4px; }"
    " QFrame#policyWarning QLabel { color: #4d3800; }"
)
_NOTE_STYLE = (
    "QFrame#policyNote { background: #e8f0fb; border: 1px solid #9db7dd; border-radius: 4px; }"
    " QFrame#policyNote QLabel { color: #1d3557; }"
)


class NoticeRow(QFrame):
    """One notice: a heading, the message as plain text, and a Dismiss button."""

    def __init__(self, notice: PolicyNotice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notice = notice
        self.setObjectName("policyWarning" if notice.warning else "policyNote")
        self.setStyleSheet(_WARNING_STYLE if notice.warning else _NOTE_STYLE)
        heading = "Organisation policy problem:" if notice.warning else "Organisation policy:"
        self.label = QLabel(f"{heading} {notice.message}")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Policy warning" if notice.warning else "Policy note")
        if notice.warning:
            font = self.label.font()
            font.setBold(True)
            self.label.setFont(font)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.setAccessibleName("Dismiss policy notice")
        self.dismiss.clicked.connect(self.close_notice)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss, 0, Qt.AlignmentFlag.AlignTop)

    def close_notice(self) -> None:
        self.hide()
        self.deleteLater()
        parent = self.parentWidget()
        if isinstance(parent, PolicyBanner):
            parent.forget(self)


class PolicyBanner(QWidget):
    """Hidden until a ``PolicyNotice`` arrives (the bridge's ``policy_notice``); warnings come first."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Policy notices")
        self.rows: list[NoticeRow] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 6, 6, 0)
        self._layout.setSpacing(4)
        self.hide()
        ctx.bridge.policy_notice.connect(self.add)

    def add(self, notice: object) -> None:
        if not isinstance(notice, PolicyNotice):
            return
        if any(r.notice == notice for r in self.rows):
            return
        row = NoticeRow(notice, self)
        # Warnings above notes.
        position = sum(1 for r in self.rows if r.notice.warning) if notice.warning else len(self.rows)
        self.rows.insert(position, row)
        self._layout.insertWidget(position, row)
        self.show()

    def forget(self, row: NoticeRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
        self.setVisible(bool(self.rows))

    def texts(self) -> list[str]:
        return [r.label.text() for r in self.rows]
