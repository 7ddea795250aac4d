"""Accounts: a list (add, edit, remove, enable) and an editor generated from ``ProtocolInfo.fields``.

Secret fields go to the OS keyring, never to a file. Every change is an application-layer command
(``aggregator.app.accounts``, the same the CLI runs) on the engine thread; the dialog only shows the outcome.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
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
from aggregator.app.rows import AccountRow
from aggregator.app.types import AccountConfig, make_account_id
from ui.certificate_dialog import review_certificate
from ui.context import UiContext

#: Fields that are AccountConfig attributes; the rest are protocol options.
_CONFIG_FIELDS = ("address", "server", "ca_file", "allow_plaintext")

CERTIFICATE_PROBLEM = "Certificate problem — review…"

_FIXED_ROWS = 3  # protocol, sphere, label; the protocol's own fields follow

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
            widget.setAccessibleName(field.label)
            if field.help:
                widget.setToolTip(field.help)
            self._widgets[field.name] = widget
            self.form.addRow(f"{field.label}{' *' if field.required else ''}:", widget)

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

    def protocols(self) -> list[ProtocolInfo]:
        return self._ctx.registry.all(include_testing=True)

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
        return AccountEditor(self.protocols(), existing, self)

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
        account_id = self.selected()
        if account_id is None:
            return
        answer = QMessageBox.question(
            self, "Remove account", f"Remove {account_id}? Its history stays in the archive; its password is deleted."
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._ctx.bridge.call(self._ctx.app.accounts.remove(account_id), self._done)

    def toggle_enabled(self) -> None:
        account = self._configs.get(self.selected() or "")
        if account is not None:
            self._ctx.bridge.call(self._ctx.app.accounts.set_enabled(account.id, not account.enabled), self._done)
