"""What the accessibility audit checks: every control a user can operate has a name assistive
technology can read (its accessible name, or what Qt derives from its text or a label's buddy)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QAccessibleInterface
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

INTERACTIVE = (
    QAbstractButton,  # push and tool buttons, check boxes, radio buttons
    QLineEdit,
    QComboBox,
    QAbstractItemView,  # lists, trees, tables
    QAbstractSpinBox,
    QTabBar,
    QPlainTextEdit,
    QTextEdit,
)


def _internal(widget: QWidget) -> bool:
    """Parts Qt builds inside another control (and names itself, or that the control stands for)."""
    if widget.objectName().startswith("qt_"):  # e.g. the menu bar's overflow button
        return True
    parent = widget.parentWidget()
    if isinstance(widget, QLineEdit) and isinstance(parent, QAbstractSpinBox | QComboBox):
        return True
    if isinstance(widget, QAbstractItemView) and _inside(widget, QComboBox):
        return True  # a combo box's popup list
    # The clear button of a line edit; a tab bar's close and scroll buttons.
    return isinstance(widget, QAbstractButton) and isinstance(parent, QLineEdit | QTabBar)


def _inside(widget: QWidget, kind: type[QWidget]) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, kind):
            return True
        parent = parent.parentWidget()
    return False


def accessible_name(widget: QWidget) -> str:
    interface: QAccessibleInterface | None = QAccessible.queryAccessibleInterface(widget)
    derived = interface.text(QAccessible.Text.Name) if interface is not None else ""
    return (widget.accessibleName() or derived or "").strip()


def unnamed_controls(root: QWidget) -> list[str]:
    """Every interactive widget under ``root`` (itself included) without a name, described."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        hidden = widget.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide) and widget.isHidden()
        if isinstance(widget, INTERACTIVE) and not hidden and not _internal(widget) and not accessible_name(widget):
            path = []
            w: QWidget | None = widget
            while w is not None and w is not root:
                path.append(type(w).__name__ + (f"#{w.objectName()}" if w.objectName() else ""))
                w = w.parentWidget()
            found.append(" < ".join(path))
    return found
