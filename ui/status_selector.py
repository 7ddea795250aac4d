"""The user's own status: one for every account, with overrides for Work, Personal and single accounts.

A combo box sets the global status, a menu button beside it sets (or clears) the status of a sphere or
of one account and names the scopes that override the global one, and a line holds the status message.
What the widgets show comes from the core's ``OwnStatusChanged`` events (and one snapshot at start).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup, QFont, QIcon
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QMenu, QToolButton, QVBoxLayout, QWidget

from aggregator.api import AccountId, Presence, PresenceKind, Sphere
from aggregator.app.rows import AccountRow
from aggregator.app.types import StatusBook
from aggregator.presence.events import OwnStatusChanged
from ui.context import UiContext
from ui.icons import presence_icon

log = logging.getLogger(__name__)

#: What the user may choose (the core's ``CHOOSABLE``: extended away is for auto-away and protocols).
CHOICES = (
    (PresenceKind.AVAILABLE, "Available"),
    (PresenceKind.AWAY, "Away"),
    (PresenceKind.BUSY, "Busy"),
    (PresenceKind.INVISIBLE, "Invisible"),
    (PresenceKind.OFFLINE, "Offline"),
)
LABELS = dict(CHOICES) | {PresenceKind.EXTENDED_AWAY: "Extended away"}
SPHERE_LABELS = {Sphere.WORK: "Work", Sphere.PERSONAL: "Personal"}
SAME_AS_GLOBAL = "Same as the global status"
SAME_AS_SPHERE = "Same as its sphere"
COMBO_TIP = "Your status on every account (unless a sphere or an account has its own)"
#: How the combo names a status the accounts show without the user choosing it (idleness, work hours).
AUTO_SUFFIX = " (auto)"


def shown_overall(chosen: PresenceKind, shown: list[PresenceKind]) -> PresenceKind:
    """What the status box shows: the chosen global status while some account shows it; else (every
    account quietened by idleness or work hours, or set otherwise per scope) the most reachable status
    an account shows, extended away read as away."""
    if not shown or chosen in shown:
        return chosen
    best = min(shown, key=lambda kind: kind.rank)
    return PresenceKind.AWAY if best is PresenceKind.EXTENDED_AWAY else best


class StatusSelector(QWidget):
    """The global status combo, the per-scope menu button and the status message."""

    global_changed = Signal(object)  # PresenceKind: the global status, as the core has it

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.book = StatusBook()
        self.accounts: list[AccountRow] = []
        self.shown: dict[AccountId, Presence] = {}
        self._submenus: dict[str, QMenu] = {}

        self.combo = QComboBox()
        self.combo.setAccessibleName("My status")
        self.combo.setToolTip(COMBO_TIP)
        for kind, label in CHOICES:
            self.combo.addItem(presence_icon(kind), label, kind.value)
        self.combo.activated.connect(lambda index: self.set_kind(PresenceKind(str(self.combo.itemData(index)))))

        self.scope_menu = QMenu(self)
        self.scope_menu.setAccessibleName("Status per sphere and account")
        self.scopes = QToolButton()
        self.scopes.setAccessibleName("Status per sphere and account")
        self.scopes.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.scopes.setMenu(self.scope_menu)

        self.message = QLineEdit()
        self.message.setAccessibleName("Status message")
        self.message.setPlaceholderText("Status message (Enter sets it)")
        self.message.setClearButtonEnabled(True)
        self.message.returnPressed.connect(self._message_entered)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.scopes)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(row)
        layout.addWidget(self.message)

        self._rebuild_menu()
        ctx.bridge.own_status.connect(self._on_status)
        ctx.bridge.account_state.connect(lambda e: self.reload() if e.account_id not in self.shown else None)
        ctx.bridge.accounts_changed.connect(lambda _e: self.reload())  # a new name, a new sphere, one more or less
        self.reload()

    # -- reading ----------------------------------------------------------------------------------

    def reload(self) -> None:
        self._ctx.bridge.run(self._ctx.app.status_snapshot, self._loaded)

    def _loaded(self, result: tuple[OwnStatusChanged, list[AccountRow]] | None, error: BaseException | None) -> None:
        if result is None:
            log.warning("Could not read the own status: %s", error)
            return
        snapshot, self.accounts = result
        self._on_status(snapshot, initial=True)

    def _on_status(self, event: OwnStatusChanged, *, initial: bool = False) -> None:
        self.book = event.book
        self.shown = dict(event.shown)
        if not initial and set(self.shown) != {a.id for a in self.accounts}:
            self.reload()  # an account came or went: fetch the names again
        self._show_kind()
        if not self.message.hasFocus():
            self.message.setText(self.book.global_status.status)
        self._rebuild_menu()
        self.global_changed.emit(self.book.global_status.kind)

    def _show_kind(self) -> None:
        """Select the status the accounts really show; "(auto)" when idleness or work hours made it."""
        chosen = self.book.global_status.kind
        kind = shown_overall(chosen, [p.kind for p in self.shown.values()])
        auto = any(
            self.book.chosen(a.id, a.sphere).kind is not self.shown[a.id].kind
            for a in self.accounts
            if a.id in self.shown
        )
        for i, (choice, label) in enumerate(CHOICES):
            mark = AUTO_SUFFIX if choice is kind and kind is not chosen and auto else ""
            self.combo.setItemText(i, label + mark)
        index = self.combo.findData(kind.value)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        tip = COMBO_TIP
        if kind is not chosen:
            why = "while you are idle or outside work hours" if auto else "as set for the spheres and accounts"
            tip = f"You chose {LABELS[chosen]}; every account shows {LABELS[kind]} now ({why}).\n{COMBO_TIP}"
        self.combo.setToolTip(tip)
        self.combo.setAccessibleDescription(tip)

    def overrides(self) -> list[str]:
        """The scopes that override the global status, as the user reads them (``Work: Busy``)."""
        found = [f"{SPHERE_LABELS[s]}: {LABELS[p.kind]}" for s, p in self.book.spheres.items()]
        names = {a.id: a.name for a in self.accounts}
        found += [f"{names.get(a, a)}: {LABELS[p.kind]}" for a, p in self.book.accounts.items()]
        return found

    # -- the menu ---------------------------------------------------------------------------------

    def _rebuild_menu(self) -> None:
        menu = self.scope_menu
        menu.clear()
        for old in self._submenus.values():
            old.deleteLater()
        self._submenus = {}
        menu.addSection("Spheres")
        for sphere in Sphere:
            chosen = self.book.spheres.get(sphere)
            label = (
                f"{SPHERE_LABELS[sphere]}: {LABELS[chosen.kind]}"
                if chosen
                else f"{SPHERE_LABELS[sphere]}: same as global"
            )
            self._scope_submenu(label, chosen, sphere=sphere)
        if self.accounts:
            menu.addSection("Accounts")
        for account in self.accounts:
            shown = self.shown.get(account.id)
            chosen = self.book.accounts.get(account.id)
            label = (
                f"{account.name}: {LABELS[chosen.kind]}"
                if chosen
                else f"{account.name}: as {SPHERE_LABELS[account.sphere]}"
            )
            if shown is not None and (chosen is None or shown.kind is not chosen.kind):
                label += f" (shows {LABELS[shown.kind]})"  # work hours or idleness quieten it
            self._scope_submenu(label, chosen, account=account.id)
        overrides = self.overrides()
        self.scopes.setText(f"Scopes ({len(overrides)})" if overrides else "Scopes")
        tip = "Set a different status for Work, Personal or one account"
        if overrides:
            tip += ".\nOverriding the global status now:\n" + "\n".join(overrides)
        self.scopes.setToolTip(tip)
        self.scopes.setAccessibleDescription(tip)

    def _scope_submenu(
        self, label: str, chosen: Presence | None, *, sphere: Sphere | None = None, account: AccountId | None = None
    ) -> QMenu:
        shown = self.shown.get(account) if account else None
        icon_kind = chosen.kind if chosen else (shown.kind if shown else None)
        sub = self.scope_menu.addMenu(presence_icon(icon_kind) if icon_kind else QIcon(), label)
        sub.setAccessibleName(label)
        self._submenus[f"{sphere.value}" if sphere else f"account:{account}"] = sub
        if chosen is not None:
            font = QFont(sub.menuAction().font())
            font.setBold(True)
            sub.menuAction().setFont(font)
        group = QActionGroup(sub)
        same = QAction(SAME_AS_GLOBAL if sphere else SAME_AS_SPHERE, sub, checkable=True, checked=chosen is None)
        same.triggered.connect(lambda _c=False: self.set_scope(None, sphere=sphere, account=account))
        group.addAction(same)
        sub.addAction(same)
        sub.addSeparator()
        for kind, text in CHOICES:
            action = QAction(presence_icon(kind), text, sub, checkable=True)
            action.setChecked(chosen is not None and chosen.kind is kind)
            action.setData(kind.value)
            action.triggered.connect(lambda _c=False, k=kind: self.set_scope(k, sphere=sphere, account=account))
            group.addAction(action)
            sub.addAction(action)
        return sub

    def scope_submenu(self, *, sphere: Sphere | None = None, account: AccountId | None = None) -> QMenu | None:
        return self._submenus.get(f"{sphere.value}" if sphere else f"account:{account}")

    # -- the user's commands ----------------------------------------------------------------------

    def set_kind(self, kind: PresenceKind) -> None:
        """Set the global status (keeping the message), as the combo and the tray's menu do."""
        index = self.combo.findData(kind.value)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        self._send(Presence(kind, self.message.text().strip()))

    def set_scope(
        self, kind: PresenceKind | None, *, sphere: Sphere | None = None, account: AccountId | None = None
    ) -> None:
        """Set (``kind``) or clear (None) the status of one sphere or one account."""
        presence = None if kind is None else Presence(kind, self.message.text().strip())
        self._send(presence, sphere=sphere, account=account)

    def _message_entered(self) -> None:
        self.set_kind(self.book.global_status.kind)

    def _send(
        self, presence: Presence | None, *, sphere: Sphere | None = None, account: AccountId | None = None
    ) -> None:
        self._ctx.bridge.call(
            self._ctx.app.set_status(presence, sphere=sphere, account=account),
            lambda _r, err: log.warning("Could not set the status: %s", err) if err else None,
        )
