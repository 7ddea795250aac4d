"""The log viewer's results: one row per hit, newest first; columns when, conversation, account, message.

The message column's display text is plain (sender and snippet); ``SNIPPET_HTML_ROLE`` is the same
with every piece escaped and only the matched words marked, for the delegate that paints it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from aggregator.app.search_rows import ResultRow
from ui.richtext import segments_html

Index = QModelIndex | QPersistentModelIndex

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
SNIPPET_HTML_ROLE = Qt.ItemDataRole.UserRole + 2

WHEN, CONVERSATION, ACCOUNT, MESSAGE = range(4)
HEADERS = ("When", "Conversation", "Account", "Message")


def plain_snippet(row: ResultRow) -> str:
    return "".join(s.text for s in row.snippet).replace("\n", " ")


def snippet_html(row: ResultRow) -> str:
    return f"{html.escape(row.sender)}: {segments_html(row.snippet)}"


class SearchResultsModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ResultRow] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < 4:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == ROW_ROLE:
            return row
        if role == SNIPPET_HTML_ROLE:
            return snippet_html(row) if column == MESSAGE else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{HEADERS[column]}: {self._text(row, column)}"
        if role == Qt.ItemDataRole.ToolTipRole and column == MESSAGE:
            return f"{row.sender}: {plain_snippet(row)}"
        return None

    @staticmethod
    def _text(row: ResultRow, column: int) -> str:
        if column == WHEN:
            return row.message.sent_at.astimezone().strftime("%Y-%m-%d %H:%M")
        if column == CONVERSATION:
            return row.conversation
        if column == ACCOUNT:
            return row.account
        return f"{row.sender}: {plain_snippet(row)}"

    # -- feeding ------------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[ResultRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, index: int) -> ResultRow | None:
        return self._rows[index] if 0 <= index < len(self._rows) else None

    @property
    def rows(self) -> list[ResultRow]:
        return list(self._rows)
