"""What the composer's text does, the same for a person's tab and a room's: the commands (``/me``,
``/t NAME``, ``/help``, unknown ones shown locally), the protocol's length limit (refused, the text
stays), the organisation's policy (a refusal inline, a warning asked about first), and sending a failed
message of ours again (the Retry link, the row's menu, Ctrl+R: the same row goes back to pending).

The tab says where the text goes (``target``: a person's chosen contact, or the room); the account's
limit and policy notice follow it (``load_reply_info``, ``reply_info_changed``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMessageBox, QToolButton, QWidget

from aggregator.api import ConversationKey, MessageState, PolicyError
from aggregator.app.reply_info import ReplyInfo
from aggregator.app.types import ConfirmationRequiredError, Direction, StoredMessage, Template
from ui.attachment_shelf import AttachmentShelf
from ui.composer import Composer
from ui.context import UiContext
from ui.file_actions import FileActions, FileDrop
from ui.input_commands import BadCommand, InsertTemplate, SendText, ShowHelp, help_text, parse
from ui.message_view import MessageView
from ui.models.conversation_model import ConversationModel
from ui.policy_prompt import ask_to_send, refusal_text
from ui.templates_menu import TemplatesButton

log = logging.getLogger(__name__)

RETRY_KEYS = "Ctrl+R"
BANNER_STYLE = "background: #fff4c2; color: #5c4400; border: 1px solid #e0c860; padding: 4px"

#: Where the text goes now (None: nowhere yet, e.g. a person without contacts).
Target = Callable[[], ConversationKey | None]


def attach_button(parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setText("📎")
    button.setToolTip("Send a file (or drop one here, or paste a picture)")
    button.setAccessibleName("Send a file")
    return button


def policy_banner() -> QLabel:
    """The organisation's notice for the account's conversations (hidden while there is none)."""
    banner = QLabel()
    banner.setTextFormat(Qt.TextFormat.PlainText)
    banner.setWordWrap(True)
    banner.setAccessibleName("Policy notice")
    banner.setStyleSheet(BANNER_STYLE)
    banner.hide()
    return banner


class ComposerController(QObject):
    reply_info_changed = Signal(object)  # ReplyInfo: the limit and notice of the account the text goes out on

    def __init__(
        self,
        ctx: UiContext,
        host: QWidget,
        composer: Composer,
        view: MessageView,
        model: ConversationModel,
        target: Target,
    ) -> None:
        super().__init__(host)
        self._ctx = ctx
        self._host = host
        self._composer = composer
        self._model = model
        self._target = target
        self.reply_info: ReplyInfo | None = None
        self.policy_question: QMessageBox | None = None  # open while the user is asked about a warning
        self.banner = policy_banner()
        self.templates = TemplatesButton(ctx, composer, host)
        composer.add_button(self.templates)
        # Files: the timeline's cards (open, save, view, download, cancel) and the attach button.
        self.shelf = AttachmentShelf(ctx, view, model)
        self.files = FileActions(ctx, host, self.shelf, target)
        self.files.notice.connect(self._file_notice)
        self.files.note.connect(composer.show_note)
        view.file_action.connect(self.files.act)
        composer.input.files_dropped.connect(self.files.send_all)
        composer.input.image_pasted.connect(self.files.send_image)
        self.drop = FileDrop(view.viewport(), self.files)
        self.attach = attach_button(host)
        self.attach.clicked.connect(self.files.choose_and_send)
        composer.add_button(self.attach)
        composer.submitted.connect(self.send)
        view.retry_requested.connect(self.retry)
        retry_last = QShortcut(QKeySequence(RETRY_KEYS), host, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        retry_last.activated.connect(self.retry_last_failed)

    def _file_notice(self, text: str) -> None:
        if text:
            self._composer.show_error(text)
        else:
            self._composer.clear_error()

    # -- the account's limit and notice -----------------------------------------------------------

    def load_reply_info(self) -> None:
        """Read the limit and notice of the target's account (on the engine thread)."""
        to = self._target()
        if to is None:
            return
        app = self._ctx.app

        def done(info: ReplyInfo | None, error: BaseException | None) -> None:
            if error is not None or info is None:
                log.warning("Could not read the settings of %s: %s", to.account_id, error)
                return
            current = self._target()
            if current is None or current.account_id != to.account_id:
                return  # the user switched meanwhile
            self.reply_info = info
            self.banner.setText(info.banner or "")
            self.banner.setVisible(bool(info.banner))
            self._composer.set_reply_info(info)
            self.reply_info_changed.emit(info)

        self._ctx.bridge.run(lambda: app.reply_info(to.account_id), done)

    # -- sending ----------------------------------------------------------------------------------

    def send(self) -> None:
        composer = self._composer
        text = composer.text()
        to = self._target()
        if not text.strip() or to is None:
            return
        command = parse(text)
        if isinstance(command, BadCommand):
            composer.show_error(command.error)
            return
        if isinstance(command, ShowHelp):
            self._show_help(command)
            return
        if isinstance(command, InsertTemplate):
            self._insert_template(command.name)
            return
        problem = composer.over_limit()
        if problem is not None:
            composer.show_error(f"Not sent: {problem}. Shorten it or split it into several messages.")
            return
        composer.take_text()
        composer.clear_error()
        self._send(to, command, text, confirmed=False)

    def _show_help(self, command: ShowHelp) -> None:
        if command.unknown:  # the text stays: a typo to correct, or text to send with //
            self._composer.show_error(
                f"Not sent: {command.unknown} is not a command here; to send text that starts with a slash, "
                f"start it with //.\n{help_text()}"
            )
            return
        self._composer.take_text()
        self._composer.show_note(help_text())

    def _send(self, to: ConversationKey, command: SendText, text: str, *, confirmed: bool) -> None:
        coro = self._ctx.app.send(to, command.body, command.kind, confirmed=confirmed)
        self._ctx.bridge.call(coro, lambda _row, err: self._sent(to, command, text, err))

    def _sent(self, to: ConversationKey, command: SendText, text: str, error: BaseException | None) -> None:
        if error is None:
            return  # the row shows up (and changes state) through the model
        composer = self._composer
        if not composer.text():
            composer.set_text(text)  # nothing was stored: give the text back
        if isinstance(error, ConfirmationRequiredError):

            def answer(yes: bool) -> None:
                self._confirmed(to, command, text, yes)

            self.policy_question = ask_to_send(self._host, error, answer)
            return
        if isinstance(error, PolicyError):
            composer.show_error(refusal_text(error))
            return
        composer.show_error(f"Not sent: {error}")

    def _confirmed(self, to: ConversationKey, command: SendText, text: str, yes: bool) -> None:
        self.policy_question = None
        if not yes:
            self._composer.show_error("Not sent: you chose not to send it; the text is still here.")
            return
        if self._composer.text() == text:
            self._composer.take_text()
        self._composer.clear_error()
        self._send(to, command, text, confirmed=True)

    def _insert_template(self, name: str) -> None:
        app = self._ctx.app

        def done(template: Template | None, error: BaseException | None) -> None:
            if error is not None or template is None:
                self._composer.show_error(str(error))
                return
            self._composer.clear_error()
            self._composer.set_text(template.text)

        self._ctx.bridge.run(lambda: app.template(name), done)

    # -- sending a failed message again -----------------------------------------------------------

    def retry(self, message_id: int) -> None:
        """Send a failed message of ours again: the same row goes back to pending, then sent or failed."""

        def done(_row: StoredMessage | None, error: BaseException | None) -> None:
            if isinstance(error, PolicyError):
                self._composer.show_error(refusal_text(error))
            elif error is not None:
                self._composer.show_error(f"Not sent again: {error}")

        self._composer.clear_error()
        self._ctx.bridge.call(self._ctx.app.retry(message_id), done)

    def retry_last_failed(self) -> None:
        """Ctrl+R: send the newest failed message of ours again."""
        ours = (m for m in reversed(self._model.messages) if m.direction is Direction.OUT)
        failed = next((m for m in ours if m.state is MessageState.FAILED), None)
        if failed is not None:
            self.retry(failed.id)
        else:
            self._composer.show_error("No failed message to send again.")
