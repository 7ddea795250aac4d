"""Telling the user why the core refused something: the reason, and the policy rule when there is one."""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from aggregator.api import AggregatorError, PolicyError

log = logging.getLogger(__name__)


def refusal_text(error: BaseException) -> tuple[str, str]:
    """(the reason, a detail line) for an error from a core command."""
    if isinstance(error, PolicyError):
        rule = f" (rule: {error.rule})" if error.rule else ""
        return str(error), f"Set by your organisation's policy{rule}."
    if isinstance(error, AggregatorError | ValueError):
        return str(error), ""
    log.error("A person command failed unexpectedly: %r", error)
    return f"It failed unexpectedly: {error}", "The details are in the log."


def show_refusal(parent: QWidget | None, action: str, error: BaseException) -> QMessageBox:
    """A window-modal message box (opened, not run: nothing blocks) saying why ``action`` did not happen."""
    reason, detail = refusal_text(error)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(f"{action}: not done")
    box.setTextFormat(Qt.TextFormat.RichText)  # escaped: a reason may quote a contact's name
    box.setText(f"<p>{html.escape(action)} was refused: {html.escape(reason)}</p>")
    if detail:
        box.setInformativeText(f"<p>{html.escape(detail)}</p>")
    box.setAccessibleName(f"{action} refused")
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.finished.connect(box.deleteLater)
    box.open()
    return box
