"""The log viewer: the search language of ``aggregator search`` plus filter controls, results as you type.

Each keystroke (or filter change) restarts a short timer; the query then runs on the engine thread.
Answers to older queries are dropped, so a slow query never overwrites a newer one and the window
never waits. Selecting a result shows its context (the messages around it) in a pane below; Enter,
a double-click or "Open conversation" opens the person's conversation at that message.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from aggregator.app.application import App
from aggregator.app.search_rows import (
    ContextAnswer,
    FilterChoices,
    ResultRow,
    SearchAnswer,
)
from aggregator.app.types import SearchError, SearchFilters
from ui.context import UiContext
from ui.models.search_results_model import ACCOUNT, CONVERSATION, MESSAGE, WHEN, SearchResultsModel
from ui.search_context import ContextView
from ui.search_delegate import SnippetDelegate
from ui.search_filters import FilterBar, FilterError

log = logging.getLogger(__name__)


def run_search(app: App, text: str, filters: SearchFilters, limit: int) -> SearchAnswer:
    """Engine thread: the search (a seam the tests slow down)."""
    return app.search(text, filters, limit)


DEBOUNCE_MS = 150
LIMIT = 200
CONTEXT = 5  # messages before and after the selected hit
CHOICES_DELAY_MS = 500
ERROR_STYLE = "color: #c00000"
NO_RESULTS = "No messages match. Try fewer or other words, or remove a filter."


class _DownIntoResults(QObject):
    """Down in the search box moves into the results."""

    down = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)):
            return False
        if event.key() == Qt.Key.Key_Down and not event.modifiers():
            self.down.emit()
            return True
        return False


class LogViewer(QWidget):
    open_message = Signal(object, object)  # person id, message id (a 64-bit int: not Signal(int))

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self._ctx = ctx
        self._generation = 0
        self._context_generation = 0
        self.setWindowTitle("Search logs")
        self.setAccessibleName("Search logs")

        self.query = QLineEdit()
        self.query.setAccessibleName("Search")
        self.query.setPlaceholderText('e.g.  release from:bob after:2024-01-01 "exact phrase"  (Down: results)')
        self.query.setClearButtonEnabled(True)
        self._down = _DownIntoResults(self)
        self._down.down.connect(self.focus_results)
        self.query.installEventFilter(self._down)
        self.filter_bar = FilterBar()

        self.status = QLabel(" ")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setAccessibleName("Search status")
        self.status.setWordWrap(True)

        self.model = SearchResultsModel(self)
        self.results = QTreeView()
        self.results.setAccessibleName("Results")
        self.results.setModel(self.model)
        self.results.setRootIsDecorated(False)
        self.results.setUniformRowHeights(True)
        self.results.setAlternatingRowColors(True)
        self.results.setAllColumnsShowFocus(True)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setItemDelegateForColumn(MESSAGE, SnippetDelegate(self.results))
        header = self.results.header()
        header.setAccessibleName("Result columns")
        header.setStretchLastSection(True)
        header.setSectionResizeMode(WHEN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(CONVERSATION, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(ACCOUNT, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(CONVERSATION, 150)
        header.resizeSection(ACCOUNT, 140)
        self.results.activated.connect(self._activated)
        selection = self.results.selectionModel()
        selection.currentRowChanged.connect(self._current_changed)

        self.context_view = ContextView()
        self.open_button = QPushButton("&Open conversation")
        self.open_button.setAccessibleName("Open conversation")
        self.open_button.setToolTip("Open the conversation at this message (Enter)")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_selected)
        self.context_title = QLabel(" ")
        self.context_title.setTextFormat(Qt.TextFormat.PlainText)
        self.context_title.setAccessibleName("Selected result")

        context_box = QWidget()
        context_layout = QVBoxLayout(context_box)
        context_layout.setContentsMargins(0, 0, 0, 0)
        context_head = QHBoxLayout()
        context_head.addWidget(self.context_title, 1)
        context_head.addWidget(self.open_button)
        context_layout.addLayout(context_head)
        context_layout.addWidget(self.context_view, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.results)
        self.splitter.addWidget(context_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_query)
        self.query.textChanged.connect(lambda _t: self._timer.start())
        self.query.returnPressed.connect(self.run_query)
        self.filter_bar.changed.connect(self._timer.start)

        find = QAction("Find", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.focus_query)
        self.addAction(find)
        QWidget.setTabOrder(self.results, self.open_button)
        QWidget.setTabOrder(self.open_button, self.context_view)

        # The person filter follows the buddy list (merges, renames, new contacts) while open.
        self._choices_timer = QTimer(self)
        self._choices_timer.setSingleShot(True)
        self._choices_timer.setInterval(CHOICES_DELAY_MS)
        self._choices_timer.timeout.connect(self._reload_if_shown)
        for signal in (ctx.bridge.person_added, ctx.bridge.person_updated, ctx.bridge.person_removed):
            signal.connect(lambda _e: self._choices_timer.start())
        self.resize(900, 640)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Escape (not taken by a child: an open popup, the completer) closes the window."""
        if event.key() == Qt.Key.Key_Escape and not event.modifiers():
            self.close()
            return
        super().keyPressEvent(event)

    # -- showing ------------------------------------------------------------------------------------

    def reload_choices(self) -> None:
        """Read the persons and accounts for the filters (on the engine thread)."""
        self._ctx.bridge.run(self._ctx.app.search_filter_choices, self._choices_loaded)

    def _reload_if_shown(self) -> None:
        if self.isVisible():
            self.reload_choices()

    def _choices_loaded(self, choices: FilterChoices | None, error: BaseException | None) -> None:
        if error is not None or choices is None:
            log.warning("Could not read the persons and accounts for the filters: %s", error)
            return
        self.filter_bar.set_choices(choices)

    def focus_query(self) -> None:
        self.query.setFocus()
        self.query.selectAll()

    def focus_results(self) -> None:
        if self.model.rowCount() == 0:
            return
        self.results.setFocus()
        if not self.results.currentIndex().isValid():
            self.results.setCurrentIndex(self.model.index(0, 0))

    # -- searching ----------------------------------------------------------------------------------

    def run_query(self) -> None:
        self._timer.stop()
        text = self.query.text()
        self._generation += 1
        generation = self._generation
        try:
            filters = self.filter_bar.filters()
        except FilterError as exc:
            self._set_status(str(exc), error=not exc.partial)
            if not exc.partial:  # still typing a name: the results stay until it is chosen
                self._clear_results()
            return
        if not text.strip() and filters == SearchFilters():
            self._set_status(" ")
            self._clear_results()
            return
        self._set_status("Searching…")
        app = self._ctx.app
        self._ctx.bridge.run(
            lambda: run_search(app, text, filters, LIMIT),
            lambda answer, err: self._show(generation, answer, err),
        )

    def _show(self, generation: int, answer: SearchAnswer | None, error: BaseException | None) -> None:
        if generation != self._generation:
            return  # a newer query is under way: this answer is stale
        if isinstance(error, SearchError):
            self._set_status(str(error), error=True)
            self._clear_results()
            return
        if error is not None or answer is None:
            log.warning("The search failed: %s", error)
            self._set_status(f"The search failed: {error}", error=True)
            self._clear_results()
            return
        previous = self.selected()
        self.model.set_rows(answer.rows)
        n = len(answer.rows)
        if n == 0:
            self._set_status(NO_RESULTS)
        elif answer.more:
            self._set_status(f"The newest {n} results (there are more: narrow the search)")
        else:
            self._set_status("1 result" if n == 1 else f"{n} results")
        keep = next((i for i, r in enumerate(answer.rows) if previous and r.message.id == previous.message.id), None)
        if keep is not None:
            self.results.setCurrentIndex(self.model.index(keep, 0))
        else:
            self._show_context(None)

    def _clear_results(self) -> None:
        self.model.set_rows([])
        self._show_context(None)

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    # -- the selected result ------------------------------------------------------------------------

    def selected(self) -> ResultRow | None:
        index = self.results.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_context(self.model.row(current.row()) if current.isValid() else None)

    def _show_context(self, row: ResultRow | None) -> None:
        self._context_generation += 1
        generation = self._context_generation
        self.open_button.setEnabled(row is not None and row.person_id is not None)
        if row is None:
            self.context_title.setText(" ")
            self.context_view.show_context(None)
            return
        where = f"with {row.conversation}" if row.person_id is not None else f"in {row.conversation}"
        self.context_title.setText(f"{where} on {row.account}")
        app, message_id = self._ctx.app, row.message.id
        self._ctx.bridge.run(
            lambda: app.message_context(message_id, CONTEXT),
            lambda ctx, err: self._context_loaded(generation, ctx, err),
        )

    def _context_loaded(self, generation: int, answer: ContextAnswer | None, error: BaseException | None) -> None:
        if generation != self._context_generation:
            return
        if error is not None:
            log.warning("Could not read the context of a result: %s", error)
        if answer is None:
            self.context_view.show_context(None)
        else:
            self.context_view.show_context(answer.context, answer.names)

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.results.setCurrentIndex(index)
            self.open_selected()

    def open_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        if row.person_id is None:
            self._set_status(f"{row.conversation} is a room: its messages around this one are shown below")
            return
        self.open_message.emit(row.person_id, row.message.id)
