"""The files of the messages one conversation view shows, kept up to date.

A page of history (the first one, an older one, a model reset) asks the application layer once for the
files of its messages; a live message needs no question: its files arrive as ``AttachmentChanged`` events
(then ``AttachmentProgress`` while they move), and only that message's row is written again.
"""

from __future__ import annotations

import logging
from collections import deque

from PySide6.QtCore import QModelIndex, QObject, QTimer

from aggregator.app.files import StoredAttachment
from aggregator.events import AttachmentChanged, AttachmentProgress, MessageStored
from ui.context import UiContext
from ui.file_cards import FileView, file_view
from ui.message_view import MessageView
from ui.models.conversation_model import ConversationModel

log = logging.getLogger(__name__)

#: How many live message ids are remembered (their files come as events, not by asking).
LIVE_MEMORY = 2000


class AttachmentShelf(QObject):
    def __init__(self, ctx: UiContext, view: MessageView, model: ConversationModel) -> None:
        super().__init__(view)
        self._ctx = ctx
        self._view = view
        self._model = model
        self._files: dict[int, dict[int, FileView]] = {}  # message id -> attachment id -> file
        self._live: deque[int] = deque(maxlen=LIVE_MEMORY)
        self._asked: set[int] = set()
        self._by_event: set[int] = set()  # attachments an event described: newer than any page's answer
        view.files_of = self.files_of
        ctx.bridge.attachment_changed.connect(self._changed)
        ctx.bridge.attachment_progress.connect(self._progress)
        ctx.bridge.message_stored.connect(self._stored)
        model.modelReset.connect(self._load_shown)
        model.rowsInserted.connect(self._inserted)
        self._load_shown()

    def files_of(self, message_id: int) -> list[FileView]:
        return list(self._files.get(message_id, {}).values())

    def file(self, attachment_id: int) -> FileView | None:
        for files in self._files.values():
            if attachment_id in files:
                return files[attachment_id]
        return None

    # -- events ---------------------------------------------------------------------------------------------

    def _stored(self, event: MessageStored) -> None:
        self._live.append(event.message.id)

    def _changed(self, event: AttachmentChanged) -> None:
        stored = event.attachment
        if self._model.row_of(stored.message_id) is None and stored.message_id not in self._live:
            return  # another conversation's file
        self._by_event.add(stored.id)
        self._put(stored)
        self._view.rewrite_message(stored.message_id)

    def _progress(self, event: AttachmentProgress) -> None:
        files = self._files.get(event.message_id)
        current = files.get(event.attachment_id) if files else None
        if files is None or current is None:
            return
        files[event.attachment_id] = FileView(
            current.id,
            current.message_id,
            current.name,
            current.size,
            current.mime_type,
            current.state,
            current.reason,
            current.local_path,
            event.done,
        )
        self._view.rewrite_message(event.message_id)

    def _put(self, stored: StoredAttachment) -> None:
        self._files.setdefault(stored.message_id, {})[stored.id] = file_view(stored)

    # -- pages ----------------------------------------------------------------------------------------------

    def _inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        ids = [m.id for m in self._model.messages[first : last + 1]]
        # After this event's other handlers: a live message is then known as live (its files come as events).
        QTimer.singleShot(0, self, lambda: self._load([i for i in ids if i not in self._live]))

    def _load_shown(self) -> None:
        self._load([m.id for m in self._model.messages if m.id not in self._live])

    def _load(self, message_ids: list[int]) -> None:
        wanted = [i for i in message_ids if i not in self._asked]
        if not wanted:
            return
        self._asked.update(wanted)
        app = self._ctx.app

        def done(result: dict[int, list[StoredAttachment]] | None, error: BaseException | None) -> None:
            if error is not None or result is None:
                log.warning("Could not load the files of %d messages: %s", len(wanted), error)
                return
            for stored_list in result.values():
                for stored in stored_list:
                    if stored.id not in self._by_event:  # an answer older than the events since
                        self._put(stored)
            for message_id in result:
                self._view.rewrite_message(message_id)

        self._ctx.bridge.run(lambda: app.attachments_for(wanted), done)
