"""What the user does to persons in the buddy list: the context menu, F2, and drag and drop.

Right click, the Menu key or Shift+F10 on a person: open a conversation, rename (also F2), move to the
other sphere, move to a group (or out of one), merge into another person; on a contact row inside an
expanded person: split it into its own person. Dragging a person onto another merges them (after a
confirmation showing both and their contacts); onto a sphere or group header moves it there.

Every change runs on the engine thread through the bridge; the buddy list follows the core's person
events. A refusal (for instance the organisation's ``merge_across_spheres`` rule) is shown with its
reason. Dialogs are opened, never run modally in a nested loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QInputDialog, QLineEdit, QMenu, QMessageBox, QTreeView, QWidget

from aggregator.api import ContactRef, Sphere
from aggregator.app.rows import ContactRow, PersonRow
from aggregator.app.types import PersonId
from ui import merge_dialog
from ui.context import UiContext
from ui.merge_dialog import MergeChooser
from ui.models.roster_filter import RosterFilter
from ui.models.roster_model import CONTACT, PERSON, SPHERE_TITLES, DropKind, DropRequest, RosterModel
from ui.refusal import show_refusal

log = logging.getLogger(__name__)

OpenIndex = Callable[[QModelIndex], object]


class PersonActions(QObject):
    def __init__(
        self,
        ctx: UiContext,
        tree: QTreeView,
        model: RosterModel,
        proxy: RosterFilter,
        open_index: OpenIndex,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._tree = tree
        self._model = model
        self._proxy = proxy
        self._open_index = open_index
        self._window = parent
        self.menu: QMenu | None = None
        #: The dialog opened last (rename, group, merge chooser, merge confirmation), for tests and focus.
        self.dialog: QWidget | None = None
        #: The last refusal shown.
        self.refusal: QMessageBox | None = None
        #: More entries for the menu (the contact's own: rename, remove, block; ``ui.contact_dialog``).
        self.extend_menu: Callable[[QMenu, PersonRow, ContactRow | None], None] | None = None

        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(self._on_context_menu)
        tree.setDragEnabled(True)
        tree.setAcceptDrops(True)
        tree.setDropIndicatorShown(True)
        tree.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        tree.setDragDropOverwriteMode(True)  # a drop is on a row, never between rows
        tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        model.drop_requested.connect(self.on_drop)

        self.menu_key = self._tree_action("Person menu", [QKeySequence(Qt.Key.Key_Menu), QKeySequence("Shift+F10")])
        self.menu_key.triggered.connect(self.show_menu_for_current)
        self.rename_key = self._tree_action("Rename person", [QKeySequence(Qt.Key.Key_F2)])
        self.rename_key.triggered.connect(self._rename_current)

    def _tree_action(self, text: str, keys: list[QKeySequence]) -> QAction:
        action = QAction(text, self._tree)
        action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self._tree.addAction(action)
        return action

    # -- what is under the cursor -------------------------------------------------------------------

    def _rows_at(self, index: QModelIndex) -> tuple[PersonRow, ContactRow | None] | None:
        """The person (and the contact, on a contact row) at a proxy index of the tree."""
        if not index.isValid():
            return None
        node = self._model.node(self._proxy.mapToSource(index))
        if node.kind == PERSON:
            return node.payload, None
        if node.kind == CONTACT and node.parent is not None:
            return node.parent.payload, node.payload
        return None

    # -- the menu -----------------------------------------------------------------------------------

    def _on_context_menu(self, pos: QPoint) -> None:
        index = self._tree.indexAt(pos)
        if index.isValid():
            self._tree.setCurrentIndex(index)
            self.show_menu(index, self._tree.viewport().mapToGlobal(pos))

    def show_menu_for_current(self) -> None:
        index = self._tree.currentIndex()
        if index.isValid():
            rect = self._tree.visualRect(index)
            self.show_menu(index, self._tree.viewport().mapToGlobal(rect.bottomLeft() + QPoint(16, 0)))

    def show_menu(self, index: QModelIndex, at: QPoint) -> QMenu | None:
        menu = self.menu_for(index)
        if menu is None:
            return None
        if self.menu is not None:
            self.menu.deleteLater()
        self.menu = menu
        menu.popup(at)
        return menu

    def menu_for(self, index: QModelIndex) -> QMenu | None:
        found = self._rows_at(index)
        if found is None:
            return None
        person, contact = found
        menu = QMenu(self._tree)
        menu.setAccessibleName(f"Actions for {person.name}")
        opened = menu.addAction("&Open conversation")
        kept = QPersistentModelIndex(index)
        opened.triggered.connect(lambda: self._open_kept(kept))
        menu.setDefaultAction(opened)
        if contact is not None:
            split = menu.addAction("&Split into its own person")
            split.setEnabled(len(person.contacts) > 1)
            split.triggered.connect(lambda: self.split(contact.ref))
            if self.extend_menu is not None:
                self.extend_menu(menu, person, contact)
            return menu
        menu.addSeparator()
        rename = menu.addAction("&Rename…")
        rename.setShortcut(QKeySequence(Qt.Key.Key_F2))
        rename.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        rename.triggered.connect(lambda: self.ask_rename(person.id))
        other = Sphere.PERSONAL if person.sphere is Sphere.WORK else Sphere.WORK
        move = menu.addAction(f"Move to &{SPHERE_TITLES[other]}")
        move.triggered.connect(lambda: self.move_to_sphere(person.id, other))
        group = menu.addAction("Move to &group…")
        group.triggered.connect(lambda: self.ask_group(person.id))
        for name in person.local_groups:
            leave = menu.addAction(f"Remove from group “{name.replace('&', '&&')}”")  # "&" is not a mnemonic
            leave.triggered.connect(lambda _c=False, g=name: self.remove_from_group(person.id, g))
        menu.addSeparator()
        merge = menu.addAction("&Merge into…")
        merge.setEnabled(len(self._model.persons()) > 1)
        merge.triggered.connect(lambda: self.ask_merge(person.id))
        if self.extend_menu is not None:
            self.extend_menu(menu, person, None)
        return menu

    def _open_kept(self, kept: QPersistentModelIndex) -> None:
        if kept.isValid():
            self._open_index(self._proxy.index(kept.row(), kept.column(), kept.parent()))

    def _rename_current(self) -> None:
        found = self._rows_at(self._tree.currentIndex())
        if found is not None:
            self.ask_rename(found[0].id)

    # -- dialogs ------------------------------------------------------------------------------------

    def _show_dialog(self, dialog: QWidget) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._track(dialog)

    def _track(self, dialog: QWidget) -> None:
        self.dialog = dialog
        dialog.destroyed.connect(lambda _o=None: self._forget_dialog(dialog))

    def _forget_dialog(self, dialog: QWidget) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def ask_rename(self, person_id: PersonId) -> QInputDialog | None:
        row = self._model.person(person_id)
        if row is None:
            return None
        dialog = QInputDialog(self._window)
        dialog.setWindowTitle("Rename")
        dialog.setAccessibleName("Rename person")
        dialog.setLabelText(f"Name for {row.name} (empty: the contacts' own name):")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue(row.name)
        dialog.textValueSelected.connect(lambda text: self.rename(person_id, text) if text != row.name else None)
        self._show_dialog(dialog)
        dialog.open()
        return dialog

    def ask_group(self, person_id: PersonId) -> QInputDialog | None:
        row = self._model.person(person_id)
        if row is None:
            return None
        groups = sorted({g for p in self._model.persons() for g in p.local_groups}, key=lambda g: (g.casefold(), g))
        dialog = QInputDialog(self._window)
        dialog.setWindowTitle("Move to group")
        dialog.setAccessibleName("Move to group")
        dialog.setLabelText(f"Group for {row.name} (pick one, or type a new name):")
        dialog.setComboBoxItems(groups)
        dialog.setComboBoxEditable(True)
        dialog.setTextValue(row.local_groups[0] if row.local_groups else "")
        dialog.textValueSelected.connect(lambda text: self.move_to_group(person_id, text))
        self._show_dialog(dialog)
        dialog.open()
        return dialog

    def ask_merge(self, person_id: PersonId) -> MergeChooser | None:
        row = self._model.person(person_id)
        if row is None:
            return None
        chooser = MergeChooser(row, self._model.persons(), self._window)
        chooser.chosen.connect(lambda target: self.merge(target, person_id))
        self._show_dialog(chooser)
        chooser.open()
        return chooser

    # -- drops --------------------------------------------------------------------------------------

    def on_drop(self, request: DropRequest) -> None:
        if request.kind is DropKind.MERGE and request.target is not None:
            target = self._model.person(request.target)
            sources = [r for pid in request.persons if (r := self._model.person(pid)) is not None]
            if target is None or not sources:
                return
            for source in sources:
                self.confirm_merge(source, target)
        elif request.kind is DropKind.SPHERE and request.sphere is not None:
            for pid in request.persons:
                self.move_to_sphere(pid, request.sphere, leave_groups=True)
        elif request.kind is DropKind.GROUP and request.group is not None:
            for pid in request.persons:
                self.move_to_group(pid, request.group, request.sphere)

    def confirm_merge(self, source: PersonRow, target: PersonRow) -> QMessageBox:
        box = merge_dialog.confirm_merge(self._window, source, target)
        self._track(box)

        def clicked(button: Any) -> None:
            if box.buttonRole(button) == QMessageBox.ButtonRole.AcceptRole:
                self.merge(target.id, source.id)

        box.buttonClicked.connect(clicked)
        return box

    # -- commands (engine thread) -------------------------------------------------------------------

    def _run(self, action: str, fn: Callable[[], object]) -> None:
        def done(_result: object, error: BaseException | None) -> None:
            if error is not None:
                log.info("%s refused: %s", action, error)
                self.refusal = show_refusal(self._window, action, error)

        self._ctx.bridge.run(fn, done)

    def merge(self, into: PersonId, other: PersonId) -> None:
        app = self._ctx.app
        self._run("Merge", lambda: app.merge_persons(into, other))

    def split(self, ref: ContactRef) -> None:
        app = self._ctx.app
        self._run("Split", lambda: app.split_contact(ref))

    def rename(self, person_id: PersonId, alias: str) -> None:
        app = self._ctx.app
        self._run("Rename", lambda: app.rename_person(person_id, alias.strip() or None))

    def move_to_sphere(self, person_id: PersonId, sphere: Sphere, *, leave_groups: bool = False) -> None:
        app = self._ctx.app
        self._run(
            f"Move to {SPHERE_TITLES[sphere]}",
            lambda: app.move_person_to_sphere(person_id, sphere, leave_groups=leave_groups),
        )

    def move_to_group(self, person_id: PersonId, group: str, sphere: Sphere | None = None) -> None:
        app = self._ctx.app
        what = f"Move to the group “{group.strip()}”"
        self._run(what, lambda: app.move_person_to_group(person_id, group, sphere))

    def remove_from_group(self, person_id: PersonId, group: str) -> None:
        app = self._ctx.app
        self._run(f"Remove from the group “{group}”", lambda: app.remove_person_from_group(person_id, group))
