"""The window painted from the buddy-list snapshot before the core is loaded.

It looks like the main window (same geometry and splitter from ``ui.ini``, the same menu bar height,
the buddy list with its spheres and groups, the open tabs' titles) but everything in it is inert and
stale: presence is drawn as a faded dot and the names greyed, and the status line says the list is
the one last seen while the accounts connect. Once the live window has its persons it takes over this
window's geometry, selection and scroll position, is shown in its place, and this one closes
(``ui.app.adopt_preview``).

Only Qt and ``ui.snapshot`` are imported here: no core, no SQLAlchemy, no protocols.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QSettings, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QCloseEvent,
    QColor,
    QFont,
    QIcon,
    QPainter,
    QPalette,
    QPixmap,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTabWidget,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ui.snapshot import Snapshot, SnapshotPerson, age_text

PERSON_ID_ROLE = Qt.ItemDataRole.UserRole + 2
SPHERE_TITLES = {"work": "Work", "personal": "Personal"}
PRESENCE_COLOURS = {
    "available": "#3a9d23",
    "away": "#e0a500",
    "xa": "#c77c00",
    "busy": "#c8312f",
    "invisible": "#8a8a8a",
    "offline": "#b5b5b5",
}
STALE_ALPHA = 110  # the dots are faded: last known, not live


def _dot(colour: str) -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    fill = QColor(colour)
    fill.setAlpha(STALE_ALPHA)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawEllipse(3, 3, 10, 10)
    painter.end()
    return QIcon(pixmap)


class _RowHeight(QStyledItemDelegate):
    """The live list's row height (``RosterDelegate``: 1.7 lines), so nothing moves at the swap."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), int(option.fontMetrics.height() * 1.7)))


def _person_sort(p: SnapshotPerson) -> tuple[str, int]:
    return (p.name.casefold(), p.id)


class SnapshotWindow(QMainWindow):
    closed_by_user = Signal()  # closed before the live window took over: the user wants out

    def __init__(self, snapshot: Snapshot, settings_file: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.snapshot = snapshot
        self.handed_over = False
        self.user_closed = False
        #: The person the user double-clicked before the live window was there: opened once it is.
        self.wanted: int | None = None
        self.setWindowTitle("Aggregator")
        self.setAccessibleName("Aggregator")
        self.menuBar().addMenu("&Aggregator").setEnabled(False)

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name or address (Enter opens the first)")
        self.filter.setEnabled(False)
        self.model = QStandardItemModel(self)
        self.tree = QTreeView()
        self.tree.setAccessibleName("Contacts (last known, connecting)")
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setItemDelegate(_RowHeight(self.tree))
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setExpandsOnDoubleClick(False)
        self.tree.activated.connect(self._activated)
        self._items: dict[int, QStandardItem] = {}
        self._fill(snapshot)
        self.tree.setModel(self.model)
        self.tree.expandAll()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 6)
        left_layout.addWidget(self.filter)
        left_layout.addWidget(self.tree, 1)
        left_layout.addWidget(self._status_row())

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)  # as the live tabs: the same tab widths
        self.tabs.setEnabled(False)
        self.tabs.setAccessibleName("Conversations")
        for tab in snapshot.tabs:
            page = QLabel("Loading…")
            page.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.tabs.addTab(page, tab.title)
        if 0 <= snapshot.current_tab < self.tabs.count():
            self.tabs.setCurrentIndex(snapshot.current_tab)
        placeholder = QLabel("Double-click a person (or filter and press Enter) to start a conversation.")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        placeholder.setWordWrap(True)
        right = QStackedWidget()
        right.addWidget(placeholder)
        right.addWidget(self.tabs)
        right.setCurrentWidget(self.tabs if snapshot.tabs else placeholder)

        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 600])
        self.setCentralWidget(self.splitter)
        self.status = QLabel(f"Connecting… the buddy list {age_text(snapshot)}")
        self.status.setAccessibleName("Connecting")
        self.statusBar().addWidget(self.status, 1)
        self._restore(settings_file)

    # -- building ---------------------------------------------------------------------------------

    def _fill(self, snapshot: Snapshot) -> None:
        icons = {kind: _dot(colour) for kind, colour in PRESENCE_COLOURS.items()}
        unknown = _dot(PRESENCE_COLOURS["offline"])
        stale = QBrush(self.palette().color(QPalette.ColorRole.PlaceholderText))
        bold = QFont(self.font())
        bold.setBold(True)
        root = self.model.invisibleRootItem()
        for sphere in ("work", "personal"):
            members = sorted((p for p in snapshot.persons if p.sphere == sphere), key=_person_sort)
            online = sum(1 for p in members if p.presence != "offline")
            sphere_item = QStandardItem(f"{SPHERE_TITLES[sphere]}  ({online}/{len(members)})")
            sphere_item.setFont(bold)
            sphere_item.setEditable(False)
            groups: dict[str, QStandardItem] = {}
            loose: list[QStandardItem] = []
            for person in members:
                for name in dict.fromkeys(person.groups) or ("",):
                    item = self._person_item(person, icons.get(person.presence, unknown), stale, bold)
                    if not name:
                        loose.append(item)
                        continue
                    group = groups.get(name)
                    if group is None:
                        group = groups[name] = QStandardItem(name)
                        group.setEditable(False)
                    group.appendRow(item)
            for name in sorted(groups, key=str.casefold):
                sphere_item.appendRow(groups[name])
            for item in loose:
                sphere_item.appendRow(item)
            root.appendRow(sphere_item)

    @staticmethod
    def _status_row() -> QWidget:
        """Where the live window has its status box: the same height, inert, so the list keeps its height."""
        box = QWidget()
        combo = QComboBox()
        combo.addItem("Connecting…")
        scopes = QToolButton()
        scopes.setText("Scopes")
        message = QLineEdit()
        message.setPlaceholderText("Status message (Enter sets it)")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(combo, 1)
        row.addWidget(scopes)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(row)
        layout.addWidget(message)
        box.setEnabled(False)
        return box

    def _person_item(self, person: SnapshotPerson, icon: QIcon, stale: QBrush, bold: QFont) -> QStandardItem:
        text = f"{person.name}  ({person.unread})" if person.unread else person.name
        item = QStandardItem(icon, text)
        item.setEditable(False)
        item.setForeground(stale)
        if person.unread:
            item.setFont(bold)
        item.setData(person.id, PERSON_ID_ROLE)
        item.setToolTip(f"{person.name}: {person.presence} (last known, connecting)")
        self._items.setdefault(person.id, item)
        return item

    def _restore(self, settings_file: Path | None) -> None:
        """The main window's own geometry and splitter (same keys in ui.ini), so the swap does not move."""
        if settings_file is not None and settings_file.exists():
            settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
            geometry = settings.value("main/geometry")
            if geometry is not None:
                self.restoreGeometry(geometry)
            else:
                self.resize(960, 620)
            splitter = settings.value("main/splitter")
            if splitter is not None:
                self.splitter.restoreState(splitter)
        else:
            self.resize(960, 620)

    def restore_view(self) -> None:
        """Select and scroll to where the list was when the snapshot was taken."""
        selected = self._items.get(self.snapshot.selected) if self.snapshot.selected is not None else None
        if selected is not None:
            self.tree.setCurrentIndex(selected.index())  # scrolls it into view: the top comes last
        top = self._items.get(self.snapshot.top) if self.snapshot.top is not None else None
        if top is not None:
            self.tree.scrollTo(top.index(), QAbstractItemView.ScrollHint.PositionAtTop)

    # -- handing over -----------------------------------------------------------------------------

    def _activated(self, index: QModelIndex) -> None:
        person = self.person_at(index)
        if person is not None:
            self.wanted = person
            self.status.setText("Connecting… the conversation opens in a moment")

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        if not self.handed_over:
            self.user_closed = True
            self.closed_by_user.emit()

    def person_at(self, index: QModelIndex) -> int | None:
        value = index.data(PERSON_ID_ROLE) if index.isValid() else None
        return int(value) if value is not None else None

    def view_state(self) -> tuple[int | None, int | None]:
        """(selected person, person at the top of the visible list) as the user left them here."""
        top = self.person_at(self.tree.indexAt(QPoint(4, 4)))
        return self.person_at(self.tree.currentIndex()), top


_offered: list[SnapshotWindow] = []


def offer_preview(window: SnapshotWindow) -> None:
    """The light start hands its painted window to the full start (``ui.app.launch``)."""
    _offered[:] = [window]


def take_preview() -> SnapshotWindow | None:
    return _offered.pop() if _offered else None
