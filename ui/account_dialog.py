"""Accounts: a list (add, edit, remove, enable) and an editor generated from ``ProtocolInfo.fields``.

Secret fields go to the OS keyring, never to a file. Every change is an application-layer command
(``aggregator.app.accounts``, the same the CLI runs) on the engine thread; the dialog only shows the outcome.
"""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import AccountField, AccountId, FieldKind, ProtocolInfo, Sphere
from aggregator.app.failures import explain, state_phrase
from aggregator.app.rows import AccountRow
from aggregator.app.types import AccountConfig, make_account_id
from ui.certificate_dialog import review_certificate
from ui.context import UiContext

#: Fields that are AccountConfig attributes; the rest are protocol options.
_CONFIG_FIELDS = ("address", "server", "ca_file", "allow_plaintext")

CERTIFICATE_PROBLEM = "Certificate problem — review…"

_FIXED_ROWS = 3  # protocol, sphere, label; the protocol's own fields follow

#: Set (to anything but "" or "0") to offer the development protocols (the fake one) in the dialog.
DEV_ENV = "AGGREGATOR_DEV"

#: What the Server field looks like for each protocol, shown while it is empty.
SERVER_EXAMPLES = {
    "xmpp": "optional, e.g. xmpp.example.org:5222",
    "matrix": "optional, e.g. https://matrix.example.org",
    "irc": "e.g. irc.libera.chat:6697",
    "fake": "HOST:PORT of the fake server",
}


def development_mode() -> bool:
    return os.environ.get(DEV_ENV, "") not in ("", "0")


FieldWidget = QLineEdit | QCheckBox | QSpinBox


class AccountEditor(QDialog):
    """One account's settings, built from its protocol's declared fields."""

    def __init__(
        self, protocols: list[ProtocolInfo], existing: AccountConfig | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit account" if existing else "Add account")
        self._protocols = {p.id: p for p in protocols}
        self._existing = existing
        self._widgets: dict[str, FieldWidget] = {}
        self.protocol = QComboBox()
        self.protocol.setAccessibleName("Protocol")
        for p in protocols:
            self.protocol.addItem(p.name, p.id)
        if existing is not None:
            self.protocol.setCurrentIndex(max(0, self.protocol.findData(existing.protocol)))
            self.protocol.setEnabled(False)
        self.sphere = QComboBox()
        self.sphere.setAccessibleName("Sphere")
        self.sphere.addItem("Work", Sphere.WORK.value)
        self.sphere.addItem("Personal", Sphere.PERSONAL.value)
        self.sphere.setCurrentIndex(self.sphere.findData((existing.sphere if existing else Sphere.PERSONAL).value))
        self.label = QLineEdit(existing.label if existing else "")
        self.label.setAccessibleName("Label")
        self.label.setPlaceholderText("optional: a name for this account")
        self.form = QFormLayout()
        self.error = QLabel()
        self.error.setStyleSheet("color: #c00000")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.form.addRow("Protocol:", self.protocol)
        self.form.addRow("Sphere:", self.sphere)
        self.form.addRow("Label:", self.label)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.protocol.currentIndexChanged.connect(self._build_fields)
        self._build_fields()
        self.config: AccountConfig | None = None
        self.secret: str | None = None

    def info(self) -> ProtocolInfo:
        return self._protocols[str(self.protocol.currentData())]

    def _value_of(self, field: AccountField) -> str:
        e = self._existing
        if e is None:
            return field.default
        if field.name in ("address", "server", "ca_file"):
            return str(getattr(e, field.name) or "")
        if field.name == "allow_plaintext":
            return "true" if e.allow_plaintext else "false"
        return e.options.get(field.name, field.default)

    def _build_fields(self) -> None:
        while self.form.rowCount() > _FIXED_ROWS:
            self.form.removeRow(_FIXED_ROWS)
        self._widgets.clear()
        self.browse_buttons: dict[str, QPushButton] = {}
        for field in self.info().fields:
            widget: FieldWidget
            value = self._value_of(field)
            if field.kind is FieldKind.BOOL:
                widget = QCheckBox()
                widget.setChecked(value.lower() in ("1", "true", "yes", "on"))
            elif field.kind is FieldKind.INT:
                widget = QSpinBox()
                widget.setRange(0, 1_000_000)
                widget.setValue(int(value) if value.isdigit() else 0)
            else:
                widget = QLineEdit(value if not field.secret else "")
                if field.kind is FieldKind.PASSWORD or field.secret:
                    widget.setEchoMode(QLineEdit.EchoMode.Password)
                    if self._existing is not None:
                        widget.setPlaceholderText("unchanged (kept in the keyring)")
                elif field.name == "address":
                    widget.setPlaceholderText(self.info().address_example)
                    widget.setReadOnly(self._existing is not None)
                elif field.name == "server":
                    widget.setPlaceholderText(SERVER_EXAMPLES.get(self.info().id, ""))
            widget.setAccessibleName(field.label)
            if field.help:
                widget.setToolTip(field.help)
            self._widgets[field.name] = widget
            label = f"{field.label}{' *' if field.required else ''}:"
            if (field.kind is FieldKind.FILE or field.name == "ca_file") and isinstance(widget, QLineEdit):
                self.form.addRow(label, self._with_browse(field.name, widget, field.label))
            else:
                self.form.addRow(label, widget)

    def _with_browse(self, name: str, line: QLineEdit, label: str) -> QWidget:
        """A file path field with a Browse… button next to it (``browse_buttons[name]``)."""
        row = QWidget()
        row.setAccessibleName(label)  # the form's row is this widget (what hides or shows the field)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(line, 1)
        button = QPushButton("Browse…")
        button.setAccessibleName(f"Choose the {label.lower()} file")
        button.clicked.connect(lambda: self._browse(line, label))
        layout.addWidget(button)
        self.browse_buttons[name] = button
        return row

    def _browse(self, line: QLineEdit, label: str) -> None:
        start = os.path.dirname(line.text()) if line.text() else os.path.expanduser("~")
        chosen, _filter = QFileDialog.getOpenFileName(
            self, label, start, "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if chosen:
            line.setText(chosen)

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, w in self._widgets.items():
            if isinstance(w, QCheckBox):
                out[name] = "true" if w.isChecked() else "false"
            elif isinstance(w, QSpinBox):
                out[name] = str(w.value())
            else:
                out[name] = w.text().strip() if w.echoMode() != QLineEdit.EchoMode.Password else w.text()
        return out

    def _accept(self) -> None:
        info = self.info()
        values = self.values()
        for field in info.fields:
            empty = not values.get(field.name)
            keeps_secret = field.secret and self._existing is not None
            if field.required and empty and not keeps_secret and field.kind is not FieldKind.BOOL:
                self.error.setText(f"{field.label} is required.")
                return
        try:
            address = info.normalize_address(values.get("address", ""))
        except Exception as exc:  # ConfigurationError from the protocol
            self.error.setText(str(exc))
            return
        secret_fields = [f for f in info.fields if f.secret]
        self.secret = next((values[f.name] for f in secret_fields if values.get(f.name)), None)
        options = {
            f.name: values[f.name]
            for f in info.fields
            if not f.secret and f.name not in _CONFIG_FIELDS and values[f.name]
        }
        sphere = Sphere(str(self.sphere.currentData()))
        base = self._existing or AccountConfig(id=make_account_id(info.id, address), protocol=info.id, address=address)
        self.config = replace(
            base,
            sphere=sphere,
            label=self.label.text().strip(),
            server=values.get("server") or None,
            ca_file=values.get("ca_file") or None,
            allow_plaintext=values.get("allow_plaintext") == "true",
            options=options,
        )
        self.accept()


class AccountsDialog(QDialog):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setWindowTitle("Accounts")
        self._configs: dict[AccountId, AccountConfig] = {}
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Accounts")
        #: Why the selected account is down, in full: a sentence, then what the server said.
        self.reason = QLabel()
        self.reason.setAccessibleName("Why the selected account is not connected")
        self.reason.setTextFormat(Qt.TextFormat.PlainText)  # the server's words
        self.reason.setWordWrap(True)
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason.setStyleSheet("color: #a00000")
        self.reason_details = QLabel()
        self.reason_details.setAccessibleName("What the server said")
        self.reason_details.setTextFormat(Qt.TextFormat.PlainText)
        self.reason_details.setWordWrap(True)
        self.reason_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason_details.setStyleSheet("color: palette(placeholder-text)")
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton("Edit…")
        self.remove_button = QPushButton("Remove")
        self.enable_button = QPushButton("Disable")
        self.certificate_button = QPushButton(CERTIFICATE_PROBLEM)
        self.certificate_button.setAccessibleName("Review the certificate of the selected account")
        self._rows: dict[AccountId, AccountRow] = {}
        buttons = QHBoxLayout()
        for b in (self.add_button, self.edit_button, self.remove_button, self.enable_button, self.certificate_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.reason)
        layout.addWidget(self.reason_details)
        layout.addLayout(buttons)
        layout.addWidget(close)
        self.add_button.clicked.connect(self.add_account)
        self.edit_button.clicked.connect(self.edit_account)
        self.remove_button.clicked.connect(self.remove_account)
        self.enable_button.clicked.connect(self.toggle_enabled)
        self.certificate_button.clicked.connect(self.review_certificate)
        self.list.currentRowChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(self._activated)
        ctx.bridge.account_state.connect(lambda _e: self.reload())
        self.resize(560, 360)
        self.reload()

    def protocols(self, existing: AccountConfig | None = None) -> list[ProtocolInfo]:
        """The protocols a user can choose: the development ones only with ``AGGREGATOR_DEV`` set
        (or when editing an account of one)."""
        dev = development_mode()
        return [
            p
            for p in self._ctx.registry.all(include_testing=True)
            if dev or not p.testing or (existing is not None and existing.protocol == p.id)
        ]

    def reload(self) -> None:
        self._ctx.bridge.run(self._ctx.app.accounts_view, self._loaded)

    def _loaded(self, result: tuple[list[AccountConfig], list[AccountRow]] | None, _e: BaseException | None) -> None:
        if result is None:
            return
        configs, rows = result
        current = self.selected()
        self._configs = {c.id: c for c in configs}
        self._rows = {r.id: r for r in rows}
        self.list.clear()
        for row in rows:
            state = row.state.value if row.enabled else "disabled"
            problem = f"  —  {CERTIFICATE_PROBLEM}" if row.certificate is not None else ""
            item = QListWidgetItem(f"{row.name}  —  {row.protocol}, {row.sphere.value}: {state}{problem}")
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            self.list.addItem(item)
            if row.id == current:
                self.list.setCurrentItem(item)
        if not rows:
            self.intro.setText(
                "<b>Welcome!</b> You have no account yet. Add your XMPP, Matrix or IRC account: "
                "the password is kept in your system's keyring, never in a file."
            )
        else:
            self.intro.setText(
                "Your accounts. Double-click one to edit it (or, with a certificate problem, to review it)."
            )
        self._selection_changed()

    def selected(self) -> AccountId | None:
        row = self.list.currentRow()
        return None if row < 0 else str(self.list.item(row).data(Qt.ItemDataRole.UserRole))

    def _selection_changed(self, *_args: object) -> None:
        account = self._configs.get(self.selected() or "")
        for b in (self.edit_button, self.remove_button, self.enable_button):
            b.setEnabled(account is not None)
        self.enable_button.setText("Enable" if account is not None and not account.enabled else "Disable")
        row = self._rows.get(self.selected() or "")
        self.certificate_button.setVisible(row is not None and row.certificate is not None)
        explained = explain(row.reason) if row is not None and row.reason else None
        self.reason.setText(
            f"{row.name} {state_phrase(row.state.value)}. {explained.sentence}" if row and explained else ""
        )
        self.reason.setVisible(explained is not None)
        self.reason_details.setText(f"Details: {explained.details}" if explained and explained.details else "")
        self.reason_details.setVisible(explained is not None and bool(explained.details))

    def _activated(self, _item: QListWidgetItem) -> None:
        if not self.review_certificate():
            self.edit_account()

    def review_certificate(self) -> bool:
        """Open the certificate dialog of the selected account; False when it has no certificate problem."""
        row = self._rows.get(self.selected() or "")
        if row is None or row.certificate is None:
            return False
        review_certificate(self._ctx, row.id, row.name, row.certificate, self)
        return True

    def _done(self, _result: object, error: BaseException | None) -> None:
        if error is not None:
            QMessageBox.warning(self, "Accounts", str(error))
        self.reload()

    def editor(self, existing: AccountConfig | None = None) -> AccountEditor:
        return AccountEditor(self.protocols(existing), existing, self)

    def add_account(self) -> None:
        dialog = self.editor()
        if dialog.exec() and dialog.config is not None:
            self._ctx.bridge.call(self._ctx.app.accounts.add(dialog.config, dialog.secret), self._done)

    def edit_account(self) -> None:
        account = self._configs.get(self.selected() or "")
        if account is None:
            return
        dialog = self.editor(account)
        if dialog.exec() and dialog.config is not None:
            self._ctx.bridge.call(self._ctx.app.accounts.edit(dialog.config, dialog.secret), self._done)

    def remove_account(self) -> None:
        account = self._configs.get(self.selected() or "")
        if account is None:
            return
        row = self._rows.get(account.id)
        protocol = row.protocol if row is not None else account.protocol
        answer = QMessageBox.question(
            self,
            "Remove account",
            f"Remove the account {account.display_name}?\n{protocol} account {account.address}\n\n"
            "Its history stays in the archive; its password is deleted.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._ctx.bridge.call(self._ctx.app.accounts.remove(account.id), self._done)

    def toggle_enabled(self) -> None:
        account = self._configs.get(self.selected() or "")
        if account is not None:
            self._ctx.bridge.call(self._ctx.app.accounts.set_enabled(account.id, not account.enabled), self._done)
