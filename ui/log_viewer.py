"""The log viewer: the search language of ``aggregator search``, results as you type.

Each keystroke restarts a short timer; the query then runs on the engine thread. Answers to older
queries are dropped, so a slow query never overwrites a newer one and the window never waits.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QTextBrowser, QVBoxLayout, QWidget

from aggregator.api import ContactRef, ConversationKind
from aggregator.archive.records import Direction
from aggregator.core import Core
from aggregator.roster.records import PersonId
from aggregator.search.service import SearchHit, SearchService
from ui.context import UiContext
from ui.richtext import segments_html

DEBOUNCE_MS = 150
LIMIT = 100


def _search(core: Core, text: str) -> list[SearchHit]:
    """On the engine thread (the service only wraps the archive's connection)."""
    return SearchService(core.archive).search(text, limit=LIMIT)


def _person_of_message(core: Core, message_id: int) -> PersonId | None:
    message = core.archive.get(message_id)
    if message is None or message.conversation.kind is not ConversationKind.DIRECT:
        return None
    person = core.roster.directory.person_of(ContactRef(message.account_id, message.conversation.handle))
    return None if person is None else person.id


def hit_html(hit: SearchHit) -> str:
    m = hit.message
    who = "me" if m.direction is Direction.OUT else (m.sender_name or m.sender)
    where = m.conversation.handle
    when = m.sent_at.astimezone().strftime("%Y-%m-%d %H:%M")
    head = (
        f'<a href="msg:{m.id}"><b>{html.escape(where)}</b></a> '
        f'<span style="color:#808080">{when} · {html.escape(m.account_id)}</span>'
    )
    return f"<p>{head}<br>{html.escape(who)}: {segments_html(hit.snippet)}</p>"


class LogViewer(QWidget):
    open_person = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self._ctx = ctx
        self._generation = 0
        self.setWindowTitle("Search logs")
        self.setAccessibleName("Search logs")
        self.query = QLineEdit()
        self.query.setAccessibleName("Search")
        self.query.setPlaceholderText('e.g.  release from:bob after:2024-01-01 "exact phrase"')
        self.query.setClearButtonEnabled(True)
        self.summary = QLabel(" ")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.results = QTextBrowser()
        self.results.setAccessibleName("Results")
        self.results.setOpenLinks(False)
        self.results.anchorClicked.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.summary)
        layout.addWidget(self.results, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_query)
        self.query.textChanged.connect(lambda _t: self._timer.start())
        self.query.returnPressed.connect(self.run_query)
        self.resize(720, 520)

    def run_query(self) -> None:
        self._timer.stop()
        text = self.query.text().strip()
        self._generation += 1
        generation = self._generation
        if not text:
            self.results.clear()
            self.summary.setText(" ")
            return
        core = self._ctx.core
        self._ctx.bridge.run(lambda: _search(core, text), lambda hits, err: self._show(generation, text, hits, err))

    def _show(self, generation: int, text: str, hits: list[SearchHit] | None, error: BaseException | None) -> None:
        if generation != self._generation:
            return  # a newer query is under way
        if error is not None or hits is None:
            self.summary.setText(f"{error}")
            self.results.clear()
            return
        more = "+" if len(hits) >= LIMIT else ""
        self.summary.setText(f"{len(hits)}{more} message(s) match {text!r}")
        self.results.setHtml("".join(hit_html(h) for h in hits))

    def _clicked(self, url: QUrl) -> None:
        if url.scheme() != "msg":
            return
        try:
            message_id = int(url.path())
        except ValueError:
            return
        core = self._ctx.core
        self._ctx.bridge.run(
            lambda: _person_of_message(core, message_id),
            lambda pid, _err: self.open_person.emit(pid) if pid is not None else None,
        )
