"""The secondary windows and the tray, opened from the main window's menu."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from aggregator.api import ConversationKey, RequestKind
from aggregator.app.contacts import PendingRequest
from aggregator.app.rows import AccountRow
from aggregator.app.types import SetupNeed
from ui.account_dialog import AccountsDialog
from ui.context import UiContext
from ui.import_dialog import ImportDialog
from ui.log_viewer import LogViewer
from ui.main_window import MainWindow
from ui.message_alerts import desktop_alerts
from ui.notifications import Notification
from ui.preferences import PreferencesDialog
from ui.preseed_dialog import PreseedDialog
from ui.request_banner import request_text
from ui.theme_prefs import AppearancePage
from ui.tray import Tray


class Windows(QObject):
    quit_requested = Signal()

    def __init__(self, ctx: UiContext, main: MainWindow) -> None:
        super().__init__(main)
        self._ctx = ctx
        self.main = main
        self.log_viewer: LogViewer | None = None
        self.accounts: AccountsDialog | None = None
        self.preferences: PreferencesDialog | None = None
        self.preseed: PreseedDialog | None = None
        self.importer: ImportDialog | None = None
        self.appearance: AppearancePage | None = None
        self.tray: Tray | None = None
        #: ``--home DIR`` for entries the window writes (autostart), set by ui.app for a non-default profile.
        self.profile_args: list[str] = []
        self.quit_requested.connect(main.prepare_quit)  # before the app's quit: the window lets it through
        main.quit_action.triggered.connect(self.quit_requested)
        main.search_action.triggered.connect(self.show_log_viewer)
        main.accounts_action.triggered.connect(self.show_accounts)
        main.preferences_action.triggered.connect(self.show_preferences)
        main.import_action.triggered.connect(self.show_import)
        main.first_run.import_requested.connect(self.import_from)
        if Tray.available():
            self.tray = Tray(main, main.status_selector, self)
            self.tray.quit_requested.connect(self.quit_requested)
            main.feed.total_unread.connect(self.tray.set_unread)
            self.tray.show()
            main.set_tray(self.tray.icon)  # closing the window now hides it into the tray
        tray_icon = self.tray.icon if self.tray is not None else None
        self.alerts = desktop_alerts(ctx, main, main.conversations, tray_icon, self)
        self.alerts.opened.connect(self._open_person)
        self.alerts.room_opened.connect(self._open_room)
        main.contacts.banner.arrived.connect(self._request_arrived)

    def show_log_viewer(self) -> LogViewer:
        if self.log_viewer is None:
            self.log_viewer = LogViewer(self._ctx, self.main)
            self.log_viewer.open_message.connect(self._open_message)
        self.log_viewer.reload_choices()
        self.log_viewer.show()
        self.log_viewer.raise_()
        self.log_viewer.activateWindow()
        self.log_viewer.focus_query()
        return self.log_viewer

    def _open_message(self, person_id: int, message_id: int) -> None:
        tab = self.main.open_person(person_id)
        if tab is not None:
            tab.show_message(message_id)
        self._raise_main()

    def _request_arrived(self, request: object) -> None:
        """A desktop notification for a new contact request or invitation (the banner has the buttons)."""
        if isinstance(request, PendingRequest):
            title = "Room invitation" if request.kind is RequestKind.ROOM_INVITE else "Contact request"
            self.alerts.notifier.show(Notification(title=title, body=request_text(request)))

    def _open_person(self, person_id: int) -> None:
        self.main.open_person(person_id)
        self._raise_main()

    def _open_room(self, key: ConversationKey) -> None:
        self.main.rooms.open(key)
        self._raise_main()

    def _raise_main(self) -> None:
        self.main.show()
        self.main.raise_()
        self.main.activateWindow()

    def show_import(self) -> ImportDialog:
        if self.importer is None:
            self.importer = ImportDialog(self._ctx, self.main)
        self.importer.show()
        self.importer.raise_()
        self.importer.activateWindow()
        return self.importer

    def import_from(self, format_name: str, folder: Path | None) -> ImportDialog:
        """The import dialog set to ``format_name`` (``auto``: recognise) and ``folder`` (the first run's offer)."""
        dialog = self.show_import()
        dialog.client.setCurrentIndex(max(0, dialog.client.findData(format_name)))
        if folder is not None:
            dialog.folder.setText(str(folder))
        return dialog

    def show_accounts(self) -> AccountsDialog:
        if self.accounts is None:
            self.accounts = AccountsDialog(self._ctx, self.main)
        self.accounts.show()
        self.accounts.raise_()
        return self.accounts

    def show_preferences(self) -> PreferencesDialog:
        if self.preferences is None:
            self.preferences = PreferencesDialog(self._ctx, self.main, profile_args=self.profile_args)
            self.appearance = AppearancePage(self.main.theme)
            self.preferences.tabs.addTab(self.appearance, "&Appearance")
        else:
            self.preferences.reload()
            if self.appearance is not None:
                self.appearance.reload()
        self.preferences.show()
        self.preferences.raise_()
        return self.preferences

    def first_run_check(self) -> None:
        """Accounts the organisation preseeded that still need a password: ask for them. (No account at
        all: the main window shows its first-run page, ``ui.first_run``.)"""

        def done(rows: list[AccountRow] | None, _error: BaseException | None) -> None:
            if rows:
                self.ask_preseeded()

        self._ctx.bridge.run(self._ctx.app.account_rows, done)

    def ask_preseeded(self) -> None:
        """The organisation's preseeded accounts that still need a password (or a username): ask, one
        dialog per account; "Later" leaves the rest for the next start."""

        def asked(needs: list[SetupNeed] | None, _error: BaseException | None) -> None:
            if needs:
                self._ask_next(list(needs))

        self._ctx.bridge.run(self._ctx.app.setup_pending, asked)

    def _ask_next(self, needs: list[SetupNeed]) -> None:
        if not needs:
            self.preseed = None
            return
        self.preseed = PreseedDialog(self._ctx, needs[0], self.main)
        self.preseed.accepted.connect(lambda: self._ask_next(needs[1:]))
        self.preseed.show()
        self.preseed.raise_()

    def close_all(self) -> None:
        self.alerts.close()
        for w in (self.log_viewer, self.accounts, self.preferences):
            if w is not None:
                w.close()
        if self.tray is not None:
            self.tray.icon.hide()
