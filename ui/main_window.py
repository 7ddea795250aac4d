"""The main window: the merged buddy list on the left, conversations on the right, accounts below."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QSystemTrayIcon,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import ContactRef
from aggregator.app.rows import PersonRow
from aggregator.app.types import PersonId
from aggregator.roster.events import PersonRemoved
from ui.accounts_strip import AccountsStrip
from ui.activity import ActivityWatch
from ui.contact_dialog import ContactActions
from ui.context import UiContext
from ui.conversation import ConversationPane, ConversationTab
from ui.first_run import FirstRunPage
from ui.first_run_empty import NO_CONVERSATION, NoRoomsHint, buddy_list_empty_state
from ui.models.roster_filter import RosterFilter
from ui.models.roster_model import CONTACT, CONTACT_ROLE, GROUP, PERSON, PERSON_ID_ROLE, SPHERE, RosterModel
from ui.person_actions import PersonActions
from ui.policy_banner import PolicyBanner
from ui.quick_switcher import QuickSwitcher
from ui.room_actions import RoomActions
from ui.room_tab import room_tabs
from ui.roster_delegate import RosterDelegate
from ui.roster_feed import RosterFeed
from ui.slim_layout import SlimLayout
from ui.status_selector import StatusSelector
from ui.storage_banner import StorageBanner
from ui.suggestions import SuggestionsButton
from ui.tab_memory import PERSONS, ROOMS, TabMemory
from ui.theme import ThemeController

FILTER_DEBOUNCE_MS = 60

#: Set once the user has been told that closing the window leaves the app running in the tray.
TRAY_NOTED_KEY = "main/closed_to_tray_noted"
TRAY_NOTE_TITLE = "Aggregator is still running"
TRAY_NOTE = (
    "Closing the window keeps you connected: Aggregator stays in the tray. Click its icon to open the "
    "window again; Quit in its menu (or Aggregator \u25b8 Quit) ends it."
)


class MainWindow(QMainWindow):
    #: The window was closed into the tray; the one-time note, or "" once the user has seen it.
    hidden_to_tray = Signal(str)

    def __init__(self, ctx: UiContext, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._settings = settings
        self.on_close: Callable[[], None] | None = None
        self._tray: QSystemTrayIcon | None = None
        self._quitting = False
        self.setWindowTitle("Aggregator")
        self.setAccessibleName("Aggregator")
        self.theme = ThemeController(settings, self)  # light or dark (ui.theme), before anything is drawn

        self.model = RosterModel(self)
        self.proxy = RosterFilter(self.model, self)
        # Before the feed's own handler: which person a removed one was merged into (see _person_gone).
        self._merged_into: dict[PersonId, PersonId] = {}
        ctx.bridge.person_removed.connect(self._note_merge)
        self.feed = RosterFeed(ctx, self.model, self)
        # Queued first on the engine thread, ahead of the merge suggestions and the rooms (0.1 s with
        # 10,000 persons); its result arrives after __init__ has connected ``loaded``.
        self.feed.load()

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name or address (Enter opens the first)")
        self.filter.setAccessibleName("Filter contacts")
        self.filter.setClearButtonEnabled(True)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DEBOUNCE_MS)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter.textChanged.connect(lambda _t: self._filter_timer.start())
        self.filter.returnPressed.connect(self.open_first_match)

        self.tree = QTreeView()
        self.tree.setAccessibleName("Contacts")
        self.tree.setModel(self.proxy)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setItemDelegate(RosterDelegate(self.tree))
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setExpandsOnDoubleClick(False)
        self.tree.activated.connect(self._activated)
        self.proxy.rowsInserted.connect(self._on_rows_inserted)
        self.proxy.modelReset.connect(self._expand_containers)

        self.person_actions = PersonActions(ctx, self.tree, self.model, self.proxy, self._activated, self)
        self.suggestions = SuggestionsButton(ctx)
        self.status_selector = StatusSelector(ctx)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 6)
        left_layout.addWidget(self.filter)
        left_layout.addWidget(self.suggestions)
        left_layout.addWidget(self.tree, 1)
        left_layout.addWidget(self.status_selector)

        self.conversations = ConversationPane(ctx)
        self.placeholder = QLabel(NO_CONVERSATION)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.right = QStackedWidget()
        self.right.addWidget(self.placeholder)
        self.right.addWidget(self.conversations)
        self.first_run = FirstRunPage(ctx)  # while the profile has no account
        self.right.addWidget(self.first_run)
        self.empty_list = buddy_list_empty_state(
            self.tree, self.proxy, self.model, self.filter, lambda: self.first_run.needed
        )
        self.first_run.needed_changed.connect(self._update_right)
        self.first_run.needed_changed.connect(self.empty_list.update)
        self.conversations.currentChanged.connect(self._update_right)

        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 600])
        self.slim_layout = SlimLayout(self, self.splitter, self.right)  # below 480 px: the buddy list only
        self.policy_banner = PolicyBanner(ctx)  # the organisation's policy notices, above everything
        self.storage_banner = StorageBanner(ctx)  # while the archive's disk is full
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.policy_banner)
        column.addWidget(self.storage_banner)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.accounts_strip = AccountsStrip(ctx)
        self.statusBar().addWidget(self.accounts_strip, 1)

        self.feed.person_changed.connect(self.conversations.update_person)
        self.feed.person_gone.connect(self._person_gone)
        self.feed.loaded.connect(self._expand_containers)
        # Typing and clicking in any of our windows is activity for auto-away (ui.activity).
        app = QApplication.instance()
        self.activity = ActivityWatch(lambda: ctx.bridge.post(ctx.app.user_active), self)
        if app is not None:
            app.installEventFilter(self.activity)
        self._build_menu()
        self.rooms = RoomActions(ctx, self, self)  # rooms in the buddy list, room tabs, the Rooms menu
        self.tab_memory = TabMemory(self.conversations, settings, self.open_person, self.rooms.open, self)
        self.feed.loaded.connect(lambda *_a: self.tab_memory.loaded(PERSONS))
        self.rooms.feed.loaded.connect(lambda: self.tab_memory.loaded(ROOMS))
        self.slim_layout.follow(self.tree, self.conversations, self.feed.loaded)  # (after the restore)
        # Add contact, the requests banner, the contact's menu entries, "Message ADDRESS…":
        self.contacts = ContactActions(
            ctx,
            self,
            filter_edit=self.filter,
            filter_timer=self._filter_timer,
            proxy=self.proxy,
            model=self.model,
            person_actions=self.person_actions,
            menu_before=self.switcher_action,
            open_person=self.open_person,
            open_room=self.rooms.open,
        )
        self.no_rooms = NoRoomsHint(self.menuBar(), lambda: bool(self.model.rooms()))
        self._restore()

    # -- menus ------------------------------------------------------------------------------------

    def _build_menu(self) -> None:
        bar = self.menuBar()
        app_menu = bar.addMenu("&Aggregator")
        self.accounts_action = QAction("&Accounts…", self)
        app_menu.addAction(self.accounts_action)
        self.search_action = QAction("&Search logs…", self)
        self.search_action.setShortcut(QKeySequence.StandardKey.Find)
        app_menu.addAction(self.search_action)
        self.import_action = QAction("&Import history…", self)
        app_menu.addAction(self.import_action)
        self.preferences_action = QAction("&Preferences…", self)
        self.preferences_action.setShortcut(QKeySequence("Ctrl+,"))
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        app_menu.addAction(self.preferences_action)
        app_menu.addSeparator()
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.prepare_quit)  # first: the window then lets the quit through
        app_menu.addAction(self.quit_action)
        self.switcher_action = QAction("&Go to person or room…", self)
        self.switcher_action.setShortcut(QKeySequence("Ctrl+K"))
        self.switcher_action.triggered.connect(self.show_switcher)
        app_menu.insertAction(self.search_action, self.switcher_action)

    def show_switcher(self) -> QuickSwitcher:
        """Ctrl+K: jump to a person or a room (open conversations first)."""
        open_rooms = [t.key for t in room_tabs(self.conversations)]
        open_ids = [t.person.id for t in self.conversations.tabs()]
        dialog = QuickSwitcher(self.model.persons(), open_ids, self, rooms=self.model.rooms(), open_rooms=open_rooms)
        dialog.chosen.connect(self.open_person)
        dialog.address_chosen.connect(self.contacts.message_address)
        dialog.room_chosen.connect(self.rooms.open)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    # -- the buddy list ---------------------------------------------------------------------------

    def _apply_filter(self) -> None:
        self.proxy.set_text(self.filter.text())
        self._expand_containers()

    def _expand_containers(self, *_args: object) -> None:
        for index in self.proxy.containers():  # spheres and groups only: never a walk over the persons
            self.tree.expand(index)

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):
            index = self.proxy.index(row, 0, parent)
            if self.model.node(self.proxy.mapToSource(index)).kind in (SPHERE, GROUP):
                self.tree.expand(index)

    def open_first_match(self) -> None:
        self._apply_filter()
        index = self.proxy.first_person()
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self._activated(index)

    def _activated(self, index: QModelIndex) -> None:
        kind = index.data(Qt.ItemDataRole.UserRole + 1)
        if kind == PERSON:
            self.open_person(int(index.data(PERSON_ID_ROLE)))
        elif kind == CONTACT:
            person_index = index.parent()
            ref = index.data(CONTACT_ROLE)
            tab = self.open_person(int(person_index.data(PERSON_ID_ROLE)))
            if tab is not None and isinstance(ref, ContactRef):
                tab.choose_reply_target(ref)
        elif not self.rooms.open_index(index):
            self.tree.setExpanded(index, not self.tree.isExpanded(index))

    def open_person(self, person_id: PersonId) -> ConversationTab | None:
        row: PersonRow | None = self.model.person(person_id)
        if row is None:
            return None
        tab = self.conversations.open_person(row)
        self._update_right()
        return tab

    def _note_merge(self, event: PersonRemoved) -> None:
        if event.merged_into is not None:
            self._merged_into[event.person_id] = event.merged_into

    def _person_gone(self, person_id: PersonId) -> None:
        """Close the person's tab; merged into another person, that person's tab takes its place."""
        into = self._merged_into.pop(person_id, None)
        pane = self.conversations
        tab = pane.tab_of(person_id)
        if tab is None or into is None or self.model.person(into) is None:
            pane.close_person(person_id)
            return
        index, current = pane.indexOf(tab), pane.currentWidget()
        pane.close_person(person_id)
        merged = pane.tab_of(into)
        if merged is None:
            row = self.model.person(into)
            assert row is not None
            merged = pane.open_person(row)
            pane.tabBar().moveTab(pane.indexOf(merged), min(index, pane.count() - 1))
        pane.setCurrentWidget(merged if current is tab else current)

    def _update_right(self, *_args: object) -> None:
        if self.conversations.count():
            self.right.setCurrentWidget(self.conversations)
        else:
            self.right.setCurrentWidget(self.first_run if self.first_run.needed else self.placeholder)

    # -- geometry ---------------------------------------------------------------------------------

    def _restore(self) -> None:
        geometry = self._settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(960, 620)
        splitter = self._settings.value("main/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_state(self) -> None:
        self._settings.setValue("main/geometry", self.saveGeometry())
        self._settings.setValue("main/splitter", self.splitter.saveState())
        self.tab_memory.save()
        self._settings.sync()

    # -- closing: into the tray, or quitting ----------------------------------------------------

    def set_tray(self, icon: QSystemTrayIcon | None) -> None:
        """The tray icon the window closes into (None: closing the window quits)."""
        self._tray = icon

    def prepare_quit(self) -> None:
        """Quit was chosen (the menu, the tray): the window closes for real when the application asks."""
        self._quitting = True

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        tray = self._tray
        if not self._quitting and tray is not None and tray.isVisible():
            event.ignore()
            self.hide()
            # A dialog closed later must not end the app while it lives in the tray.
            app = QApplication.instance()
            if isinstance(app, QApplication):
                app.setQuitOnLastWindowClosed(False)
            self.hidden_to_tray.emit(self._tray_note(tray))
            return
        super().closeEvent(event)
        if self.on_close is not None:
            self.on_close()

    def _tray_note(self, tray: QSystemTrayIcon) -> str:
        """Say once (remembered in the window's settings) that the app keeps running in the tray."""
        if self._settings.value(TRAY_NOTED_KEY, False, type=bool):
            return ""
        self._settings.setValue(TRAY_NOTED_KEY, True)
        self._settings.sync()
        tray.showMessage(TRAY_NOTE_TITLE, TRAY_NOTE, QSystemTrayIcon.MessageIcon.Information, 10_000)
        return TRAY_NOTE
