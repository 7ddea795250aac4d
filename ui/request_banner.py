"""The contact requests and invitations waiting for an answer, at the top of the main window: one row
each ("Bob Builder (bob@example.org) asks to add you as a contact", the account, their note) with
Accept, Decline and Block. Shown at start for the requests that came while the window was closed, and
as each arrives (``arrived`` is emitted then, for the desktop notification); a row goes when the
request is answered, here, from the CLI or by blocking the person. Plain text only: a request's note is
the asker's words.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from aggregator.app.contacts import Answered, PendingRequest
from aggregator.events import ContactRequestClosed, ContactRequestReceived
from ui.context import UiContext
from ui.refusal import show_refusal

log = logging.getLogger(__name__)

_STYLE = (
    "QFrame#contactRequests { background: #e7f1fb; border: 1px solid #5b8fc7; border-radius: 4px; }"
    " QFrame#contactRequests QLabel { color: #10253d; }"
)


def request_text(request: PendingRequest) -> str:
    text = request.sentence()
    if request.account_label:
        text += f" (on {request.account_label})"
    if request.message:
        text += f": “{request.message}”"
    return text


class RequestRow(QWidget):
    def __init__(self, request: PendingRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.label = QLabel(request_text(request))
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.accept = QPushButton("Accept")
        self.decline = QPushButton("Decline")
        self.block = QPushButton("Block")
        who = request.who
        self.accept.setAccessibleName(f"Accept the request of {who}")
        self.decline.setAccessibleName(f"Decline the request of {who}")
        self.block.setAccessibleName(f"Block {who}")
        self.block.setToolTip(f"Decline and block {who}: their messages and requests stop")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        for button in (self.accept, self.decline, self.block):
            layout.addWidget(button)

    def set_busy(self, busy: bool) -> None:
        for button in (self.accept, self.decline, self.block):
            button.setEnabled(not busy)


class RequestBanner(QFrame):
    """Hidden while nothing waits."""

    arrived = Signal(object)  # PendingRequest: a new one (not those loaded at start)
    answered = Signal(object)  # Answered: the user's answer went through (accepted: open the conversation)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setObjectName("contactRequests")
        self.setStyleSheet(_STYLE)
        self.setAccessibleName("Contact requests")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(10, 6, 10, 6)
        self.rows: dict[int, RequestRow] = {}
        self.hide()
        ctx.bridge.contact_request.connect(self._on_request)
        ctx.bridge.contact_request_closed.connect(self._on_closed)
        ctx.bridge.run(ctx.app.contacts.requests, self._loaded)

    def _loaded(self, requests: Sequence[PendingRequest] | None, error: BaseException | None) -> None:
        if error is not None:
            log.error("Could not load the pending contact requests: %r", error)
            return
        for request in requests or ():
            self._add(request)

    def _on_request(self, event: object) -> None:
        if isinstance(event, ContactRequestReceived):
            new = event.request.id not in self.rows
            self._add(event.request)
            if new:
                self.arrived.emit(event.request)

    def _on_closed(self, event: object) -> None:
        if isinstance(event, ContactRequestClosed):
            self._remove(event.request.id)

    def _add(self, request: PendingRequest) -> None:
        old = self.rows.pop(request.id, None)
        if old is not None:
            old.deleteLater()
        row = RequestRow(request, self)
        row.accept.clicked.connect(lambda: self._answer(row, "accept"))
        row.decline.clicked.connect(lambda: self._answer(row, "decline"))
        row.block.clicked.connect(lambda: self._answer(row, "block"))
        self.rows[request.id] = row
        self._layout.addWidget(row)
        self.show()

    def _remove(self, request_id: int) -> None:
        row = self.rows.pop(request_id, None)
        if row is not None:
            self._layout.removeWidget(row)
            row.deleteLater()
        self.setVisible(bool(self.rows))

    def _answer(self, row: RequestRow, how: str) -> None:
        contacts = self._ctx.app.contacts
        request = row.request
        command = {"accept": contacts.accept, "decline": contacts.decline, "block": contacts.block_request}[how]
        row.set_busy(True)
        action = {"accept": "Accepting", "decline": "Declining", "block": "Blocking"}[how] + f" {request.who}"

        def done(result: Answered | None, error: BaseException | None) -> None:
            if error is not None:
                if request.id in self.rows:
                    row.set_busy(False)
                show_refusal(self.window(), action, error)
                return
            self._remove(request.id)
            if result is not None:
                self.answered.emit(result)

        self._ctx.bridge.call(command(request.id), done)
