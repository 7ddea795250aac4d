"""The "Join room" dialog: an account that has group chats, the room's address, an optional nick.

The join runs in the core; the dialog stays open with the reason when it fails (a malformed address,
a room that refuses us) and closes when the room is joined, or remembered for when the account
connects.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from aggregator.app.room_rows import GroupChatAccount, RoomRow
from ui.context import UiContext

log = logging.getLogger(__name__)


class JoinRoomDialog(QDialog):
    joined = Signal(object)  # RoomRow

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setWindowTitle("Join room")
        self.setAccessibleName("Join room")
        self.setMinimumWidth(480)
        self.account = QComboBox()
        self.account.setAccessibleName("Account")
        self.address = QLineEdit()
        self.address.setAccessibleName("Room address")
        self.address.setPlaceholderText("e.g. team@conference.example.org, #team or #team:example.org")
        self.nick = QLineEdit()
        self.nick.setAccessibleName("Nick")
        self.nick.setPlaceholderText("optional; default: your user name")
        form = QFormLayout()
        form.addRow("&Account:", self.account)
        form.addRow("&Room:", self.address)
        form.addRow("&Nick:", self.nick)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c00000")
        self.error.setAccessibleName("Error")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.join_button = self.buttons.addButton("&Join", QDialogButtonBox.ButtonRole.AcceptRole)
        self.join_button.setAccessibleName("Join")
        self.join_button.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)  # Return always means Join, never Cancel
        cancel.setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.join)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.address.setFocus()
        ctx.bridge.run(ctx.app.group_chat_accounts, self._accounts_loaded)

    def _accounts_loaded(self, accounts: list[GroupChatAccount] | None, error: BaseException | None) -> None:
        self.account.clear()
        for account in accounts or []:
            self.account.addItem(f"{account.name} ({account.protocol})", account.id)
        if error is not None or not accounts:
            self._show_error("No account can join rooms. Add an XMPP, Matrix or IRC account first.")
            self.join_button.setEnabled(False)

    def join(self) -> None:
        account_id = self.account.currentData()
        address = self.address.text().strip()
        if not isinstance(account_id, str):
            self._show_error("Choose an account.")
            return
        if not address:
            self._show_error("Enter the room's address.")
            self.address.setFocus()
            return
        self.error.hide()
        self.join_button.setEnabled(False)
        self.join_button.setText("Joining…")
        nick = self.nick.text().strip() or None
        self._ctx.bridge.call(self._ctx.app.join_room_row(account_id, address, nick), self._done)

    def _done(self, row: RoomRow | None, error: BaseException | None) -> None:
        self.join_button.setEnabled(True)
        self.join_button.setText("&Join")
        self.join_button.setDefault(True)  # disabling it took that away
        if error is not None or row is None:
            reason = str(error) or type(error).__name__
            # Adapters often say "cannot join ROOM: why" already: do not say it twice.
            self._show_error(
                reason[0].upper() + reason[1:] if reason.startswith("cannot join") else f"Could not join: {reason}"
            )
            self.address.setFocus()
            self.address.selectAll()
            return
        self.joined.emit(row)
        self.accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
