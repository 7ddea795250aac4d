"""What a person does with files in a conversation: attach one (button, drag and drop, paste a picture),
open a clean one with the desktop's handler, save it elsewhere, view a picture, download an offered one,
cancel a transfer. Every refusal (a policy rule, a file too large for the server, a channel on IRC) is
said in the conversation's notice line, in the words the core gave.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QFileDialog, QWidget

from aggregator.api import ConversationKey
from aggregator.app.types import StoredMessage
from ui.attachment_shelf import AttachmentShelf
from ui.composer import carries_files, local_files
from ui.context import UiContext
from ui.image_viewer import ImageViewer

log = logging.getLogger(__name__)

Target = Callable[[], ConversationKey | None]


class FileDrop(QObject):
    """Files dragged from a file manager onto the conversation (the timeline) are sent."""

    def __init__(self, target: QWidget, actions: FileActions) -> None:
        super().__init__(target)
        self._actions = actions
        target.setAcceptDrops(True)
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QDragEnterEvent | QDragMoveEvent) and carries_files(event.mimeData()):
            event.acceptProposedAction()
            return True
        if isinstance(event, QDropEvent) and carries_files(event.mimeData()):
            event.acceptProposedAction()
            self._actions.send_all(local_files(event.mimeData()))
            return True
        return False


class FileActions(QObject):
    notice = Signal(str)  # a problem, for the conversation's error line ("" clears it)
    note = Signal(str)  # news that is no problem (a file saved)

    def __init__(self, ctx: UiContext, host: QWidget, shelf: AttachmentShelf, target: Target) -> None:
        super().__init__(host)
        self._ctx = ctx
        self._host = host
        self._shelf = shelf
        self._target = target
        self._pasted = Path(tempfile.mkdtemp(prefix="aggregator-paste-"))

    # -- files shown ----------------------------------------------------------------------------------------

    def act(self, action: str, attachment_id: int) -> None:
        file = self._shelf.file(attachment_id)
        app = self._ctx.app
        if action in ("open", "view", "save") and (file is None or not file.openable or file.local_path is None):
            self.notice.emit("This file cannot be opened: it is not known to be clean.")
            return
        if action == "open" and file is not None and file.local_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(file.local_path)))
        elif action == "view" and file is not None and file.local_path is not None:
            viewer = ImageViewer(str(file.local_path), file.name, self._host)
            viewer.show()
        elif action == "save" and file is not None:
            chosen, _ = QFileDialog.getSaveFileName(self._host, "Save file as", str(Path.home() / file.name))
            if chosen:
                self._ctx.bridge.call(app.save_file(attachment_id, Path(chosen)), self._saved)
        elif action == "fetch":
            self._ctx.bridge.call(app.fetch_file(attachment_id), self._fetched)
        elif action == "cancel":
            self._ctx.bridge.run(lambda: app.cancel_file(attachment_id), lambda _r, _e: None)

    def _saved(self, path: Path | None, error: BaseException | None) -> None:
        if error is not None:
            self.notice.emit(f"Could not save the file: {error}")
        else:
            self.note.emit(f"Saved {path}")

    def _fetched(self, _result: object, error: BaseException | None) -> None:
        if error is not None:
            self.notice.emit(f"Could not download the file: {error}")

    # -- sending --------------------------------------------------------------------------------------------

    def choose_and_send(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self._host, "Send a file", str(Path.home()))
        if chosen:
            self.send(Path(chosen))

    def send_all(self, paths: list[Path]) -> None:
        if not paths:
            self.notice.emit("Only files on this computer can be sent (not folders or links).")
        for path in paths:
            self.send(path)

    def send(self, path: Path, caption: str = "") -> None:
        to = self._target()
        if to is None:
            self.notice.emit("There is no contact to send the file to.")
            return
        if not path.is_file():
            self.notice.emit(f"{path.name} is not a file that can be sent (a folder?).")
            return
        self.notice.emit("")
        self._ctx.bridge.call(self._ctx.app.send_file(to, path, caption), self._sent)

    def send_image(self, image: QImage) -> None:
        """A picture pasted from the clipboard: saved as a PNG first, then sent like a file."""
        path = self._pasted / f"pasted {datetime.now():%Y-%m-%d %H.%M.%S}.png"
        if not image.save(str(path)):
            self.notice.emit("The pasted picture could not be prepared for sending.")
            return
        self.send(path)

    def _sent(self, row: StoredMessage | None, error: BaseException | None) -> None:
        if error is not None:
            self.notice.emit(f"The file was not sent: {error}")
        elif row is not None and row.error:
            self.notice.emit(f"The file was not sent: {row.error}")
