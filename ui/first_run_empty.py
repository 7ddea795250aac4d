"""Empty states that say what to do next: a text over an empty list (the buddy list with no one in it,
or no one matching the filter) and a "no rooms yet" line in the Rooms menu."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QMenu, QMenuBar

from ui.first_run import ACCOUNTS_MENU, ARROW, JOIN_MENU, SWITCHER_MENU
from ui.models.roster_filter import RosterFilter
from ui.models.roster_model import RosterModel

NO_ACCOUNT = f"No contacts yet.\n\nAdd your chat account in {ACCOUNTS_MENU} (or use the buttons on the right)."
NO_CONTACTS = (
    "Your buddy list is empty.\n\nContacts appear here once your accounts are online. "
    f"To chat in a group, use {JOIN_MENU}"
)
NO_ROOMS = f"No rooms yet: join one with {JOIN_MENU.split(ARROW)[1]}"
NO_CONVERSATION = (
    f"No conversation open.\n\nDouble-click a person in the buddy list, or press Ctrl+K ({SWITCHER_MENU}) to find one."
)


def no_match(text: str) -> str:
    return f"No one matches “{text}”.\n\nCheck the spelling, or clear the filter to see everyone."


def buddy_list_text(filter_text: str, no_account: bool | None) -> str:
    """What the empty buddy list says: no match for the filter, no account yet, or no contacts yet."""
    if filter_text.strip():
        return no_match(filter_text.strip())
    return NO_ACCOUNT if no_account else NO_CONTACTS


class EmptyState(QObject):
    """A dimmed, centred text over ``view`` while it shows nothing to act on (``is_empty``, by default:
    its model has no rows); ``text()`` says what to do."""

    def __init__(
        self, view: QAbstractItemView, text: Callable[[], str], is_empty: Callable[[], bool] | None = None
    ) -> None:
        super().__init__(view)
        self._view = view
        self._text = text
        self._is_empty = is_empty or (lambda: view.model().rowCount() == 0)
        self.label = QLabel(view.viewport())
        self.label.setAccessibleName("Empty list")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        view.viewport().installEventFilter(self)
        model = view.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.layoutChanged):
            signal.connect(self.update)
        self.update()

    def update(self, *_args: object) -> None:
        empty = self._is_empty()
        if empty:
            self.label.setText(self._text())
            self._place()
        self.label.setVisible(empty)

    def _place(self) -> None:
        area = self._view.viewport().rect().adjusted(16, 16, -16, -16)
        self.label.setGeometry(area)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False


def buddy_list_empty_state(
    tree: QAbstractItemView,
    proxy: RosterFilter,
    model: RosterModel,
    filter_box: QLineEdit,
    no_account: Callable[[], bool | None],
) -> EmptyState:
    """The buddy list's empty state: shown while no person is listed (and, unfiltered, no room either)."""

    def is_empty() -> bool:
        filtered = bool(filter_box.text().strip())
        return not proxy.first_person().isValid() and (filtered or not model.rooms())

    state = EmptyState(tree, lambda: buddy_list_text(filter_box.text(), no_account()), is_empty)
    filter_box.textChanged.connect(state.update)
    return state


def rooms_menu(bar: QMenuBar) -> QMenu | None:
    for action in bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and action.text().replace("&", "") == JOIN_MENU.split(ARROW)[0]:
            return menu
    return None


class NoRoomsHint(QObject):
    """A disabled "No rooms yet" line in the Rooms menu while no room is joined."""

    def __init__(self, bar: QMenuBar, has_rooms: Callable[[], bool]) -> None:
        super().__init__(bar)
        self._has_rooms = has_rooms
        self.action = QAction(NO_ROOMS, self)
        self.action.setEnabled(False)
        self.menu = rooms_menu(bar)
        self.separator: QAction | None = None
        if self.menu is not None:
            self.separator = self.menu.addSeparator()
            self.menu.addAction(self.action)
            self.menu.aboutToShow.connect(self.update)
        self.update()

    def update(self) -> None:
        none = not self._has_rooms()
        self.action.setVisible(none)
        if self.separator is not None:
            self.separator.setVisible(none)
