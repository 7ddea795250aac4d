"""A conversation opened at a message (a search hit): the page around it, newer pages as the user
scrolls down, and "Jump to latest" back to the newest messages.

It drives a tab's ``ConversationModel`` and ``MessageView``; the pages are read on the engine thread.
An answer for an older request (the user jumped again meanwhile) is dropped.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QPushButton

from aggregator.app.types import PersonId, StoredMessage
from ui.context import UiContext
from ui.message_view import MessageView
from ui.models.conversation_model import ConversationModel

log = logging.getLogger(__name__)

AROUND = 25  # messages before and after the hit


class TimelineWindow(QObject):
    def __init__(
        self,
        ctx: UiContext,
        person_id: PersonId,
        model: ConversationModel,
        view: MessageView,
        page: int,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._person_id = person_id
        self._model = model
        self._view = view
        self._page = page
        self._generation = 0
        self.latest_button = QPushButton("Jump to latest ↓")
        self.latest_button.setAccessibleName("Jump to latest")
        self.latest_button.setToolTip("Show the newest messages of this conversation")
        self.latest_button.clicked.connect(self.jump_to_latest)
        self.latest_button.hide()
        model.newer_wanted.connect(self._load_newer)
        model.modelReset.connect(self._update_button)
        model.rowsInserted.connect(self._update_button)
        model.missed_changed.connect(self._update_button)

    # -- opening at a message -----------------------------------------------------------------------

    def open_at(self, message_id: int) -> None:
        self._generation += 1
        generation = self._generation
        app, pid = self._ctx.app, self._person_id

        def load() -> list[StoredMessage]:
            return app.person_history_around(pid, message_id, before=AROUND, after=AROUND)

        self._ctx.bridge.run(load, lambda page, err: self._opened(generation, message_id, page, err))

    def _opened(
        self, generation: int, message_id: int, page: list[StoredMessage] | None, error: BaseException | None
    ) -> None:
        if generation != self._generation:
            return
        if error is not None or page is None:
            log.warning("Could not load the conversation around message %s: %s", message_id, error)
            return
        ids = [m.id for m in page]
        before = sum(1 for i in ids if i < message_id)
        after = sum(1 for i in ids if i > message_id)
        self._view.newer_paging = False  # placing the window scrolls: that must not load pages
        self._model.show_window(page, has_older=before >= AROUND, has_newer=after >= AROUND)
        self._view.highlight(message_id)
        # Once the tab is laid out (it may just have been created), scroll again to the right place.
        QTimer.singleShot(0, lambda: self._placed(generation, message_id))

    def _placed(self, generation: int, message_id: int) -> None:
        if generation == self._generation:
            self._view.highlight(message_id)
            self._view.allow_newer_paging()

    def jump_to_latest(self) -> None:
        self._generation += 1
        generation = self._generation
        app, pid, page = self._ctx.app, self._person_id, self._page

        def load() -> list[StoredMessage]:
            return app.person_history(pid, limit=page)

        self._ctx.bridge.run(load, lambda rows, err: self._latest(generation, rows, err))

    def _latest(self, generation: int, rows: list[StoredMessage] | None, error: BaseException | None) -> None:
        if generation != self._generation:
            return
        if error is not None or rows is None:
            log.warning("Could not load the newest messages of person %s: %s", self._person_id, error)
            return
        self._model.show_window(rows, has_older=len(rows) >= self._page, has_newer=False)
        self._view.newer_paging = True
        self._view.highlight(None)
        self._view.scroll_to_end()
        QTimer.singleShot(0, self._view.scroll_to_end)

    # -- paging forwards ----------------------------------------------------------------------------

    def _load_newer(self, after_id: int) -> None:
        app, pid, page = self._ctx.app, self._person_id, self._page

        def load() -> list[StoredMessage]:
            return app.person_history_after(pid, after_id, limit=page)

        self._ctx.bridge.run(load, lambda rows, err: self._newer_loaded(after_id, rows, err))

    def _newer_loaded(self, after_id: int, rows: list[StoredMessage] | None, error: BaseException | None) -> None:
        if error is not None or rows is None:
            log.warning("Could not load newer messages of person %s: %s", self._person_id, error)
            self._model.newer_failed()
            return
        self._model.append_newer(rows, has_more=len(rows) >= self._page, after_id=after_id)
        self._update_button()

    def _update_button(self, *_args: object) -> None:
        missed = self._model.missed
        self.latest_button.setText(f"Jump to latest ({missed} new) ↓" if missed else "Jump to latest ↓")
        self.latest_button.setAccessibleName(f"Jump to latest, {missed} new" if missed else "Jump to latest")
        self.latest_button.setVisible(not self._model.at_newest)
