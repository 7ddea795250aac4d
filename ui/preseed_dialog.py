"""Signing in to the accounts the organisation preseeded: one small dialog per account, asking only for
what is missing (the username where the profile asks for it, and the password)."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import AccountId
from aggregator.app.types import SetupNeed
from ui.context import UiContext

log = logging.getLogger(__name__)


class PreseedDialog(QDialog):
    """Asks for one preseeded account; stays open with the reason when something is wrong."""

    done_with = Signal(object)  # the AccountId that is now set up

    def __init__(self, ctx: UiContext, need: SetupNeed, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.need = need
        self.setWindowTitle(f"Sign in: {need.title}")
        self.setAccessibleName("Sign in to a preseeded account")
        intro = QLabel(
            f"Your organisation set up this {need.protocol} account for you ({need.title}). "
            + ("Enter your username and password. " if need.needs_username else "Enter your password. ")
            + "The password is kept in your desktop's keyring, never in a file."
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.username = QLineEdit()
        self.username.setAccessibleName("Username")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        form = QFormLayout()
        if need.needs_username:
            form.addRow("&Username:", self.username)
        else:
            self.username.hide()
        form.addRow("&Password:", self.password)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c00000")
        self.error.setAccessibleName("Problem")
        self.error.hide()
        self.buttons = QDialogButtonBox()
        self.sign_in = self.buttons.addButton("Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_in.setAccessibleName("Sign in")
        self.sign_in.setDefault(True)
        self.later = self.buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        self.later.setAccessibleName("Later")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(440, self.sizeHint().height())
        (self.username if need.needs_username else self.password).setFocus()

    def submit(self) -> None:
        self.error.hide()
        self.sign_in.setEnabled(False)
        coro = self._ctx.app.complete_setup(self.need, username=self.username.text(), password=self.password.text())
        self._ctx.bridge.call(coro, self._finished)

    def _finished(self, account_id: AccountId | None, error: BaseException | None) -> None:
        self.sign_in.setEnabled(True)
        self.sign_in.setDefault(True)
        if error is not None or account_id is None:
            self.error.setText(f"Not signed in: {error}")
            self.error.show()
            return
        self.password.clear()
        self.done_with.emit(account_id)
        self.accept()
