"""Choosing the person to merge into (a filtered list), and confirming a merge (both sides' contacts)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aggregator.app.rows import PersonRow
from aggregator.app.types import PersonId
from ui.models.roster_model import SPHERE_TITLES

PERSON_ID_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_LISTED = 6


def contacts_text(row: PersonRow) -> str:
    """The person's contacts, one per line ("handle on account"), at most ``MAX_LISTED``."""
    lines = [f"{c.ref.handle} on {c.account}" for c in row.contacts[:MAX_LISTED]]
    if len(row.contacts) > MAX_LISTED:
        lines.append(f"and {len(row.contacts) - MAX_LISTED} more")
    return "\n".join(lines)


def merge_summary(source: PersonRow, target: PersonRow) -> str:
    return (
        f"{_titled(source)}:\n{_indent(contacts_text(source))}\n\n"
        f"will become part of {_titled(target)}:\n{_indent(contacts_text(target))}"
    )


def _titled(row: PersonRow) -> str:
    return f"{row.name} ({SPHERE_TITLES[row.sphere]})"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _contacts_html(row: PersonRow) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in contacts_text(row).splitlines())
    return f"<p>{html.escape(_titled(row))}:</p><ul>{items}</ul>"


def confirm_merge(parent: QWidget | None, source: PersonRow, target: PersonRow) -> QMessageBox:
    """A window-modal question, opened (not run); ``accepted`` when the user chose Merge.

    Names and addresses come from servers: they are escaped, never taken as markup."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Merge persons")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(f"<p>Merge <b>{html.escape(source.name)}</b> into <b>{html.escape(target.name)}</b>?</p>")
    box.setInformativeText(_contacts_html(source) + _contacts_html(target) + "<p>You can split them again later.</p>")
    box.setAccessibleName("Confirm merge")
    merge = box.addButton("Merge", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(merge)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    box.finished.connect(box.deleteLater)
    box.open()
    return box


class MergeChooser(QDialog):
    """Merge ``source`` into which person? Type to filter; Enter or "Merge" takes the selected one."""

    chosen = Signal(int)  # the person to merge into

    def __init__(self, source: PersonRow, candidates: Sequence[PersonRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self._rows = {r.id: r for r in candidates if r.id != source.id}
        self.setWindowTitle(f"Merge {source.name} into…")
        self.setAccessibleName("Merge into")
        self.setWindowModality(Qt.WindowModality.WindowModal)

        intro = QLabel(f"Merge {source.name} into which person?")
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name or address")
        self.filter.setAccessibleName("Filter persons")
        self.filter.setClearButtonEnabled(True)

        self.items = QStandardItemModel(self)
        same = source.name.casefold()
        for row in sorted(self._rows.values(), key=lambda r: (r.name.casefold() != same, r.name.casefold(), r.id)):
            handles = ", ".join(f"{c.ref.handle} on {c.account}" for c in row.contacts)
            item = QStandardItem(f"{row.name}  ({SPHERE_TITLES[row.sphere]})  —  {handles}")
            item.setData(row.id, PERSON_ID_ROLE)
            item.setToolTip(contacts_text(row))
            item.setEditable(False)
            self.items.appendRow(item)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.items)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.list = QListView()
        self.list.setAccessibleName("Persons")
        self.list.setModel(self.proxy)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.detail = QLabel()
        self.detail.setAccessibleName("What the merge does")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.merge_button: QPushButton = self.buttons.addButton("Merge", QDialogButtonBox.ButtonRole.AcceptRole)
        self.merge_button.setAccessibleName("Merge")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.buttons)

        self.filter.textChanged.connect(self._filter)
        self.filter.returnPressed.connect(self._accept)
        self.filter.installEventFilter(self)
        self.list.selectionModel().currentChanged.connect(lambda *_a: self._update())
        self.list.doubleClicked.connect(lambda _i: self._accept())
        self.resize(460, 420)
        self._filter("")

    def selected(self) -> PersonId | None:
        index = self.list.currentIndex()
        return int(index.data(PERSON_ID_ROLE)) if index.isValid() else None

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(" ".join(text.split()))
        if not self.list.currentIndex().isValid() and self.proxy.rowCount():
            self.list.setCurrentIndex(self.proxy.index(0, 0))
        self._update()

    def _update(self) -> None:
        pid = self.selected()
        self.merge_button.setEnabled(pid is not None)
        self.detail.setText(
            merge_summary(self.source, self._rows[pid]) if pid is not None else "No person matches the filter."
        )

    def _accept(self) -> None:
        pid = self.selected()
        if pid is None:
            return
        self.chosen.emit(pid)
        self.accept()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up and Down in the filter move through the list, so the keyboard never has to leave it."""
        if watched is self.filter and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(Qt.Key(event.key()))
            if step is not None and self.proxy.rowCount():
                row = self.list.currentIndex().row() + step if self.list.currentIndex().isValid() else 0
                row = max(0, min(self.proxy.rowCount() - 1, row))
                self.list.setCurrentIndex(self.proxy.index(row, 0, QModelIndex()))
                return True
        return super().eventFilter(watched, event)
