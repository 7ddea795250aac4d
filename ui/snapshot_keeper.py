"""Keeps the buddy-list snapshot (``ui.snapshot``) of the live window up to date.

Written at exit (``flush``) and, so that a crash still leaves a recent one, at most every
``DELAY_MS`` while the list or the tabs change. Nothing is written before the live list has loaded
(a start whose core failed must not replace a good snapshot with an empty one). The GUI thread only
copies the model's list of frozen rows and reads the tabs and the list's place; converting, encoding
and the atomic write run on a worker thread, so a busy list costs the window no file I/O.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, QPoint, QTimer
from PySide6.QtWidgets import QAbstractItemView

from aggregator.app.rows import PersonRow
from ui.main_window import MainWindow
from ui.models.roster_model import CONTACT, KIND_ROLE, PERSON, PERSON_ID_ROLE
from ui.snapshot import Snapshot, SnapshotPerson, SnapshotTab, write_snapshot

log = logging.getLogger(__name__)

DELAY_MS = 10_000


def _person_of(index: QModelIndex) -> int | None:
    """The person an index of the buddy list shows (a contact row: its person)."""
    if not index.isValid():
        return None
    kind = index.data(KIND_ROLE)
    if kind == CONTACT:
        index = index.parent()
        kind = index.data(KIND_ROLE)
    return int(index.data(PERSON_ID_ROLE)) if kind == PERSON else None


def _view(window: MainWindow) -> Snapshot:
    """The tabs and the list's place (GUI thread), without the persons."""
    pane = window.conversations
    person_tabs = {id(t): int(t.person.id) for t in pane.tabs()}
    tabs = tuple(SnapshotTab(pane.tabText(i), person_tabs.get(id(pane.widget(i)))) for i in range(pane.count()))
    return Snapshot(
        persons=(),
        tabs=tabs,
        current_tab=pane.currentIndex(),
        selected=_person_of(window.tree.currentIndex()),
        top=_person_of(window.tree.indexAt(QPoint(4, 4))),
        written_at=time.time(),
    )


def _with_persons(view: Snapshot, rows: list[PersonRow]) -> Snapshot:
    """``view`` with ``rows`` (frozen values: any thread may convert them)."""
    persons = tuple(
        SnapshotPerson(int(r.id), r.name, r.sphere.value, r.shown_groups(), r.presence.value, r.unread) for r in rows
    )
    return replace(view, persons=persons)


def capture(window: MainWindow) -> Snapshot:
    """What the window shows now, as a snapshot."""
    return _with_persons(_view(window), window.model.persons())


def restore_view(window: MainWindow, selected: int | None, top: int | None) -> None:
    """Select ``selected`` and scroll ``top`` to the top of the live list (the preview's state)."""
    for person_id, select in ((selected, True), (top, False)):  # selecting scrolls: the top last
        if person_id is None:
            continue
        index = window.proxy.mapFromSource(window.model.person_index(person_id))
        if not index.isValid():
            continue
        if select:
            window.tree.setCurrentIndex(index)
        else:
            window.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)


def view_state(window: MainWindow) -> tuple[int | None, int | None]:
    """(selected person, person at the top of the visible list) of the live list."""
    return _person_of(window.tree.currentIndex()), _person_of(window.tree.indexAt(QPoint(4, 4)))


class ViewAcrossResets(QObject):
    """Keeps the list's selection and scroll position across a model reset (the rooms' load resets
    the whole buddy list a moment after the persons': without this the list would jump to the top
    and drop the selection just after the live window replaced the snapshot).

    The state is noted a turn after each scroll or selection change (when the view is laid out: at
    ``modelAboutToBeReset`` the tree can no longer say which row is at its top)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.state: tuple[int | None, int | None] = (None, None)
        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.setInterval(0)
        self._note_timer.timeout.connect(self.note)
        window.tree.verticalScrollBar().valueChanged.connect(self._note_timer.start)
        selection = window.tree.selectionModel()
        if selection is not None:
            selection.currentChanged.connect(self._note_timer.start)
        # Connected after MainWindow's own: the containers are expanded again before this runs.
        window.proxy.modelReset.connect(self._after)

    def note(self) -> None:
        self.state = view_state(self._window)

    def restore(self, selected: int | None, top: int | None) -> None:
        """Select ``selected``, scroll ``top`` to the top, and keep them across the next resets."""
        self.state = (selected, top)
        restore_view(self._window, selected, top)
        self._note_timer.stop()  # what it would note now is what was just set

    def _after(self) -> None:
        self.restore(*self.state)


class SnapshotKeeper(QObject):
    def __init__(self, window: MainWindow, path: Path, delay_ms: int | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.path = path
        self._live = False
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS if delay_ms is None else delay_ms)
        self._timer.timeout.connect(self.write_soon)
        window.feed.loaded.connect(self._on_loaded)
        model = window.model
        for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved, model.modelReset, model.layoutChanged):
            signal.connect(self._changed)
        window.conversations.currentChanged.connect(self._changed)
        window.conversations.tabBar().tabMoved.connect(self._changed)

    def _on_loaded(self, *_args: object) -> None:
        self._live = not self._closed
        self._changed()

    def _changed(self, *_args: object) -> None:
        # A throttle, not a debounce: a list that never stops changing (a busy room's unread
        # counts) is still written every DELAY_MS.
        if self._live and not self._timer.isActive():
            self._timer.start()

    def write_soon(self) -> None:
        """Take the snapshot now and write it on the worker thread."""
        if not self._live or self._closed:
            return
        # The GUI thread only copies the list of frozen rows (~1 ms for 10,000); the worker converts.
        view, rows = _view(self.window), self.window.model.persons()
        self._pool.submit(lambda: self._write(_with_persons(view, rows)))

    def _write(self, snapshot: Snapshot) -> None:
        try:
            write_snapshot(self.path, snapshot)
        except OSError as exc:
            log.warning("Could not write the buddy-list snapshot %s: %s", self.path, exc)

    def flush(self) -> None:
        """At exit: the last snapshot, written before this returns (once the live list has loaded)."""
        self._timer.stop()
        if self._live and not self._closed:
            self._pool.submit(self._write, capture(self.window))
        self._closed = True
        self._live = False
        self._pool.shutdown(wait=True)
