"""Asking the user about a message the organisation's policy warns about (``ConfirmationRequiredError``)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from aggregator.api import PolicyError


def refusal_text(error: PolicyError) -> str:
    """A policy refusal inline: the reason and the rule."""
    rule = f" [rule {error.rule}]" if error.rule else ""
    return f"Not sent: refused by the organisation's policy: {error}{rule}"


def ask_to_send(parent: QWidget, error: PolicyError, answer: Callable[[bool], None]) -> QMessageBox:
    """A window-modal question naming the rule and the reason; ``answer(True)`` only on "Send anyway"."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Send this message?")
    box.setText("The organisation's policy warns about this message.")
    box.setInformativeText(f"{error}\n\nRule: {error.rule or 'unnamed'}")
    box.setAccessibleName("Policy warning")
    send = box.addButton("Send anyway", QMessageBox.ButtonRole.AcceptRole)
    dont = box.addButton("Don't send", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(dont)
    box.setEscapeButton(dont)
    box.finished.connect(lambda _r: answer(box.clickedButton() is send))
    box.open()
    return box
