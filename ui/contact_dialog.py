"""Adding contacts and writing to new addresses: the "Add contact…" dialog (account, address, name,
group), the same dialog as "Message alice@example.org…" for an address the filter or the quick switcher
matches nobody with, and the contact's own actions in the buddy list's context menu (rename, remove,
block, unblock; removing and blocking ask first, naming the person).

``ContactActions`` puts all of it into the main window: the menu entry, the request banner
(``ui.request_banner``) and the context-menu entries. Every command runs on the engine thread through
the bridge; a refusal (an offline account, a protocol that cannot do it) is shown with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import ContactRef, ConversationKey
from aggregator.app.contacts import AccountChoice, Answered
from aggregator.app.rows import ContactRow, PersonRow
from aggregator.events import ContactBlockChanged
from ui.addresses import looks_like_address
from ui.context import UiContext
from ui.models.roster_filter import RosterFilter
from ui.models.roster_model import RosterModel
from ui.person_actions import PersonActions
from ui.refusal import show_refusal
from ui.request_banner import RequestBanner

log = logging.getLogger(__name__)


def _column(widget: QWidget | None) -> QVBoxLayout | None:
    layout = widget.layout() if widget is not None else None
    return layout if isinstance(layout, QVBoxLayout) else None


def _choice_text(choice: AccountChoice) -> str:
    text = f"{choice.name} — {choice.protocol}"
    return text if choice.connected else f"{text} (not connected)"


class AddContactDialog(QDialog):
    """Add a contact, or (``message=True``) write to an address, optionally adding it too.

    ``person_ready`` carries the person to open once a conversation can start (message mode, or an
    added contact); ``added`` the contact that was added."""

    added = Signal(object)  # ContactRef
    person_ready = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None, *, address: str = "", message: bool = False):
        super().__init__(parent)
        self._ctx = ctx
        self._message = message
        title = f"Message {address.strip()}" if message else "Add contact"
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(460)
        self.account = QComboBox()
        self.account.setAccessibleName("Account")
        self.address = QLineEdit(address.strip())
        self.address.setAccessibleName("Address")
        self.name = QLineEdit()
        self.name.setAccessibleName("Name")
        self.name.setPlaceholderText("Your name for them (optional)")
        self.group = QLineEdit()
        self.group.setAccessibleName("Group")
        self.group.setPlaceholderText("Optional")
        self.add_too = QCheckBox("Also add to my contacts (they are asked to accept)")
        self.add_too.setVisible(message)
        self.problem = QLabel()
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #a12622;")
        self.problem.setAccessibleName("Problem")
        self.problem.hide()
        form = QFormLayout()
        form.addRow("&Account:", self.account)
        form.addRow("A&ddress:", self.address)
        form.addRow("&Name:", self.name)
        form.addRow("&Group:", self.group)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = QPushButton("Message" if message else "Add")
        self.ok.setDefault(True)
        self.buttons.addButton(self.ok, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.add_too)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._choices: list[AccountChoice] = []
        self.account.currentIndexChanged.connect(self._account_changed)
        self.address.textChanged.connect(lambda _t: self.problem.hide())
        self.ok.setEnabled(False)
        wanted = address.strip() or None if message else None
        ctx.bridge.run(lambda: ctx.app.contacts.account_choices(wanted), self._choices_loaded)

    def _choices_loaded(self, choices: Sequence[AccountChoice] | None, error: BaseException | None) -> None:
        self._choices = list(choices or ())
        self.account.clear()
        for choice in self._choices:
            self.account.addItem(_choice_text(choice), choice.id)
        connected = next((i for i, c in enumerate(self._choices) if c.connected), 0)
        if self._choices:
            self.account.setCurrentIndex(connected)
        elif error is None:
            self._show_problem("No account can write to this address." if self._message else "There is no account.")
        self.ok.setEnabled(bool(self._choices))

    def _account_changed(self, index: int) -> None:
        if 0 <= index < len(self._choices):
            self.address.setPlaceholderText(f"e.g. {self._choices[index].address_example}")

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def submit(self) -> None:
        index = self.account.currentIndex()
        address = self.address.text().strip()
        if not (0 <= index < len(self._choices)):
            return
        if not address:
            self._show_problem("Type the address of the person.")
            return
        account_id = self._choices[index].id
        contacts = self._ctx.app.contacts
        name, group = self.name.text().strip() or None, self.group.text().strip() or None
        self.ok.setEnabled(False)
        if self._message and not self.add_too.isChecked():
            self._ctx.bridge.run(lambda: contacts.start_conversation(account_id, address), self._started)
            return

        def added(ref: ContactRef | None, error: BaseException | None) -> None:
            if error is not None or ref is None:
                self.ok.setEnabled(True)
                self._show_problem(f"Not added: {error}")
                return
            self.added.emit(ref)
            self._ctx.bridge.run(lambda: contacts.start_conversation(ref.account_id, ref.handle), self._started)

        self._ctx.bridge.call(contacts.add(account_id, address, name, group), added)

    def _started(self, person_id: int | None, error: BaseException | None) -> None:
        if error is not None or person_id is None:
            self.ok.setEnabled(True)
            self._show_problem(f"Cannot write to this address: {error}")
            return
        self.person_ready.emit(person_id)
        self.accept()


class ContactActions(QObject):
    """The window's contact features (see the module's docstring)."""

    def __init__(
        self,
        ctx: UiContext,
        window: QMainWindow,
        *,
        filter_edit: QLineEdit,
        filter_timer: QTimer,
        proxy: RosterFilter,
        model: RosterModel,
        person_actions: PersonActions,
        menu_before: QAction,
        open_person: Callable[[int], object | None],
        open_room: Callable[[ConversationKey], object],
    ) -> None:
        super().__init__(window)
        self._ctx = ctx
        self._window = window
        self._filter = filter_edit
        self._proxy = proxy
        self._model = model
        self._open_person = open_person
        self._open_room = open_room
        self.dialog: QWidget | None = None  # the dialog or confirmation opened last (tests, focus)
        self.blocked: set[ContactRef] = set()

        self.add_action = QAction("Add &contact…", window)
        self.add_action.setShortcut(QKeySequence("Ctrl+Shift+N"))
        self.add_action.triggered.connect(lambda: self.add_contact())
        menu = window.menuBar().actions()[0].menu()
        if isinstance(menu, QMenu):
            menu.insertAction(menu_before, self.add_action)

        self.banner = RequestBanner(ctx, window)
        self.banner.answered.connect(self._answered)
        central = _column(window.centralWidget())
        if central is not None:
            central.insertWidget(min(2, central.count()), self.banner)  # under the policy and storage banners

        self.message_button = QPushButton()
        self.message_button.setFlat(True)
        self.message_button.setStyleSheet("text-align: left;")
        self.message_button.hide()
        self.message_button.clicked.connect(lambda: self.message_address(filter_edit.text()))
        left = _column(filter_edit.parentWidget())
        if left is not None:
            left.insertWidget(1, self.message_button)  # right under the filter
        filter_timer.timeout.connect(self._filter_applied)
        filter_edit.textChanged.connect(lambda _t: self.message_button.hide())
        filter_edit.returnPressed.connect(self._filter_entered)

        person_actions.extend_menu = self.extend_menu
        ctx.bridge.contact_blocked.connect(self._on_blocked)
        ctx.bridge.run(ctx.app.contacts.blocked, self._blocked_loaded)

    # -- adding and writing ---------------------------------------------------------------------

    def add_contact(self, address: str = "") -> AddContactDialog:
        dialog = AddContactDialog(self._ctx, self._window, address=address)
        dialog.person_ready.connect(self.open_person)
        return self._open(dialog)

    def message_address(self, address: str) -> AddContactDialog:
        """ "Message alice@example.org…": choose the account (and whether to add them), then write."""
        dialog = AddContactDialog(self._ctx, self._window, address=address, message=True)
        dialog.person_ready.connect(self.open_person)
        return self._open(dialog)

    def _open(self, dialog: AddContactDialog) -> AddContactDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()
        return dialog

    def open_person(self, person_id: int) -> None:
        """Open the person's conversation; a person just made appears in the buddy list a moment later."""
        if self._open_person(person_id) is not None:
            return
        model = self._model

        def appeared(*_args: object) -> None:
            if model.person(person_id) is not None:
                model.rowsInserted.disconnect(appeared)
                self._open_person(person_id)

        model.rowsInserted.connect(appeared)

    def _answered(self, answered: object) -> None:
        if not isinstance(answered, Answered) or answered.conversation is None:
            return
        key = answered.conversation
        if key.kind.name == "ROOM":
            self._open_room(key)
            return
        self._ctx.bridge.run(
            lambda: self._ctx.app.contacts.start_conversation(key.account_id, key.handle),
            lambda pid, error: self.open_person(pid) if pid is not None and error is None else None,
        )

    # -- the filter -----------------------------------------------------------------------------

    def _no_match(self) -> str | None:
        text = self._filter.text().strip()
        if not looks_like_address(text) or self._proxy.first_person().isValid():
            return None
        return text

    def _filter_applied(self) -> None:
        address = self._no_match()
        if address is None:
            self.message_button.hide()
            return
        self.message_button.setText(f"Message {address}…")
        self.message_button.setAccessibleName(f"Message {address}")
        self.message_button.show()

    def _filter_entered(self) -> None:
        address = self._no_match()
        if address is not None:
            self.message_address(address)

    # -- the context menu -----------------------------------------------------------------------

    def extend_menu(self, menu: QMenu, person: PersonRow, contact: ContactRow | None) -> None:
        if contact is None and len(person.contacts) == 1:
            contact = person.contacts[0]
        menu.addSeparator()
        if contact is not None:
            who = self._who(person, contact)
            rename = menu.addAction("Rename &contact…")
            rename.triggered.connect(lambda: self.ask_rename(contact))
            remove = menu.addAction("Remove from contacts…")
            remove.triggered.connect(lambda: self.confirm_remove(who, contact))
            if contact.ref in self.blocked:
                unblock = menu.addAction("&Unblock")
                unblock.triggered.connect(lambda: self.run_command("Unblocking " + who, "unblock", contact.ref))
            else:
                block = menu.addAction("&Block…")
                block.triggered.connect(lambda: self.confirm_block(who, contact))
        add = menu.addAction("Add &contact…")
        add.triggered.connect(lambda: self.add_contact())

    @staticmethod
    def _who(person: PersonRow, contact: ContactRow) -> str:
        name = contact.name if contact.name and contact.name != contact.ref.handle else person.name
        return name if name == contact.ref.handle else f"{name} ({contact.ref.handle})"

    def ask_rename(self, contact: ContactRow) -> QInputDialog:
        dialog = QInputDialog(self._window)
        dialog.setWindowTitle("Rename contact")
        dialog.setAccessibleName("Rename contact")
        dialog.setLabelText(f"Your name for {contact.ref.handle} on {contact.account} (empty: their own):")
        dialog.setTextValue(contact.name if contact.name != contact.ref.handle else "")
        dialog.textValueSelected.connect(lambda text: self.rename(contact.ref, text))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()
        return dialog

    def rename(self, ref: ContactRef, name: str) -> None:
        def done(_r: object, error: BaseException | None) -> None:
            if error is not None:
                show_refusal(self._window, f"Renaming {ref.handle}", error)

        self._ctx.bridge.run(lambda: self._ctx.app.contacts.rename(ref, name.strip() or None), done)

    def _confirm(self, title: str, text: str, yes: str, then: Callable[[], None]) -> QMessageBox:
        box = QMessageBox(self._window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setAccessibleName(title)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(text)
        confirm = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(confirm)
        box.buttonClicked.connect(lambda button: then() if button is confirm else None)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = box
        box.open()
        return box

    def confirm_remove(self, who: str, contact: ContactRow) -> QMessageBox:
        return self._confirm(
            "Remove contact",
            f"Remove {who} from your contacts on {contact.account}? "
            "You stop seeing each other's status; your conversations stay.",
            "Remove",
            lambda: self.run_command(f"Removing {who}", "remove", contact.ref),
        )

    def confirm_block(self, who: str, contact: ContactRow) -> QMessageBox:
        return self._confirm(
            "Block",
            f"Block {who} on {contact.account}? Their messages, status and requests stop reaching you "
            "until you unblock them.",
            "Block",
            lambda: self.run_command(f"Blocking {who}", "block", contact.ref),
        )

    def run_command(self, action: str, command: str, ref: ContactRef) -> None:
        contacts = self._ctx.app.contacts
        coroutine = {"remove": contacts.remove, "block": contacts.block, "unblock": contacts.unblock}[command](ref)

        def done(_r: object, error: BaseException | None) -> None:
            if error is not None:
                show_refusal(self._window, action, error)

        self._ctx.bridge.call(coroutine, done)

    def _blocked_loaded(self, refs: Sequence[ContactRef] | None, error: BaseException | None) -> None:
        if error is None:
            self.blocked.update(refs or ())

    def _on_blocked(self, event: object) -> None:
        if isinstance(event, ContactBlockChanged):
            (self.blocked.add if event.blocked else self.blocked.discard)(event.contact)
