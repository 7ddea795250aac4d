"""An untrusted server certificate: its details in plain text and the user's choice.

"Trust this certificate for this account" pins exactly the certificate shown (its fingerprint goes
with the request, so a certificate that changed meanwhile is refused) and reconnects the account;
"Cancel" is the default and leaves the account failed. Nothing is ever trusted silently.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import CERTIFICATE_CHANGED, AccountId, CertificateDetails
from aggregator.app.types import certificate_lines
from ui.context import UiContext

log = logging.getLogger(__name__)

TRUST_TEXT = "Trust this certificate for this account"


def _plain_label(text: str, name: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # the server chose these names: never markup
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(name)
    return label


def _two_lines(fingerprint: str) -> str:
    """A SHA-256 fingerprint (32 pairs) is too wide for one line: 16 pairs on each."""
    pairs = fingerprint.split(":")
    return ":".join(pairs[:16]) + "\n" + ":".join(pairs[16:])


class CertificateDialog(QDialog):
    """Shows one account's presented certificate; ``trusted`` is set once the core has pinned it."""

    def __init__(
        self,
        ctx: UiContext,
        account_id: AccountId,
        account_name: str,
        certificate: CertificateDetails,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.account_id = account_id
        self.certificate = certificate
        self.trusted = False
        self.changed = certificate.problem.startswith(CERTIFICATE_CHANGED)
        if self.changed:
            self.setWindowTitle(f"The certificate changed — {account_name}")
            self.setAccessibleName("The certificate changed")
            text = (
                f"The server of {account_name} presented another certificate than the one you trusted for "
                "this account, so the account did not sign in and sent nothing. A server that renewed its "
                "certificate does this, and so does someone who intercepts the connection: trust the new "
                "one only if you expected the change and its fingerprint is the one your administrator gave you."
            )
        else:
            self.setWindowTitle(f"Untrusted certificate — {account_name}")
            self.setAccessibleName("Untrusted certificate")
            text = (
                f"The server of {account_name} presented a certificate that is not trusted, so the account did "
                "not sign in. Trust it only if you expected this certificate, e.g. your organisation's own "
                "server: compare the fingerprint with the one your administrator gave you. The account will "
                "then accept exactly this certificate, even self-signed, for another name or expired, and "
                "refuse any other."
            )
        intro = _plain_label(text, "Explanation")
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.values: dict[str, QLabel] = {}
        for label, value in certificate_lines(certificate):
            field = _plain_label(_two_lines(value) if label == "SHA-256" else value, label)
            if label == "SHA-256":
                field.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            elif label == "Problem":
                bold = QFont(field.font())
                bold.setBold(True)
                field.setFont(bold)
            self.values[label] = field
            form.addRow(f"{label}:", field)
        self.error = _plain_label("", "Error")
        self.error.setStyleSheet("color: #c00000")
        self.error.hide()
        self.buttons = QDialogButtonBox()
        self.trust_button = QPushButton(TRUST_TEXT)
        self.trust_button.setAccessibleName(TRUST_TEXT)
        self.trust_button.setAutoDefault(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel")
        self.buttons.addButton(self.trust_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.setDefault(True)
        self.trust_button.clicked.connect(self.trust)
        self.cancel_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)
        self.cancel_button.setFocus()
        app = ctx.app
        ctx.bridge.run(lambda: app.ca_file_lock(account_id), self._lock_checked)

    def _lock_checked(self, refused: str | None, error: BaseException | None) -> None:
        if error is not None:
            log.warning("Could not check the policy for %s: %s", self.account_id, error)
        elif refused is not None:
            self.trust_button.setEnabled(False)
            self._show_error(f"This certificate cannot be trusted here: {refused}.")

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def trust(self) -> None:
        self.trust_button.setEnabled(False)
        fingerprint = self.certificate.fingerprint_sha256
        self._ctx.bridge.call(self._ctx.app.trust_presented_certificate(self.account_id, fingerprint), self._trusted)

    def _trusted(self, _result: object, error: BaseException | None) -> None:
        if error is not None:
            self._show_error(f"Nothing was trusted: {error}")
            return
        self.trusted = True
        self.accept()


#: The dialog open for each account (GUI thread only), so one account never gets two at once.
_open: dict[AccountId, CertificateDialog] = {}


def open_dialog(account_id: AccountId) -> CertificateDialog | None:
    return _open.get(account_id)


def review_certificate(
    ctx: UiContext, account_id: AccountId, account_name: str, certificate: CertificateDetails, parent: QWidget | None
) -> CertificateDialog:
    """Show the certificate dialog for an account (non-blocking); an open one for that account comes to
    the front instead, unless it shows another certificate (then it is replaced)."""
    existing = _open.get(account_id)
    if existing is not None:
        if existing.certificate == certificate:
            existing.raise_()
            existing.activateWindow()
            return existing
        existing.reject()
    dialog = CertificateDialog(ctx, account_id, account_name, certificate, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    _open[account_id] = dialog

    def closed(_result: int) -> None:
        if _open.get(account_id) is dialog:
            del _open[account_id]

    dialog.finished.connect(closed)
    dialog.show()
    return dialog
