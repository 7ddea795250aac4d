"""Merge suggestions in the buddy list: a "N merge suggestions" button above the list, and the dialog.

The core proposes merges (same address, same name across accounts) and never merges by itself. The
list is fetched on the engine thread, again (coalesced) after every person event. In the dialog the
user accepts a suggestion (the two persons are merged) or rejects it (the core remembers: never
proposed again). A refusal (the organisation's policy, say) is shown inline with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from aggregator.app.person_commands import SuggestionRow
from ui.context import UiContext
from ui.models.suggestions_model import SUGGESTION_ROLE, SuggestionsModel
from ui.refusal import refusal_text

log = logging.getLogger(__name__)

COALESCE_MS = 250


class SuggestionsFeed(QObject):
    """Keeps a ``SuggestionsModel`` in step with the core; carries out accept and reject."""

    count_changed = Signal(int)
    #: A command was refused: (what, the reason, a detail line).
    refused = Signal(str, str, str)

    def __init__(self, ctx: UiContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.model = SuggestionsModel(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self.refresh)
        self._in_flight = False
        self._again = False
        for signal in (ctx.bridge.person_added, ctx.bridge.person_updated, ctx.bridge.person_removed):
            signal.connect(lambda _e: self._timer.start())

    def refresh(self) -> None:
        if self._in_flight:
            self._again = True
            return
        self._in_flight = True
        app = self._ctx.app
        self._ctx.bridge.run(lambda: app.suggestion_rows(), self._fetched)

    def _fetched(self, rows: list[SuggestionRow] | None, error: BaseException | None) -> None:
        self._in_flight = False
        if error is not None or rows is None:
            log.error("Could not fetch the merge suggestions: %s", error)
        else:
            self.model.set_rows(rows)
            self.count_changed.emit(self.model.rowCount())
        if self._again:
            self._again = False
            self.refresh()

    def accept(self, row: SuggestionRow, done: Callable[[bool], None] | None = None) -> None:
        app = self._ctx.app
        self._command("Merge", lambda: app.merge_persons(row.person, row.other), row, done)

    def reject(self, row: SuggestionRow, done: Callable[[bool], None] | None = None) -> None:
        app = self._ctx.app
        self._command("Reject", lambda: app.reject_suggestion(row.person, row.other), row, done)

    def _command(
        self, what: str, fn: Callable[[], object], row: SuggestionRow, done: Callable[[bool], None] | None
    ) -> None:
        def finished(_result: object, error: BaseException | None) -> None:
            if error is not None:
                log.info("%s of suggestion %s refused: %s", what, row.key, error)
                self.refused.emit(what, *refusal_text(error))
            else:
                self.model.remove(row.key)
                self.count_changed.emit(self.model.rowCount())
            self.refresh()
            if done is not None:
                done(error is None)

        self._ctx.bridge.run(fn, finished)


class SuggestionsDialog(QDialog):
    """Each suggestion with both persons' contacts; Merge or "Different people" on the selected one."""

    def __init__(self, feed: SuggestionsFeed, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._feed = feed
        self.setWindowTitle("Merge suggestions")
        self.setAccessibleName("Merge suggestions")
        intro = QLabel(
            "These contacts may be the same person on different accounts. Merge them into one entry of the "
            "buddy list, or say they are different people (they will not be suggested again)."
        )
        intro.setWordWrap(True)
        self.list = QListView()
        self.list.setAccessibleName("Suggestions")
        self.list.setModel(feed.model)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        self.empty = QLabel("No suggestions right now.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error = QLabel()
        self.error.setAccessibleName("Why it was refused")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet("color: palette(bright-text); background: #b3261e; padding: 6px; border-radius: 4px;")
        self.error.hide()

        self.buttons = QDialogButtonBox()
        self.merge_button = self.buttons.addButton("&Merge", QDialogButtonBox.ButtonRole.ActionRole)
        self.merge_button.setAccessibleName("Merge the selected suggestion")
        self.reject_button = self.buttons.addButton("&Different people", QDialogButtonBox.ButtonRole.ActionRole)
        self.reject_button.setAccessibleName("Reject the selected suggestion")
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        self.buttons.rejected.connect(self.reject)
        self.merge_button.clicked.connect(self.accept_current)
        self.reject_button.clicked.connect(self.reject_current)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        feed.refused.connect(self._show_refusal)
        feed.model.rowsInserted.connect(self._update)
        feed.model.rowsRemoved.connect(self._update)
        self.list.selectionModel().currentChanged.connect(lambda *_a: self._update())
        self.resize(560, 420)
        self._busy = False
        self._update()

    def current(self) -> SuggestionRow | None:
        index = self.list.currentIndex()
        row = index.data(SUGGESTION_ROLE) if index.isValid() else None
        return row if isinstance(row, SuggestionRow) else None

    def select_first(self) -> None:
        if self._feed.model.rowCount() and not self.list.currentIndex().isValid():
            self.list.setCurrentIndex(self._feed.model.index(0, 0))

    def _update(self, *_args: object) -> None:
        count = self._feed.model.rowCount()
        self.select_first()
        self.empty.setVisible(count == 0)
        self.list.setVisible(count > 0)
        has = self.current() is not None and not self._busy
        self.merge_button.setEnabled(has)
        self.reject_button.setEnabled(has)

    def accept_current(self) -> None:
        row = self.current()
        if row is not None and not self._busy:
            self._start()
            self._feed.accept(row, self._finished)

    def reject_current(self) -> None:
        row = self.current()
        if row is not None and not self._busy:
            self._start()
            self._feed.reject(row, self._finished)

    def _start(self) -> None:
        self._busy = True
        self.error.hide()
        self._update()

    def _finished(self, _ok: bool) -> None:
        self._busy = False
        self._update()
        self.list.setFocus()

    def _show_refusal(self, what: str, reason: str, detail: str) -> None:
        self.error.setText(f"{what} was refused: {reason}" + (f"\n{detail}" if detail else ""))
        self.error.show()


class SuggestionsButton(QPushButton):
    """ "N merge suggestions" above the buddy list; hidden when there are none. Opens the dialog."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feed = SuggestionsFeed(ctx, self)
        self.dialog: SuggestionsDialog | None = None
        self.setAccessibleName("Merge suggestions")
        self.setToolTip("Contacts that may be the same person on different accounts")
        self.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation))
        self.setStyleSheet(
            "QPushButton { text-align: left; padding: 4px 8px; border: 1px solid palette(mid);"
            " border-radius: 4px; background: palette(alternate-base); }"
            " QPushButton:focus { border: 1px solid palette(highlight); }"
        )
        self.feed.count_changed.connect(self._count)
        self.clicked.connect(self.open_dialog)
        self.hide()
        self.feed.refresh()

    def _count(self, count: int) -> None:
        self.setText(f"{count} merge suggestion{'s' if count != 1 else ''}…")
        self.setVisible(count > 0)

    def open_dialog(self) -> SuggestionsDialog:
        if self.dialog is None:
            self.dialog = SuggestionsDialog(self.feed, self.window())
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        self.dialog.list.setFocus()
        return self.dialog
