"""The first start (a profile without accounts): what the app does, an "Add an … account" button per
protocol that opens the account editor set to that protocol with just the fields it needs, and the old
logs of other clients found in their default folders, offered for import.

The texts that point at a menu name it as "Menu → Item" (``MENU_PATHS``); a test checks each exists.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import ProtocolInfo
from aggregator.app.log_sources import LogSource
from aggregator.app.rows import AccountRow
from ui.account_dialog import AccountEditor
from ui.context import UiContext

log = logging.getLogger(__name__)

ARROW = "\u00a0→\u00a0"  # no-break spaces: a menu path is never split over two lines


def menu_path(menu: str, item: str) -> str:
    return f"{menu}{ARROW}{item}"


ACCOUNTS_MENU = menu_path("Aggregator", "Accounts…")
IMPORT_MENU = menu_path("Aggregator", "Import history…")
SWITCHER_MENU = menu_path("Aggregator", "Go to person or room…")
SEARCH_MENU = menu_path("Aggregator", "Search logs…")
JOIN_MENU = menu_path("Rooms", "Join room…")
MENU_PATHS = (ACCOUNTS_MENU, IMPORT_MENU, SWITCHER_MENU, SEARCH_MENU, JOIN_MENU)

#: The protocols the first run offers, in this order, with their button text.
OFFERED = (("xmpp", "Add an &XMPP account"), ("matrix", "Add a &Matrix account"), ("irc", "Add an &IRC account"))

WELCOME = (
    "Aggregator keeps your XMPP, Matrix and IRC chats in one window, with one buddy list that puts "
    "each person's accounts together. Everything you write and receive is kept in a searchable archive "
    "on this computer, and your passwords stay in the system's keyring."
)


def preset_editor(protocols: list[ProtocolInfo], protocol: str, parent: QWidget | None = None) -> AccountEditor:
    """The account editor set to ``protocol``, showing the fields that protocol needs (the required ones
    and the password); "Show all options" shows the rest."""
    editor = AccountEditor(protocols, None, parent)
    index = editor.protocol.findData(protocol)
    if index < 0:
        raise ValueError(f"no protocol {protocol!r}")
    editor.protocol.setCurrentIndex(index)
    info = editor.info()
    editor.setWindowTitle(f"Add your {info.name} account")
    editor.form.setRowVisible(editor.protocol, False)
    optional = {f.label for f in info.fields if not f.required and not f.secret}
    rows = [w for w in editor.findChildren(QWidget) if w.accessibleName() in optional]
    more = QCheckBox("Show all options")
    more.setAccessibleName("Show all account options")

    def show_all(on: bool) -> None:
        for widget in rows:
            editor.form.setRowVisible(widget, on)
        editor.adjustSize()

    more.toggled.connect(show_all)
    editor.form.addRow(more)
    show_all(False)
    return editor


class FirstRunPage(QWidget):
    """Shown in the window's right-hand side while the profile has no account."""

    #: Whether the profile has no account (the page is wanted), after each check.
    needed_changed = Signal(bool)
    #: "Import" on a found folder: (format name, folder).
    import_requested = Signal(str, object)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.needed: bool | None = None
        self.sources: list[LogSource] = []
        self.editor: AccountEditor | None = None
        self.setAccessibleName("Welcome")

        title = QLabel("Welcome to Aggregator")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        self.intro = QLabel(WELCOME)
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)

        self.account_buttons: dict[str, QPushButton] = {}
        buttons = QVBoxLayout()
        known = {p.id: p for p in ctx.registry.all()}
        for protocol, text in OFFERED:
            if protocol not in known:
                continue
            button = QPushButton(text)
            button.setAccessibleName(text.replace("&", ""))
            button.clicked.connect(lambda _c=False, p=protocol: self.add_account(p))
            self.account_buttons[protocol] = button
            buttons.addWidget(button)
        later = QLabel(f"You can add more accounts later in {ACCOUNTS_MENU}")
        later.setWordWrap(True)

        self.import_title = QLabel("<b>Import old logs</b>")
        self.import_intro = QLabel()
        self.import_intro.setWordWrap(True)
        self.import_intro.setTextFormat(Qt.TextFormat.PlainText)
        self.import_list = QVBoxLayout()
        self.import_buttons: list[QPushButton] = []
        self.other_logs = QPushButton("Other logs…")
        self.other_logs.setAccessibleName("Import other logs")
        self.other_logs.clicked.connect(lambda: self.import_requested.emit("auto", None))

        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Sunken)

        column = QVBoxLayout()
        column.addWidget(title)
        column.addWidget(self.intro)
        column.addSpacing(12)
        column.addLayout(buttons)
        column.addWidget(later)
        column.addSpacing(8)
        column.addWidget(rule)
        column.addWidget(self.import_title)
        column.addWidget(self.import_intro)
        column.addLayout(self.import_list)
        other_row = QHBoxLayout()
        other_row.addWidget(self.other_logs)
        other_row.addStretch(1)
        column.addLayout(other_row)
        column.addStretch(1)
        box = QWidget()
        box.setLayout(column)
        box.setMaximumWidth(520)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 4)
        outer.addStretch(1)
        self._show_sources([])
        ctx.bridge.accounts_changed.connect(lambda _e: self.check())
        self.check()
        ctx.bridge.run(ctx.app.old_log_sources, self._found)

    # -- accounts ---------------------------------------------------------------------------------

    def check(self) -> None:
        """Ask the core whether the profile has an account (``needed_changed`` tells)."""
        self._ctx.bridge.run(self._ctx.app.account_rows, self._counted)

    def _counted(self, rows: list[AccountRow] | None, error: BaseException | None) -> None:
        if rows is None:
            log.warning("Cannot count the accounts: %s", error)
            return
        needed = not rows
        if needed != self.needed:
            self.needed = needed
            self.needed_changed.emit(needed)

    def add_account(self, protocol: str) -> AccountEditor:
        protocols = self._ctx.registry.all(include_testing=True)
        self.editor = preset_editor(protocols, protocol, self)
        self.editor.accepted.connect(self._save)
        self.editor.open()
        return self.editor

    def _save(self) -> None:
        editor = self.editor
        if editor is None or editor.config is None:
            return
        self._ctx.bridge.call(self._ctx.app.accounts.add(editor.config, editor.secret), self._added)

    def _added(self, _result: object, error: BaseException | None) -> None:
        if error is not None:
            QMessageBox.warning(self, "Add account", str(error))
        self.check()

    # -- old logs ---------------------------------------------------------------------------------

    def _found(self, sources: list[LogSource] | None, error: BaseException | None) -> None:
        if sources is None:
            log.warning("Cannot look for other clients' logs: %s", error)
            return
        self._show_sources(sources)

    def _show_sources(self, sources: list[LogSource]) -> None:
        self.sources = list(sources)
        for button in self.import_buttons:
            self.import_list.removeWidget(button)
            button.deleteLater()
        self.import_buttons = []
        if sources:
            self.import_intro.setText(
                "Logs of other chat programs were found on this computer. Import them to search them here "
                "and to see them in each conversation:"
            )
        else:
            self.import_intro.setText(
                "Bring your history from Pidgin, Trillian, Adium, Gajim, HexChat, irssi or WeeChat: "
                f"choose their log folder here or later in {IMPORT_MENU}"
            )
        for source in sources:
            text = f"Import {source.title} logs from {_home_relative(source.folder)}"
            button = QPushButton(text)
            button.setAccessibleName(text)
            button.clicked.connect(lambda _c=False, s=source: self.import_requested.emit(s.format, s.folder))
            self.import_list.addWidget(button)
            self.import_buttons.append(button)


def _home_relative(folder: Path) -> str:
    try:
        return "~/" + folder.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(folder)
